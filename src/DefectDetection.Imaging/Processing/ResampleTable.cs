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

    public static ResampleTable Create(int inSize, int outSize, ResizeMode mode)
    {
        if (inSize <= 0 || outSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inSize), $"Sizes must be positive, got {inSize} -> {outSize}.");
        }

        if (inSize == outSize)
        {
            ResampleTable identity = new(inSize, outSize, 1);
            for (int o = 0; o < outSize; o++)
            {
                identity.Start[o] = o;
                identity.Weights[o] = 1f;
            }

            return identity;
        }

        double scale = (double)inSize / outSize;
        if (mode == ResizeMode.Area && scale > 1)
        {
            return CreateAreaDown(inSize, outSize, scale);
        }

        ResampleTable table = new(inSize, outSize, Math.Min(2, inSize));
        for (int o = 0; o < outSize; o++)
        {
            int x0;
            double f;
            if (mode == ResizeMode.Area)
            {
                // OpenCV INTER_AREA when enlarging: sx = floor(o * scale), fx = (o + 1) - (sx + 1) / scale, wrapped to [0, 1).
                x0 = (int)Math.Floor(o * scale);
                f = (o + 1) - ((x0 + 1) / scale);
                f = f <= 0 ? 0 : f - Math.Floor(f);
            }
            else
            {
                double src = ((o + 0.5) * scale) - 0.5;
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

    // Box averaging: output o covers [o * scale, (o + 1) * scale) of the source axis.
    private static ResampleTable CreateAreaDown(int inSize, int outSize, double scale)
    {
        int taps = Math.Min(inSize, (int)Math.Ceiling(scale) + 1);
        ResampleTable table = new(inSize, outSize, taps);
        Span<float> w = table.Weights;
        for (int o = 0; o < outSize; o++)
        {
            double a = o * scale, b = o == outSize - 1 ? inSize : (o + 1) * scale;
            int first = (int)Math.Floor(a);
            int last = Math.Min(inSize - 1, (int)Math.Ceiling(b) - 1);
            int start = Math.Clamp(first, 0, inSize - taps);
            table.Start[o] = start;
            Span<float> row = w.Slice(o * taps, taps);
            for (int i = first; i <= last; i++)
            {
                double cover = Math.Min(b, i + 1) - Math.Max(a, i);
                if (cover > 0)
                {
                    row[i - start] += (float)(cover / scale);
                }
            }
        }

        return table;
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
