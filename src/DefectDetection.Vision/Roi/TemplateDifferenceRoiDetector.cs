using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Pipeline;

namespace DefectDetection.Vision.Roi;

/// <summary>Options of <see cref="TemplateDifferenceRoiDetector"/>.</summary>
public sealed class TemplateDifferenceOptions
{
    /// <summary>Largest shift (pixels, each axis) searched when aligning the image to the reference. Default: 4.</summary>
    public int MaxShift { get; init; } = 4;

    /// <summary>
    /// Positional tolerance in pixels: a pixel differs only if it differs from every reference pixel within this
    /// radius, so that edges off by a pixel are not defects. Default: 1.
    /// </summary>
    public int Tolerance { get; init; } = 1;

    /// <summary>Grey-level difference (0-255) above which a pixel differs. Default: 64.</summary>
    public int DifferenceThreshold { get; init; } = 64;

    /// <summary>Smallest region kept, in differing pixels. Default: 8.</summary>
    public int MinArea { get; init; } = 8;

    /// <summary>Regions closer than this many pixels are merged into one. Default: 6.</summary>
    public int MergeDistance { get; init; } = 6;

    /// <summary>Pixels added around each region's box. Default: 2.</summary>
    public int BoxMargin { get; init; } = 2;

    internal void Validate()
    {
        if (MaxShift is < 0 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxShift), $"MaxShift must be in [0, 64], got {MaxShift}.");
        }

        if (Tolerance is < 0 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), $"Tolerance must be in [0, 8], got {Tolerance}.");
        }

        if (DifferenceThreshold is < 1 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(DifferenceThreshold), $"DifferenceThreshold must be in [1, 255], got {DifferenceThreshold}.");
        }

        if (MinArea < 1 || MergeDistance < 0 || BoxMargin < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MinArea), "MinArea must be positive; MergeDistance and BoxMargin non-negative.");
        }
    }
}

/// <summary>
/// Finds where an image differs from a golden reference of the same product: aligns the two (translation search),
/// compares each pixel with the reference's range in a small neighbourhood (so one-pixel edge shifts are
/// tolerated), and groups differing pixels into candidate boxes. Each region's label says whether the image is
/// <c>darker</c> or <c>brighter</c> than the reference there; its score is the fraction of differing pixels in the
/// box. Usable for any product with a reference image (PCBs, labels, printed parts). Thread-safe.
/// </summary>
public sealed class TemplateDifferenceRoiDetector : ITileableRoiDetector
{
    /// <summary>Label of regions where the image is darker than the reference.</summary>
    public const string Darker = "darker";

    /// <summary>Label of regions where the image is brighter than the reference.</summary>
    public const string Brighter = "brighter";

    private readonly TemplateDifferenceOptions _options;
    private readonly Image? _reference;

    /// <summary>Creates a detector that compares images with one fixed reference.</summary>
    /// <param name="reference">The golden image (kept; do not dispose it while the detector is used), or null when
    /// every call passes its own reference to <see cref="Detect(ImageView, ImageView, CancellationToken)"/>.</param>
    /// <param name="options">Tolerances and thresholds.</param>
    public TemplateDifferenceRoiDetector(Image? reference, TemplateDifferenceOptions? options = null)
    {
        _options = options ?? new TemplateDifferenceOptions();
        _options.Validate();
        _reference = reference;
    }

    /// <inheritdoc />
    public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default) =>
        _reference is null
            ? throw new InvalidOperationException("This detector has no fixed reference: call Detect(image, reference).")
            : Detect(image, _reference, cancellationToken);

    /// <inheritdoc />
    public int MinimumTileOverlap => (2 * (_options.MaxShift + _options.Tolerance + _options.MergeDistance + _options.BoxMargin)) + 64;

    /// <inheritdoc />
    /// <remarks>Compares the tile with the same part of the fixed reference (aligned on the tile alone).</remarks>
    public IReadOnlyList<RegionOfInterest> DetectTile(ImageView image, Rectangle tile, CancellationToken cancellationToken = default)
    {
        if (_reference is null)
        {
            throw new InvalidOperationException("This detector has no fixed reference: call Detect(image, reference).");
        }

        if (image.Width != _reference.Width || image.Height != _reference.Height)
        {
            throw new ArgumentException($"The image ({image.Width}x{image.Height}) and the reference ({_reference.Width}x{_reference.Height}) differ in size.", nameof(image));
        }

        IReadOnlyList<RegionOfInterest> found = Detect(image.Slice(tile), _reference.View(tile), cancellationToken);
        RegionOfInterest[] moved = new RegionOfInterest[found.Count];
        for (int i = 0; i < moved.Length; i++)
        {
            Rectangle b = found[i].Box;
            moved[i] = found[i] with { Box = new Rectangle(b.X + tile.X, b.Y + tile.Y, b.Width, b.Height) };
        }

        return moved;
    }

    /// <summary>Finds the regions where <paramref name="image"/> differs from <paramref name="reference"/>.</summary>
    public IReadOnlyList<RegionOfInterest> Detect(ImageView image, ImageView reference, CancellationToken cancellationToken = default)
    {
        if (image.Width != reference.Width || image.Height != reference.Height)
        {
            throw new ArgumentException($"The image ({image.Width}x{image.Height}) and the reference ({reference.Width}x{reference.Height}) differ in size.", nameof(reference));
        }

        int w = image.Width, h = image.Height;
        byte[] test = ToGray(image), refGray = ToGray(reference);
        (int sx, int sy) = Align(test, refGray, w, h, _options.MaxShift);
        cancellationToken.ThrowIfCancellationRequested();

        int r = _options.Tolerance;
        byte[] lo = MinMaxFilter(refGray, w, h, r, min: true), hi = MinMaxFilter(refGray, w, h, r, min: false);
        sbyte[] diff = new sbyte[w * h]; // +1 brighter, -1 darker, 0 same
        int t = _options.DifferenceThreshold;
        for (int y = 0; y < h; y++)
        {
            int ry = y + sy;
            for (int x = 0; x < w; x++)
            {
                int rx = x + sx;
                if ((uint)rx >= (uint)w || (uint)ry >= (uint)h)
                {
                    continue;
                }

                int v = test[(y * w) + x];
                int j = (ry * w) + rx;
                if (v - hi[j] > t)
                {
                    diff[(y * w) + x] = 1;
                }
                else if (lo[j] - v > t)
                {
                    diff[(y * w) + x] = -1;
                }
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Group(diff, w, h);
    }

    private List<RegionOfInterest> Group(sbyte[] diff, int w, int h)
    {
        byte[] mask = new byte[diff.Length];
        for (int i = 0; i < diff.Length; i++)
        {
            mask[i] = diff[i] != 0 ? (byte)1 : (byte)0;
        }

        int[] label = new int[w * h];
        List<(int X0, int Y0, int X1, int Y1, int Count, int Sign)> comps = [];
        foreach (ConnectedComponent c in ConnectedComponents.Label(mask, w, h, label))
        {
            int sign = 0;
            for (int y = c.Bounds.Y; y < c.Bounds.Bottom; y++)
            {
                for (int x = c.Bounds.X; x < c.Bounds.Right; x++)
                {
                    int p = (y * w) + x;
                    if (label[p] == c.Label)
                    {
                        sign += diff[p];
                    }
                }
            }

            comps.Add((c.Bounds.X, c.Bounds.Y, c.Bounds.Right, c.Bounds.Bottom, c.Area, sign));
        }

        // Merge components whose boxes come within MergeDistance of each other, until nothing changes.
        int md = _options.MergeDistance;
        bool merged = true;
        while (merged)
        {
            merged = false;
            for (int a = 0; a < comps.Count && !merged; a++)
            {
                for (int b = a + 1; b < comps.Count; b++)
                {
                    var ca = comps[a];
                    var cb = comps[b];
                    if (ca.X0 - md <= cb.X1 && cb.X0 - md <= ca.X1 && ca.Y0 - md <= cb.Y1 && cb.Y0 - md <= ca.Y1)
                    {
                        comps[a] = (Math.Min(ca.X0, cb.X0), Math.Min(ca.Y0, cb.Y0), Math.Max(ca.X1, cb.X1), Math.Max(ca.Y1, cb.Y1), ca.Count + cb.Count, ca.Sign + cb.Sign);
                        comps.RemoveAt(b);
                        merged = true;
                        break;
                    }
                }
            }
        }

        List<RegionOfInterest> result = [];
        foreach (var c in comps)
        {
            if (c.Count < _options.MinArea)
            {
                continue;
            }

            Rectangle box = Rectangle.FromEdges(c.X0, c.Y0, c.X1, c.Y1);
            float density = (float)c.Count / Math.Max(1, box.Area);
            Rectangle grown = Rectangle.Intersect(box.Inflate(_options.BoxMargin), new Rectangle(0, 0, w, h));
            result.Add(new RegionOfInterest(grown, c.Sign >= 0 ? Brighter : Darker, Math.Clamp(density, 0, 1)));
        }

        return result;
    }

    // Chooses the shift (image -> reference) minimising the mean absolute difference on a 4x subsampled grid.
    private static (int X, int Y) Align(byte[] test, byte[] reference, int w, int h, int maxShift)
    {
        if (maxShift == 0)
        {
            return (0, 0);
        }

        long best = long.MaxValue;
        (int, int) shift = (0, 0);
        for (int dy = -maxShift; dy <= maxShift; dy++)
        {
            for (int dx = -maxShift; dx <= maxShift; dx++)
            {
                long sum = 0, n = 0;
                for (int y = maxShift; y < h - maxShift; y += 4)
                {
                    int ro = ((y + dy) * w) + dx, to = y * w;
                    for (int x = maxShift; x < w - maxShift; x += 4)
                    {
                        sum += Math.Abs(test[to + x] - reference[ro + x]);
                        n++;
                    }
                }

                // Prefer no shift on ties, then smaller shifts.
                long score = n == 0 ? long.MaxValue : (sum * 1024 / n) + Math.Abs(dx) + Math.Abs(dy);
                if (score < best)
                {
                    best = score;
                    shift = (dx, dy);
                }
            }
        }

        return shift;
    }

    private static byte[] MinMaxFilter(byte[] src, int w, int h, int r, bool min)
    {
        if (r == 0)
        {
            return src;
        }

        byte[] tmp = new byte[src.Length], dst = new byte[src.Length];
        for (int y = 0; y < h; y++)
        {
            int o = y * w;
            for (int x = 0; x < w; x++)
            {
                int a = Math.Max(0, x - r), b = Math.Min(w - 1, x + r);
                byte v = src[o + a];
                for (int k = a + 1; k <= b; k++)
                {
                    v = min ? Math.Min(v, src[o + k]) : Math.Max(v, src[o + k]);
                }

                tmp[o + x] = v;
            }
        }

        for (int y = 0; y < h; y++)
        {
            int a = Math.Max(0, y - r), b = Math.Min(h - 1, y + r);
            for (int x = 0; x < w; x++)
            {
                byte v = tmp[(a * w) + x];
                for (int k = a + 1; k <= b; k++)
                {
                    v = min ? Math.Min(v, tmp[(k * w) + x]) : Math.Max(v, tmp[(k * w) + x]);
                }

                dst[(y * w) + x] = v;
            }
        }

        return dst;
    }

    private static byte[] ToGray(ImageView view)
    {
        using Image gray = view.PixelFormat == PixelFormat.Gray8 ? view.ToImage() : ColorConversion.Convert(view, PixelFormat.Gray8);
        return gray.Pixels.ToArray();
    }
}
