using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DefectDetection.Imaging.Processing;

/// <summary>Which vector width a kernel may use (tests force each one and compare with <see cref="Scalar"/>).</summary>
internal enum SimdLevel
{
    /// <summary>Plain loops only.</summary>
    Scalar = 0,

    /// <summary>Up to 128-bit vectors.</summary>
    Vector128 = 128,

    /// <summary>Up to 256-bit vectors (the default where the hardware accelerates them).</summary>
    Vector256 = 256,
}

/// <summary>
/// The vertical pass of the separable resize: output[x] = sum over k of w[k] x row_k[x], where the rows are
/// float rows of a ring buffer. Vectorised over x with 256- then 128-bit vectors, then a scalar tail.
/// </summary>
internal static class VerticalKernels
{
    public static SimdLevel Best { get; } = Vector256.IsHardwareAccelerated ? SimdLevel.Vector256
        : Vector128.IsHardwareAccelerated ? SimdLevel.Vector128 : SimdLevel.Scalar;

    /// <summary>Weighted row sum, rounded to nearest (half up) and saturated to 0..255.</summary>
    public static void ToBytes(ReadOnlySpan<float> ring, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights, Span<byte> dst) =>
        ToBytes(ring, offsets, weights, dst, Best);

    /// <summary>Weighted row sum as floats.</summary>
    public static void ToFloats(ReadOnlySpan<float> ring, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights, Span<float> dst) =>
        ToFloats(ring, offsets, weights, dst, Best);

    public static void ToBytes(ReadOnlySpan<float> ring, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights, Span<byte> dst, SimdLevel level)
    {
        int n = dst.Length, taps = weights.Length;
        CheckRows(ring, offsets, taps, n);
        ref float r = ref MemoryMarshal.GetReference(ring);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        int x = 0;
        if (level >= SimdLevel.Vector256 && Vector256.IsHardwareAccelerated)
        {
            Vector256<float> half = Vector256.Create(0.5f);
            Vector256<int> max = Vector256.Create(255);
            for (; x <= n - 32; x += 32)
            {
                ref float row = ref Unsafe.Add(ref r, offsets[0] + x);
                Vector256<float> w = Vector256.Create(weights[0]);
                Vector256<float> a0 = w * Vector256.LoadUnsafe(ref row);
                Vector256<float> a1 = w * Vector256.LoadUnsafe(ref row, 8);
                Vector256<float> a2 = w * Vector256.LoadUnsafe(ref row, 16);
                Vector256<float> a3 = w * Vector256.LoadUnsafe(ref row, 24);
                for (int k = 1; k < taps; k++)
                {
                    row = ref Unsafe.Add(ref r, offsets[k] + x);
                    w = Vector256.Create(weights[k]);
                    a0 = Vector256.MultiplyAddEstimate(w, Vector256.LoadUnsafe(ref row), a0);
                    a1 = Vector256.MultiplyAddEstimate(w, Vector256.LoadUnsafe(ref row, 8), a1);
                    a2 = Vector256.MultiplyAddEstimate(w, Vector256.LoadUnsafe(ref row, 16), a2);
                    a3 = Vector256.MultiplyAddEstimate(w, Vector256.LoadUnsafe(ref row, 24), a3);
                }

                Vector256<uint> i0 = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(a0 + half), Vector256<int>.Zero), max).AsUInt32();
                Vector256<uint> i1 = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(a1 + half), Vector256<int>.Zero), max).AsUInt32();
                Vector256<uint> i2 = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(a2 + half), Vector256<int>.Zero), max).AsUInt32();
                Vector256<uint> i3 = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(a3 + half), Vector256<int>.Zero), max).AsUInt32();
                Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).StoreUnsafe(ref d, (nuint)x);
            }
        }

        if (level >= SimdLevel.Vector128 && Vector128.IsHardwareAccelerated)
        {
            Vector128<float> half = Vector128.Create(0.5f);
            Vector128<int> max = Vector128.Create(255);
            for (; x <= n - 16; x += 16)
            {
                ref float row = ref Unsafe.Add(ref r, offsets[0] + x);
                Vector128<float> w = Vector128.Create(weights[0]);
                Vector128<float> a0 = w * Vector128.LoadUnsafe(ref row);
                Vector128<float> a1 = w * Vector128.LoadUnsafe(ref row, 4);
                Vector128<float> a2 = w * Vector128.LoadUnsafe(ref row, 8);
                Vector128<float> a3 = w * Vector128.LoadUnsafe(ref row, 12);
                for (int k = 1; k < taps; k++)
                {
                    row = ref Unsafe.Add(ref r, offsets[k] + x);
                    w = Vector128.Create(weights[k]);
                    a0 = Vector128.MultiplyAddEstimate(w, Vector128.LoadUnsafe(ref row), a0);
                    a1 = Vector128.MultiplyAddEstimate(w, Vector128.LoadUnsafe(ref row, 4), a1);
                    a2 = Vector128.MultiplyAddEstimate(w, Vector128.LoadUnsafe(ref row, 8), a2);
                    a3 = Vector128.MultiplyAddEstimate(w, Vector128.LoadUnsafe(ref row, 12), a3);
                }

                Vector128<uint> i0 = Vector128.Min(Vector128.Max(Vector128.ConvertToInt32(a0 + half), Vector128<int>.Zero), max).AsUInt32();
                Vector128<uint> i1 = Vector128.Min(Vector128.Max(Vector128.ConvertToInt32(a1 + half), Vector128<int>.Zero), max).AsUInt32();
                Vector128<uint> i2 = Vector128.Min(Vector128.Max(Vector128.ConvertToInt32(a2 + half), Vector128<int>.Zero), max).AsUInt32();
                Vector128<uint> i3 = Vector128.Min(Vector128.Max(Vector128.ConvertToInt32(a3 + half), Vector128<int>.Zero), max).AsUInt32();
                Vector128.Narrow(Vector128.Narrow(i0, i1), Vector128.Narrow(i2, i3)).StoreUnsafe(ref d, (nuint)x);
            }
        }

        for (; x < n; x++)
        {
            float acc = 0;
            for (int k = 0; k < taps; k++)
            {
                acc += weights[k] * Unsafe.Add(ref r, offsets[k] + x);
            }

            Unsafe.Add(ref d, x) = RoundToByte(acc);
        }
    }

    public static void ToFloats(ReadOnlySpan<float> ring, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights, Span<float> dst, SimdLevel level)
    {
        int n = dst.Length, taps = weights.Length;
        CheckRows(ring, offsets, taps, n);
        ref float r = ref MemoryMarshal.GetReference(ring);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int x = 0;
        if (level >= SimdLevel.Vector256 && Vector256.IsHardwareAccelerated)
        {
            for (; x <= n - 16; x += 16)
            {
                ref float row = ref Unsafe.Add(ref r, offsets[0] + x);
                Vector256<float> w = Vector256.Create(weights[0]);
                Vector256<float> a0 = w * Vector256.LoadUnsafe(ref row);
                Vector256<float> a1 = w * Vector256.LoadUnsafe(ref row, 8);
                for (int k = 1; k < taps; k++)
                {
                    row = ref Unsafe.Add(ref r, offsets[k] + x);
                    w = Vector256.Create(weights[k]);
                    a0 = Vector256.MultiplyAddEstimate(w, Vector256.LoadUnsafe(ref row), a0);
                    a1 = Vector256.MultiplyAddEstimate(w, Vector256.LoadUnsafe(ref row, 8), a1);
                }

                a0.StoreUnsafe(ref d, (nuint)x);
                a1.StoreUnsafe(ref d, (nuint)(x + 8));
            }
        }

        if (level >= SimdLevel.Vector128 && Vector128.IsHardwareAccelerated)
        {
            for (; x <= n - 4; x += 4)
            {
                Vector128<float> a = Vector128.Create(weights[0]) * Vector128.LoadUnsafe(ref Unsafe.Add(ref r, offsets[0] + x));
                for (int k = 1; k < taps; k++)
                {
                    a = Vector128.MultiplyAddEstimate(Vector128.Create(weights[k]), Vector128.LoadUnsafe(ref Unsafe.Add(ref r, offsets[k] + x)), a);
                }

                a.StoreUnsafe(ref d, (nuint)x);
            }
        }

        for (; x < n; x++)
        {
            float acc = 0;
            for (int k = 0; k < taps; k++)
            {
                acc += weights[k] * Unsafe.Add(ref r, offsets[k] + x);
            }

            Unsafe.Add(ref d, x) = acc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte RoundToByte(float value)
    {
        int v = (int)(value + 0.5f);
        return (byte)Math.Clamp(v, 0, 255);
    }

    private static void CheckRows(ReadOnlySpan<float> ring, ReadOnlySpan<int> offsets, int taps, int n)
    {
        if (offsets.Length < taps)
        {
            throw new ArgumentException("Fewer row offsets than weights.", nameof(offsets));
        }

        for (int k = 0; k < taps; k++)
        {
            if ((uint)offsets[k] > (uint)ring.Length || ring.Length - offsets[k] < n)
            {
                throw new ArgumentOutOfRangeException(nameof(offsets), "A row lies outside the ring buffer.");
            }
        }
    }
}
