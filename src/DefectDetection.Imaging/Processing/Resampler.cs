using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging.Processing;

/// <summary>Gives horizontally resampled source rows as floats (interleaved channels).</summary>
internal interface IResampleSource
{
    /// <summary>Resamples source row <paramref name="y"/> along x into <paramref name="destination"/> (out width x channels).</summary>
    void HorizontalRow(int y, ResampleTable tx, Span<float> destination);
}

/// <summary>Receives output rows: combines the given horizontally resampled rows with the vertical weights.</summary>
internal interface IResampleSink
{
    /// <summary>Writes output row <paramref name="y"/> = sum over k of weights[k] x ring[offsets[k] ..].</summary>
    void WriteRow(int y, ReadOnlySpan<float> ring, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights);
}

/// <summary>
/// The separable resampling loop: each needed source row is resampled horizontally once into a small ring of
/// float rows (as many as the vertical taps), and each output row is a weighted sum of ring rows.
/// </summary>
internal static class Resampler
{
    public static void Run<TSource, TSink>(scoped ref TSource source, scoped ref TSink sink, ResampleTable tx, ResampleTable ty, int channels)
        where TSource : IResampleSource, allows ref struct
        where TSink : IResampleSink, allows ref struct
    {
        int rowLength = tx.OutSize * channels;
        int taps = ty.Taps;
        float[] ring = PixelBufferPool.Rent<float>(checked(taps * rowLength));
        int[] rowInSlot = PixelBufferPool.Rent<int>(taps);
        int[] rentedOffsets = PixelBufferPool.Rent<int>(taps);
        Span<int> offsets = rentedOffsets.AsSpan(0, taps);
        try
        {
            rowInSlot.AsSpan(0, taps).Fill(-1);
            ReadOnlySpan<int> starts = ty.Start;
            ReadOnlySpan<float> weights = ty.Weights;
            for (int y = 0; y < ty.OutSize; y++)
            {
                int start = starts[y];
                for (int k = 0; k < taps; k++)
                {
                    int r = start + k;
                    int slot = r % taps;
                    int offset = slot * rowLength;
                    if (rowInSlot[slot] != r)
                    {
                        source.HorizontalRow(r, tx, ring.AsSpan(offset, rowLength));
                        rowInSlot[slot] = r;
                    }

                    offsets[k] = offset;
                }

                sink.WriteRow(y, ring.AsSpan(0, taps * rowLength), offsets, weights.Slice(y * taps, taps));
            }
        }
        finally
        {
            PixelBufferPool.Return(ring);
            PixelBufferPool.Return(rowInSlot);
            PixelBufferPool.Return(rentedOffsets);
        }
    }

    /// <summary>Horizontal pass over one row of interleaved 8-bit pixels.</summary>
    public static void Horizontal(ReadOnlySpan<byte> src, int channels, ResampleTable tx, Span<float> dst) =>
        Horizontal(src, channels, tx, dst, VerticalKernels.Best);

    /// <summary>
    /// Horizontal pass with a chosen vector width. For 3 and 4 channels the vector path keeps one pixel in a
    /// Vector128 of floats (4 bytes loaded and widened per tap; the 4th lane of RGB is ignored), and falls back to
    /// scalar code where a 4-byte load or store would leave the row.
    /// </summary>
    public static void Horizontal(ReadOnlySpan<byte> src, int channels, ResampleTable tx, Span<float> dst, SimdLevel level)
    {
        ReadOnlySpan<int> starts = tx.Start;
        ReadOnlySpan<float> weights = tx.Weights;
        int taps = tx.Taps, outSize = tx.OutSize;
        if (dst.Length < outSize * channels || src.Length < tx.InSize * channels)
        {
            throw new ArgumentException("Row lengths do not match the resampling table.");
        }

        ref byte s0 = ref MemoryMarshal.GetReference(src);
        ref float w0 = ref MemoryMarshal.GetReference(weights);
        ref float d0 = ref MemoryMarshal.GetReference(dst);
        int o = 0;
        if (channels >= 3 && level >= SimdLevel.Vector128 && Vector128.IsHardwareAccelerated)
        {
            // The last tap of pixel o reads bytes [s + (taps - 1) * ch, + 4): safe while that ends inside src,
            // and the 4-float store at o * ch is safe while it ends inside dst.
            for (; o < outSize; o++)
            {
                int s = starts[o] * channels;
                if (s + ((taps - 1) * channels) + 4 > src.Length || (o * channels) + 4 > dst.Length)
                {
                    break;
                }

                ref byte p = ref Unsafe.Add(ref s0, s);
                ref float w = ref Unsafe.Add(ref w0, o * taps);
                Vector128<float> acc = Vector128.Create(w) * LoadPixel(ref p);
                for (int k = 1; k < taps; k++)
                {
                    acc = Vector128.MultiplyAddEstimate(Vector128.Create(Unsafe.Add(ref w, k)), LoadPixel(ref Unsafe.Add(ref p, k * channels)), acc);
                }

                acc.StoreUnsafe(ref d0, (nuint)(o * channels));
            }
        }

        for (; o < outSize; o++)
        {
            int s = starts[o] * channels, d = o * channels;
            ref float w = ref Unsafe.Add(ref w0, o * taps);
            for (int c = 0; c < channels; c++)
            {
                float acc = 0;
                ref byte p = ref Unsafe.Add(ref s0, s + c);
                for (int k = 0; k < taps; k++)
                {
                    acc += Unsafe.Add(ref w, k) * Unsafe.Add(ref p, k * channels);
                }

                Unsafe.Add(ref d0, d + c) = acc;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> LoadPixel(ref byte p)
    {
        Vector128<byte> bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(ref p)).AsByte();
        if (Sse41.IsSupported)
        {
            return Vector128.ConvertToSingle(Sse41.ConvertToVector128Int32(bytes)); // one pmovzxbd
        }

        return Vector128.ConvertToSingle(Vector128.WidenLower(Vector128.WidenLower(bytes)).AsInt32());
    }

    /// <summary>Horizontal pass over one row of interleaved floats.</summary>
    public static void Horizontal(ReadOnlySpan<float> src, int channels, ResampleTable tx, Span<float> dst) =>
        Horizontal(src, channels, tx, dst, VerticalKernels.Best);

    /// <summary>Horizontal pass over one row of interleaved floats, with a chosen vector width (as the 8-bit pass).</summary>
    public static void Horizontal(ReadOnlySpan<float> src, int channels, ResampleTable tx, Span<float> dst, SimdLevel level)
    {
        ReadOnlySpan<int> starts = tx.Start;
        int taps = tx.Taps, outSize = tx.OutSize;
        if (dst.Length < outSize * channels || src.Length < tx.InSize * channels || tx.Weights.Length < outSize * taps)
        {
            throw new ArgumentException("Row lengths do not match the resampling table.");
        }

        ref float s0 = ref MemoryMarshal.GetReference(src);
        ref float w0 = ref MemoryMarshal.GetReference(tx.Weights);
        ref float d0 = ref MemoryMarshal.GetReference(dst);
        int o = 0;
        if (channels >= 3 && level >= SimdLevel.Vector128 && Vector128.IsHardwareAccelerated)
        {
            for (; o < outSize; o++)
            {
                int s = starts[o] * channels;
                if (s + ((taps - 1) * channels) + 4 > src.Length || (o * channels) + 4 > dst.Length)
                {
                    break;
                }

                ref float p = ref Unsafe.Add(ref s0, s);
                ref float w = ref Unsafe.Add(ref w0, o * taps);
                Vector128<float> acc = Vector128.Create(w) * Vector128.LoadUnsafe(ref p);
                for (int k = 1; k < taps; k++)
                {
                    acc = Vector128.MultiplyAddEstimate(Vector128.Create(Unsafe.Add(ref w, k)), Vector128.LoadUnsafe(ref p, (nuint)(k * channels)), acc);
                }

                acc.StoreUnsafe(ref d0, (nuint)(o * channels));
            }
        }

        for (; o < outSize; o++)
        {
            int s = starts[o] * channels, d = o * channels;
            ref float w = ref Unsafe.Add(ref w0, o * taps);
            for (int c = 0; c < channels; c++)
            {
                float acc = 0;
                ref float p = ref Unsafe.Add(ref s0, s + c);
                for (int k = 0; k < taps; k++)
                {
                    acc += Unsafe.Add(ref w, k) * Unsafe.Add(ref p, k * channels);
                }

                Unsafe.Add(ref d0, d + c) = acc;
            }
        }
    }
}

/// <summary>Rows of an 8-bit image view.</summary>
internal readonly struct ViewSource(ImageView view) : IResampleSource
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void HorizontalRow(int y, ResampleTable tx, Span<float> destination) =>
        Resampler.Horizontal(view.GetRow(y), view.Channels, tx, destination);
}

/// <summary>Rows of a single-channel float map.</summary>
internal readonly ref struct FloatMapSource(ReadOnlySpan<float> map, int width) : IResampleSource
{
    private readonly ReadOnlySpan<float> _map = map;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void HorizontalRow(int y, ResampleTable tx, Span<float> destination) =>
        Resampler.Horizontal(_map.Slice(y * width, width), 1, tx, destination);
}

/// <summary>Writes 8-bit rows into an image, rounding to nearest and saturating.</summary>
internal readonly struct ImageSink(Image destination) : IResampleSink
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteRow(int y, ReadOnlySpan<float> ring, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights) =>
        VerticalKernels.ToBytes(ring, offsets, weights, destination.GetRow(y));
}

/// <summary>Writes float rows into a single-channel float map.</summary>
internal readonly ref struct FloatMapSink(Span<float> map, int width) : IResampleSink
{
    private readonly Span<float> _map = map;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteRow(int y, ReadOnlySpan<float> ring, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights) =>
        VerticalKernels.ToFloats(ring, offsets, weights, _map.Slice(y * width, width));
}
