using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Per-axis resampling weights, computed once per resize: output index <c>o</c> reads the <see cref="Taps"/>
/// consecutive source indices from <c>Start[o]</c> with weights <c>Weights[o * Taps ..]</c> (summing to 1).
/// Arrays are pooled; dispose the table.
/// </summary>
internal sealed class ResampleTable : IDisposable
{
    private int[]? _start;
    private float[]? _weights;

    private ResampleTable(int inSize, int outSize, int taps)
    {
        InSize = inSize;
        OutSize = outSize;
        Taps = taps;
        _start = PixelBufferPool.Rent<int>(outSize);
        _weights = PixelBufferPool.Rent<float>(checked(outSize * taps), clear: true);
    }

    public int InSize { get; }

    public int OutSize { get; }

    public int Taps { get; }

    public Span<int> Start => _start.AsSpan(0, OutSize);

    public Span<float> Weights => _weights.AsSpan(0, OutSize * Taps);

    /// <summary>Weights for resizing <paramref name="inSize"/> to <paramref name="outSize"/> (scale = in / out).</summary>
    public static ResampleTable Create(int inSize, int outSize, ResizeMode mode) => Create(inSize, outSize, mode, inSize, outSize);

    /// <summary>
    /// Weights with an explicit <paramref name="scale"/> (source pixels per output pixel), as when a resize is
    /// given a scale factor rather than an output size (OpenCV <c>fx</c>, PyTorch <c>scale_factor</c>): output
    /// pixel o samples source position (o + 0.5) x scale - 0.5, clamped to the source.
    /// </summary>
    public static ResampleTable Create(int inSize, int outSize, ResizeMode mode, double scale) => Create(inSize, outSize, mode, scale, 1);

    // scale = num / den. Source positions are computed as (o x num) / den: exact products of integers, then one
    // correctly rounded division, so that positions which are whole numbers come out whole.
    private static ResampleTable Create(int inSize, int outSize, ResizeMode mode, double num, double den)
    {
        double scale = num / den;
        if (inSize <= 0 || outSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inSize), $"Sizes must be positive, got {inSize} -> {outSize}.");
        }

        if (!(scale > 0) || double.IsInfinity(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), $"Scale must be positive, got {scale}.");
        }

        if (inSize == outSize && scale == 1)
        {
            ResampleTable identity = new(inSize, outSize, 1);
            for (int o = 0; o < outSize; o++)
            {
                identity.Start[o] = o;
                identity.Weights[o] = 1f;
            }

            return identity;
        }

        if (mode == ResizeMode.Area && scale > 1)
        {
            return CreateAreaDown(inSize, outSize, num, den);
        }

        ResampleTable table = new(inSize, outSize, Math.Min(2, inSize));
        for (int o = 0; o < outSize; o++)
        {
            int x0;
            double f;
            if (mode == ResizeMode.Area)
            {
                // OpenCV INTER_AREA when enlarging: sx = floor(o * scale), fx = (o + 1) - (sx + 1) / scale, wrapped to [0, 1).
                x0 = (int)Math.Floor(o * num / den);
                f = (o + 1) - ((x0 + 1) * den / num);
                f = f <= 0 ? 0 : f - Math.Floor(f);
            }
            else
            {
                double src = ((o + 0.5) * num / den) - 0.5;
                if (src < 0)
                {
                    src = 0;
                }

                x0 = (int)Math.Floor(src);
                f = src - x0;
            }

            if (x0 >= inSize - 1)
            {
                x0 = inSize - 1;
                f = 0;
            }

            table.Set(o, x0, 1 - f, x0 + 1, f);
        }

        return table;
    }

    // Box averaging: output o covers [o x scale, (o + 1) x scale) of the source axis, scale = num / den.
    private static ResampleTable CreateAreaDown(int inSize, int outSize, double num, double den)
    {
        // As many taps as the widest box touches (scale for whole ratios, up to ceil(scale) + 1 otherwise).
        int taps = 1;
        for (int o = 0; o < outSize; o++)
        {
            (int first, int last, _, _) = Box(o);
            taps = Math.Max(taps, last - first + 1);
        }

        ResampleTable table = new(inSize, outSize, taps);
        Span<float> w = table.Weights;
        for (int o = 0; o < outSize; o++)
        {
            (int first, int last, double a, double b) = Box(o);
            int start = Math.Clamp(first, 0, inSize - taps);
            table.Start[o] = start;
            Span<float> row = w.Slice(o * taps, taps);
            double total = b - a;
            for (int i = first; i <= last; i++)
            {
                double cover = Math.Min(b, i + 1) - Math.Max(a, i);
                if (cover > 0)
                {
                    row[i - start] += (float)(cover / total);
                }
            }
        }

        return table;

        // The box is clipped to the source; the weights are normalised by the covered length.
        (int First, int Last, double A, double B) Box(int o)
        {
            double a = Math.Min(o * num / den, inSize - 1), b = Math.Min((o + 1) * num / den, inSize);
            if (o == outSize - 1 && Math.Abs(b - inSize) < 1e-9 * inSize)
            {
                b = inSize;
            }

            int first = Math.Min((int)Math.Floor(a), inSize - 1);
            int last = Math.Min(inSize - 1, (int)Math.Ceiling(b) - 1);
            return (first, last, a, b);
        }
    }

    // Two source taps (x1 may be out of range with weight 0, or equal to x0), placed in a window of Taps.
    private void Set(int o, int x0, double w0, int x1, double w1)
    {
        int start = Math.Clamp(x0, 0, InSize - Taps);
        Start[o] = start;
        Span<float> row = Weights.Slice(o * Taps, Taps);
        row[x0 - start] += (float)w0;
        if (w1 != 0)
        {
            row[Math.Min(x1, InSize - 1) - start] += (float)w1;
        }
    }

    public void Dispose()
    {
        PixelBufferPool.Return(Interlocked.Exchange(ref _start, null));
        PixelBufferPool.Return(Interlocked.Exchange(ref _weights, null));
    }
}
