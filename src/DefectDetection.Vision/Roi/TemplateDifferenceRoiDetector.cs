using System.Buffers;
using System.Numerics.Tensors;
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

        int w = image.Width, h = image.Height, n = w * h;
        byte[] test = ToGray(image), refGray = ToGray(reference);
        (int sx, int sy) = ReferenceAlignment.Align(test, refGray, w, h, _options.MaxShift);
        ReferenceAlignment.Remember(image, reference, _options.MaxShift, (sx, sy));
        cancellationToken.ThrowIfCancellationRequested();

        byte[] lo = ArrayPool<byte>.Shared.Rent(n), hi = ArrayPool<byte>.Shared.Rent(n), tmp = ArrayPool<byte>.Shared.Rent(n);
        sbyte[] diff = ArrayPool<sbyte>.Shared.Rent(n); // +1 brighter, -1 darker, 0 same
        byte[] mask = ArrayPool<byte>.Shared.Rent(n);
        int[] label = ArrayPool<int>.Shared.Rent(n);
        try
        {
            int r = _options.Tolerance;
            MinMaxFilter(refGray, w, h, r, min: true, tmp, lo);
            MinMaxFilter(refGray, w, h, r, min: false, tmp, hi);
            Array.Clear(diff, 0, n);
            Array.Clear(mask, 0, n);
            int t = _options.DifferenceThreshold;
            int x0 = Math.Max(0, -sx), x1 = Math.Min(w, w - sx);
            for (int y = Math.Max(0, -sy); y < Math.Min(h, h - sy); y++)
            {
                int o = y * w, ro = ((y + sy) * w) + sx;
                for (int x = x0; x < x1; x++)
                {
                    int v = test[o + x];
                    if (v - hi[ro + x] > t)
                    {
                        diff[o + x] = 1;
                        mask[o + x] = 1;
                    }
                    else if (lo[ro + x] - v > t)
                    {
                        diff[o + x] = -1;
                        mask[o + x] = 1;
                    }
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            return Group(diff.AsSpan(0, n), mask.AsSpan(0, n), label.AsSpan(0, n), w, h);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(lo);
            ArrayPool<byte>.Shared.Return(hi);
            ArrayPool<byte>.Shared.Return(tmp);
            ArrayPool<sbyte>.Shared.Return(diff);
            ArrayPool<byte>.Shared.Return(mask);
            ArrayPool<int>.Shared.Return(label);
        }
    }

    private List<RegionOfInterest> Group(ReadOnlySpan<sbyte> diff, ReadOnlySpan<byte> mask, Span<int> label, int w, int h)
    {
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

    /// <summary>
    /// Minimum (or maximum) over the (2r+1)^2 square around every pixel, clipped at the borders: a separable filter,
    /// each pass made of element-wise minima of shifted rows (vectorised by <see cref="TensorPrimitives"/>).
    /// </summary>
    internal static void MinMaxFilter(ReadOnlySpan<byte> src, int w, int h, int r, bool min, Span<byte> tmp, Span<byte> dst)
    {
        int n = w * h;
        src = src[..n];
        tmp = tmp[..n];
        dst = dst[..n];
        if (r == 0)
        {
            src.CopyTo(dst);
            return;
        }

        // Horizontal pass on the whole plane as one row; the r columns at each row end looked into the
        // neighbouring row, so they are redone below.
        src.CopyTo(tmp);
        for (int k = 1; k <= Math.Min(r, n - 1); k++)
        {
            Combine(tmp[..(n - k)], src[k..], tmp[..(n - k)], min);
            Combine(tmp[k..], src[..(n - k)], tmp[k..], min);
        }

        for (int y = 0; y < h; y++)
        {
            int o = y * w;
            for (int x = 0; x < w; x++)
            {
                if (x == r && w - r > r)
                {
                    x = w - r; // skip the middle of the row, which the vector passes got right
                }

                int a = Math.Max(0, x - r), b = Math.Min(w - 1, x + r);
                byte v = src[o + a];
                for (int k = a + 1; k <= b; k++)
                {
                    v = min ? Math.Min(v, src[o + k]) : Math.Max(v, src[o + k]);
                }

                tmp[o + x] = v;
            }
        }

        // Vertical pass: every output row combines input rows y - r .. y + r.
        for (int y = 0; y < h; y++)
        {
            int a = Math.Max(0, y - r), b = Math.Min(h - 1, y + r);
            Span<byte> row = dst.Slice(y * w, w);
            tmp.Slice(a * w, w).CopyTo(row);
            for (int k = a + 1; k <= b; k++)
            {
                Combine(row, tmp.Slice(k * w, w), row, min);
            }
        }
    }

    private static void Combine(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination, bool min)
    {
        if (min)
        {
            TensorPrimitives.Min(x, y, destination);
        }
        else
        {
            TensorPrimitives.Max(x, y, destination);
        }
    }

    internal static byte[] ToGray(ImageView view)
    {
        using Image gray = view.PixelFormat == PixelFormat.Gray8 ? view.ToImage() : ColorConversion.Convert(view, PixelFormat.Gray8);
        return gray.Pixels.ToArray();
    }
}
