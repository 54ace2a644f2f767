using System.Buffers;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;

namespace DefectDetection.Vision.TemplateDifference;

/// <summary>
/// Features of one candidate region judged against a golden reference: both windows are binarised (dark = copper
/// on a PCB), compared with a positional tolerance into "added" (dark in the image only) and "removed" (dark in the
/// reference only) masks, and described by
/// <list type="number">
/// <item>amounts: the fraction and log count of added and removed pixels, the dark fractions of both windows;</item>
/// <item>the shape of the largest difference region: log area, width and height, aspect, fill, thickness, share
/// of added pixels, distance from the window centre;</item>
/// <item>topology: how the change alters the number of dark (8-connected) and light (4-connected) regions, in all
/// and away from the window border, one-hot in [-2, 2], also crossed with the sign of the change (a new dark
/// region is spurious copper or an open, a new light region a pin-hole, one fewer dark region a short);</item>
/// <item>8 x 8 area-averaged maps of the added, removed, image and reference masks.</item>
/// </list>
/// </summary>
internal static class TemplateDifferenceFeatures
{
    private const int Map = 8;
    private const int Bins = 5; // topology differences clamped to [-2, 2]
    private const int MaxDepth = 6;
    private const int LocalShift = 6;
    private const int ShiftFeatures = 6;
    private const int ScalarCount = 18 + (2 * MaxDepth) + 2 + ShiftFeatures;
    private const int TopologyCount = (4 * Bins) + (2 * 2 * Bins) + (4 * Bins);

    /// <summary>Number of features.</summary>
    public const int Length = ScalarCount + TopologyCount + (4 * Map * Map);

    /// <summary>
    /// Computes the features of <paramref name="window"/> (image coordinates) against the reference window moved by
    /// <paramref name="shift"/>; both must lie inside their images.
    /// </summary>
    public static void Extract(ImageView image, ImageView reference, Rectangle window, Rectangle wide, (int X, int Y) shift, int tolerance, int threshold, Span<float> destination)
    {
        Rectangle rwin = new(window.X + shift.X, window.Y + shift.Y, window.Width, window.Height);
        int w = window.Width, h = window.Height, n = w * h;
        destination[..Length].Clear();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4 * n);
        int[] work = ArrayPool<int>.Shared.Rent(2 * n);
        try
        {
            Span<byte> test = buffer.AsSpan(0, n), refDark = buffer.AsSpan(n, n), diff = buffer.AsSpan(2 * n, n), scratch = buffer.AsSpan(3 * n, n);
            Binarise(image, window, threshold, test);
            Binarise(reference, rwin, threshold, refDark);

            // Depth of every pixel: the smallest Chebyshev radius at which the reference has a pixel of the same
            // class (capped at MaxDepth + 1); a pixel differs when its depth exceeds the tolerance.
            Rectangle bounds = new(0, 0, reference.Width, reference.Height);
            Span<byte> depth = scratch;
            int added = 0, removed = 0;
            Span<int> deepAdded = stackalloc int[MaxDepth + 2], deepRemoved = stackalloc int[MaxDepth + 2];
            deepAdded.Clear();
            deepRemoved.Clear();
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    int i = (y * w) + x;
                    bool dark = test[i] != 0;
                    int r = 0;
                    if (refDark[i] != test[i])
                    {
                        r = MaxDepth + 1;
                        for (int rr = 1; rr <= MaxDepth; rr++)
                        {
                            if (RingHas(reference, bounds, rwin.X + x, rwin.Y + y, rr, dark, threshold))
                            {
                                r = rr;
                                break;
                            }
                        }
                    }

                    depth[i] = (byte)r;
                    byte d = 0;
                    if (r > tolerance)
                    {
                        d = dark ? (byte)1 : (byte)2;
                        if (dark)
                        {
                            added++;
                        }
                        else
                        {
                            removed++;
                        }
                    }

                    if (dark)
                    {
                        deepAdded[r]++;
                    }
                    else
                    {
                        deepRemoved[r]++;
                    }

                    diff[i] = d;
                }
            }

            int f = 0;
            destination[f++] = (float)added / n;
            destination[f++] = (float)removed / n;
            destination[f++] = MathF.Log(1 + added);
            destination[f++] = MathF.Log(1 + removed);
            destination[f++] = Fraction(test);
            destination[f++] = Fraction(refDark);
            destination[f++] = MathF.Log(w);
            destination[f++] = MathF.Log(h);

            // The largest difference region.
            Span<int> labels = work.AsSpan(0, n);
            List<ConnectedComponent> regions = ConnectedComponents.Label(diff, w, h, labels);
            destination[f++] = MathF.Log(1 + regions.Count);
            if (regions.Count > 0)
            {
                ConnectedComponent big = regions[0];
                foreach (ConnectedComponent c in regions)
                {
                    if (c.Area > big.Area)
                    {
                        big = c;
                    }
                }

                int addedIn = 0;
                double sx = 0, sy = 0;
                for (int y = big.Bounds.Y; y < big.Bounds.Bottom; y++)
                {
                    for (int x = big.Bounds.X; x < big.Bounds.Right; x++)
                    {
                        int i = (y * w) + x;
                        if (labels[i] == big.Label)
                        {
                            addedIn += diff[i] == 1 ? 1 : 0;
                            sx += x;
                            sy += y;
                        }
                    }
                }

                int bw = big.Bounds.Width, bh = big.Bounds.Height;
                destination[f++] = MathF.Log(1 + big.Area);
                destination[f++] = MathF.Log(bw);
                destination[f++] = MathF.Log(bh);
                destination[f++] = (float)Math.Min(bw, bh) / Math.Max(bw, bh);
                destination[f++] = (float)big.Area / (bw * bh);
                destination[f++] = (float)big.Area / Math.Max(bw, bh);
                destination[f++] = (float)addedIn / big.Area;
                float dx = (float)((sx / big.Area) - ((w - 1) / 2.0)), dy = (float)((sy / big.Area) - ((h - 1) / 2.0));
                destination[f++] = MathF.Sqrt((dx * dx) + (dy * dy)) / MathF.Sqrt((w * w) + (h * h));
            }

            f = ScalarCount - (2 * MaxDepth) - 2;
            int aboveA = 0, aboveR = 0;
            for (int k = MaxDepth + 1; k >= 1; k--)
            {
                aboveA += deepAdded[k];
                aboveR += deepRemoved[k];
                if (k <= MaxDepth)
                {
                    destination[f + k - 1] = MathF.Log(1 + aboveA);
                    destination[f + MaxDepth + k - 1] = MathF.Log(1 + aboveR);
                }
            }

            f += 2 * MaxDepth;
            if (regions.Count > 0)
            {
                int maxDepth = 0;
                long sum = 0;
                ConnectedComponent big = regions.MaxBy(c => c.Area);
                for (int y = big.Bounds.Y; y < big.Bounds.Bottom; y++)
                {
                    for (int x = big.Bounds.X; x < big.Bounds.Right; x++)
                    {
                        int i = (y * w) + x;
                        if (labels[i] == big.Label)
                        {
                            maxDepth = Math.Max(maxDepth, depth[i]);
                            sum += depth[i];
                        }
                    }
                }

                destination[f] = maxDepth;
                destination[f + 1] = (float)sum / big.Area;
            }

            f = ScalarCount - ShiftFeatures;
            if (added + removed > 0)
            {
                (int sx, int sy, int resAdded, int resRemoved) = LocalResidual(test, w, h, reference, rwin, tolerance, threshold);
                destination[f] = MathF.Log(1 + Math.Abs(sx) + Math.Abs(sy));
                destination[f + 1] = MathF.Log(1 + resAdded);
                destination[f + 2] = MathF.Log(1 + resRemoved);
                destination[f + 3] = (float)(resAdded + resRemoved) / (added + removed);
                destination[f + 4] = (float)resAdded / Math.Max(1, added);
                destination[f + 5] = (float)resRemoved / Math.Max(1, removed);
            }

            f = ScalarCount;

            // Topology of both windows.
            Span<int> stack = work.AsSpan(n, n);
            (int darkT, int darkInT) = CountRegions(test, w, h, 1, eight: true, stack, scratch);
            (int darkR, int darkInR) = CountRegions(refDark, w, h, 1, eight: true, stack, scratch);
            (int lightT, int lightInT) = CountRegions(test, w, h, 0, eight: false, stack, scratch);
            (int lightR, int lightInR) = CountRegions(refDark, w, h, 0, eight: false, stack, scratch);
            int dDark = Bin(darkT - darkR), dLight = Bin(lightT - lightR);
            destination[f + dDark] = 1;
            destination[f + Bins + dLight] = 1;
            destination[f + (2 * Bins) + Bin(darkInT - darkInR)] = 1;
            destination[f + (3 * Bins) + Bin(lightInT - lightInR)] = 1;
            int sign = added >= removed ? 0 : 1;
            destination[f + (4 * Bins) + (sign * 2 * Bins) + dDark] = 1;
            destination[f + (4 * Bins) + (sign * 2 * Bins) + Bins + dLight] = 1;
            WideTopology(image, reference, wide, shift, threshold, destination.Slice(f + (8 * Bins), 4 * Bins));
            f += TopologyCount;

            // 8 x 8 maps.
            Span<float> maps = destination.Slice(f, 4 * Map * Map);
            for (int y = 0; y < h; y++)
            {
                int my = y * Map / h;
                for (int x = 0; x < w; x++)
                {
                    int i = (y * w) + x, m = (my * Map) + (x * Map / w);
                    byte d = diff[i];
                    if (d == 1)
                    {
                        maps[m]++;
                    }
                    else if (d == 2)
                    {
                        maps[(Map * Map) + m]++;
                    }

                    maps[(2 * Map * Map) + m] += test[i];
                    maps[(3 * Map * Map) + m] += refDark[i];
                }
            }

            for (int k = 0; k < Map * Map; k++)
            {
                int cy = k / Map, cx = k % Map;
                int rows = (((cy + 1) * h) + Map - 1) / Map - (((cy * h) + Map - 1) / Map);
                int cols = (((cx + 1) * w) + Map - 1) / Map - (((cx * w) + Map - 1) / Map);
                float inv = 1f / Math.Max(1, rows * cols);
                for (int p = 0; p < 4; p++)
                {
                    maps[(p * Map * Map) + k] *= inv;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<int>.Shared.Return(work);
        }
    }

    // Aligns the reference locally (the shift within +-LocalShift that minimises mismatching pixels of the window,
    // on a 2 x 2 grid), and counts the pixels that still differ beyond the tolerance: changes that a local shift
    // explains are registration or scanning differences, not defects.
    private static (int X, int Y, int Added, int Removed) LocalResidual(ReadOnlySpan<byte> test, int w, int h, ImageView reference, Rectangle window, int tolerance, int threshold)
    {
        Rectangle bounds = new(0, 0, reference.Width, reference.Height);
        int margin = LocalShift + tolerance;
        Rectangle outer = Rectangle.Intersect(window.Inflate(margin), bounds);
        int ow = outer.Width, oh = outer.Height;
        byte[] refBuffer = ArrayPool<byte>.Shared.Rent(ow * oh);
        try
        {
            Span<byte> r = refBuffer.AsSpan(0, ow * oh);
            Binarise(reference, outer, threshold, r);
            int ox = window.X - outer.X, oy = window.Y - outer.Y; // window origin inside outer
            long best = long.MaxValue;
            int bx = 0, by = 0;
            for (int dy = -LocalShift; dy <= LocalShift; dy++)
            {
                for (int dx = -LocalShift; dx <= LocalShift; dx++)
                {
                    int miss = 0, count = 0;
                    for (int y = 0; y < h; y += 2)
                    {
                        int ry = oy + y + dy;
                        if ((uint)ry >= (uint)oh)
                        {
                            continue;
                        }

                        ReadOnlySpan<byte> trow = test.Slice(y * w, w);
                        ReadOnlySpan<byte> rrow = r.Slice(ry * ow, ow);
                        int xa = Math.Max(0, -(ox + dx)), xb = Math.Min(w, ow - (ox + dx));
                        for (int x = xa; x < xb; x += 2)
                        {
                            miss += trow[x] ^ rrow[ox + dx + x];
                            count++;
                        }
                    }

                    if (count == 0)
                    {
                        continue;
                    }

                    long score = ((long)miss * 4096 / count) + Math.Abs(dx) + Math.Abs(dy);
                    if (score < best)
                    {
                        best = score;
                        bx = dx;
                        by = dy;
                    }
                }
            }

            int added = 0, removed = 0;
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    bool dark = test[(y * w) + x] != 0;
                    int cx = ox + bx + x, cy = oy + by + y;
                    bool match = false;
                    for (int yy = Math.Max(0, cy - tolerance); yy <= Math.Min(oh - 1, cy + tolerance) && !match; yy++)
                    {
                        for (int xx = Math.Max(0, cx - tolerance); xx <= Math.Min(ow - 1, cx + tolerance); xx++)
                        {
                            if ((r[(yy * ow) + xx] != 0) == dark)
                            {
                                match = true;
                                break;
                            }
                        }
                    }

                    if (!match)
                    {
                        if (dark)
                        {
                            added++;
                        }
                        else
                        {
                            removed++;
                        }
                    }
                }
            }

            return (bx, by, added, removed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(refBuffer);
        }
    }

    // True when the ring at Chebyshev distance r around (cx, cy) holds a reference pixel of the given class.
    private static bool RingHas(ImageView reference, Rectangle bounds, int cx, int cy, int r, bool dark, int threshold)
    {
        int channels = reference.Channels;
        int x0 = Math.Max(bounds.X, cx - r), x1 = Math.Min(bounds.Right - 1, cx + r);
        foreach (int y in (ReadOnlySpan<int>)[cy - r, cy + r])
        {
            if (y >= bounds.Y && y < bounds.Bottom)
            {
                ReadOnlySpan<byte> row = reference.GetRow(y);
                for (int x = x0; x <= x1; x++)
                {
                    if ((Gray(row, x, channels) < threshold) == dark)
                    {
                        return true;
                    }
                }
            }
        }

        for (int y = Math.Max(bounds.Y, cy - r + 1); y <= Math.Min(bounds.Bottom - 1, cy + r - 1); y++)
        {
            ReadOnlySpan<byte> row = reference.GetRow(y);
            if ((cx - r >= bounds.X && (Gray(row, cx - r, channels) < threshold) == dark) ||
                (cx + r < bounds.Right && (Gray(row, cx + r, channels) < threshold) == dark))
            {
                return true;
            }
        }

        return false;
    }

    // The same region counts over a wider window (opens and shorts of wide traces reach past the candidate's window).
    private static void WideTopology(ImageView image, ImageView reference, Rectangle wide, (int X, int Y) shift, int threshold, Span<float> destination)
    {
        int n = wide.Width * wide.Height;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(3 * n);
        int[] stack = ArrayPool<int>.Shared.Rent(n);
        try
        {
            Span<byte> test = buffer.AsSpan(0, n), refDark = buffer.AsSpan(n, n), seen = buffer.AsSpan(2 * n, n);
            Binarise(image, wide, threshold, test);
            Binarise(reference, new Rectangle(wide.X + shift.X, wide.Y + shift.Y, wide.Width, wide.Height), threshold, refDark);
            int w = wide.Width, h = wide.Height;
            (int darkT, int darkInT) = CountRegions(test, w, h, 1, eight: true, stack, seen);
            (int darkR, int darkInR) = CountRegions(refDark, w, h, 1, eight: true, stack, seen);
            (int lightT, int lightInT) = CountRegions(test, w, h, 0, eight: false, stack, seen);
            (int lightR, int lightInR) = CountRegions(refDark, w, h, 0, eight: false, stack, seen);
            destination[Bin(darkT - darkR)] = 1;
            destination[Bins + Bin(lightT - lightR)] = 1;
            destination[(2 * Bins) + Bin(darkInT - darkInR)] = 1;
            destination[(3 * Bins) + Bin(lightInT - lightInR)] = 1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<int>.Shared.Return(stack);
        }
    }

    private static int Bin(int d) => Math.Clamp(d, -2, 2) + 2;

    private static float Fraction(ReadOnlySpan<byte> mask)
    {
        int count = 0;
        foreach (byte b in mask)
        {
            count += b;
        }

        return (float)count / mask.Length;
    }

    private static ReadOnlySpan<byte> Row(ImageView view, int y) => view.GetRow(y);

    private static int Gray(ReadOnlySpan<byte> row, int x, int channels) => channels switch
    {
        1 => row[x],
        2 => row[x * 2],
        _ => ((row[x * channels] * 77) + (row[(x * channels) + 1] * 150) + (row[(x * channels) + 2] * 29)) >> 8,
    };

    private static void Binarise(ImageView view, Rectangle window, int threshold, Span<byte> destination)
    {
        int channels = view.Channels;
        for (int y = 0; y < window.Height; y++)
        {
            ReadOnlySpan<byte> row = view.GetRow(window.Y + y);
            Span<byte> dst = destination.Slice(y * window.Width, window.Width);
            for (int x = 0; x < window.Width; x++)
            {
                dst[x] = Gray(row, window.X + x, channels) < threshold ? (byte)1 : (byte)0;
            }
        }
    }

    // Counts the regions of pixels equal to 'value' (all, and those not touching the window border).
    private static (int All, int Interior) CountRegions(ReadOnlySpan<byte> mask, int w, int h, byte value, bool eight, Span<int> stack, Span<byte> seen)
    {
        seen.Clear();
        int all = 0, interior = 0;
        for (int start = 0; start < mask.Length; start++)
        {
            if (mask[start] != value || seen[start] != 0)
            {
                continue;
            }

            all++;
            bool border = false;
            int top = 0;
            stack[top++] = start;
            seen[start] = 1;
            while (top > 0)
            {
                int p = stack[--top];
                int x = p % w, y = p / w;
                if (x == 0 || y == 0 || x == w - 1 || y == h - 1)
                {
                    border = true;
                }

                for (int dy = -1; dy <= 1; dy++)
                {
                    int ny = y + dy;
                    if ((uint)ny >= (uint)h)
                    {
                        continue;
                    }

                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx;
                        if ((uint)nx >= (uint)w || (dx == 0 && dy == 0) || (!eight && dx != 0 && dy != 0))
                        {
                            continue;
                        }

                        int q = (ny * w) + nx;
                        if (mask[q] == value && seen[q] == 0)
                        {
                            seen[q] = 1;
                            stack[top++] = q;
                        }
                    }
                }
            }

            if (!border)
            {
                interior++;
            }
        }

        return (all, interior);
    }
}
