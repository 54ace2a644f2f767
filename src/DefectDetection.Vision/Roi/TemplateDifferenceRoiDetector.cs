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

    /// <summary>
    /// Smallest box side in pixels: narrower or lower boxes are grown about their centre to this size (and moved
    /// back inside the image), since the difference is often smaller than the box a person would draw around the
    /// defect. Default: 0 (off).
    /// </summary>
    public int MinBoxSize { get; init; }

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

        if (MinBoxSize is < 0 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(MinBoxSize), $"MinBoxSize must be in [0, 4096], got {MinBoxSize}.");
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
public sealed class TemplateDifferenceRoiDetector : IRoiDetector
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

    /// <summary>Finds the regions where <paramref name="image"/> differs from <paramref name="reference"/>.</summary>
    public IReadOnlyList<RegionOfInterest> Detect(ImageView image, ImageView reference, CancellationToken cancellationToken = default)
    {
        if (image.Width != reference.Width || image.Height != reference.Height)
        {
            throw new ArgumentException($"The image ({image.Width}x{image.Height}) and the reference ({reference.Width}x{reference.Height}) differ in size.", nameof(reference));
        }

        int w = image.Width, h = image.Height;
        byte[] test = ToGray(image), refGray = ToGray(reference);
        (int sx, int sy) = ReferenceAlignment.Align(test, refGray, w, h, _options.MaxShift);
        ReferenceAlignment.Remember(image, reference, _options.MaxShift, (sx, sy));
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
            Rectangle grown = GrowToMinimum(Rectangle.Intersect(box.Inflate(_options.BoxMargin), new Rectangle(0, 0, w, h)), _options.MinBoxSize, w, h);
            result.Add(new RegionOfInterest(grown, c.Sign >= 0 ? Brighter : Darker, Math.Clamp(density, 0, 1)));
        }

        return result;
    }

    /// <summary>Grows <paramref name="box"/> about its centre to at least <paramref name="size"/> a side, kept inside w x h.</summary>
    internal static Rectangle GrowToMinimum(Rectangle box, int size, int w, int h)
    {
        int bw = Math.Min(Math.Max(box.Width, size), w), bh = Math.Min(Math.Max(box.Height, size), h);
        int x = Math.Clamp(box.X - ((bw - box.Width) / 2), 0, w - bw), y = Math.Clamp(box.Y - ((bh - box.Height) / 2), 0, h - bh);
        return new Rectangle(x, y, bw, bh);
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

    internal static byte[] ToGray(ImageView view)
    {
        using Image gray = view.PixelFormat == PixelFormat.Gray8 ? view.ToImage() : ColorConversion.Convert(view, PixelFormat.Gray8);
        return gray.Pixels.ToArray();
    }
}
