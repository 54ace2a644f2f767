using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// libjpeg's chroma upsampling filters ("fancy" = triangular, jdsample.c): 3/4 of the nearer sample plus 1/4 of
/// the next one, with libjpeg's alternating rounding biases and edge replication. Each filter has a Vector128
/// path and the scalar reference (the <c>*Scalar</c> methods) that tests compare it with.
/// </summary>
internal static unsafe class JpegUpsampler
{
    /// <summary>Horizontal 2x: <paramref name="n"/> input samples to 2n outputs (h2v1_fancy_upsample).</summary>
    public static void H2V1Fancy(byte* src, byte* dst, int n)
    {
        H2V1FancyScalar(src, dst, n, 0, 1);
        int i = 1;
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<ushort> three = Vector128.Create((ushort)3);
            Vector128<ushort> one = Vector128.Create((ushort)1), two = Vector128.Create((ushort)2);
            for (; i + 8 <= n - 1; i += 8)
            {
                Vector128<ushort> cur = Widen(src + i), prev = Widen(src + i - 1), next = Widen(src + i + 1);
                Vector128<ushort> c3 = cur * three;
                Vector128<ushort> even = Vector128.ShiftRightLogical(c3 + prev + one, 2);
                Vector128<ushort> odd = Vector128.ShiftRightLogical(c3 + next + two, 2);
                StoreInterleaved(even, odd, dst + (2 * i));
            }
        }

        H2V1FancyScalar(src, dst, n, i);
    }

    /// <summary>The scalar reference of <see cref="H2V1Fancy"/>, from column <paramref name="from"/>.</summary>
    public static void H2V1FancyScalar(byte* src, byte* dst, int n, int from = 0, int to = int.MaxValue)
    {
        for (int i = from; i < n && i < to; i++)
        {
            int s = src[i] * 3;
            int prev = src[i > 0 ? i - 1 : 0];
            int next = src[i < n - 1 ? i + 1 : n - 1];
            dst[2 * i] = (byte)((s + prev + 1) >> 2);
            dst[(2 * i) + 1] = (byte)((s + next + 2) >> 2);
        }
    }

    /// <summary>
    /// Vertical 2x for one output row: 3/4 <paramref name="near"/> + 1/4 <paramref name="far"/>, bias 1 for the
    /// upper output row of a pair and 2 for the lower (h1v2_fancy_upsample).
    /// </summary>
    public static void V2Fancy(byte* near, byte* far, byte* dst, int width, int bias)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<ushort> three = Vector128.Create((ushort)3), b = Vector128.Create((ushort)bias);
            for (; i + 8 <= width; i += 8)
            {
                Vector128<ushort> v = Vector128.ShiftRightLogical((Widen(near + i) * three) + Widen(far + i) + b, 2);
                Unsafe.WriteUnaligned(dst + i, Vector128.Narrow(v, v).AsUInt64().ToScalar());
            }
        }

        V2FancyScalar(near, far, dst, width, bias, i);
    }

    /// <summary>The scalar reference of <see cref="V2Fancy"/>.</summary>
    public static void V2FancyScalar(byte* near, byte* far, byte* dst, int width, int bias, int from = 0)
    {
        for (int i = from; i < width; i++)
        {
            dst[i] = (byte)(((near[i] * 3) + far[i] + bias) >> 2);
        }
    }

    /// <summary>
    /// 2x in both directions for one output row (h2v2_fancy_upsample): column sums 3*near + far, then the
    /// horizontal triangle filter with biases 8 and 7. <paramref name="colsum"/> holds at least n + 16 values.
    /// </summary>
    public static void H2V2Fancy(byte* near, byte* far, short* colsum, byte* dst, int n)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<ushort> three = Vector128.Create((ushort)3);
            for (; i + 8 <= n; i += 8)
            {
                ((Widen(near + i) * three) + Widen(far + i)).Store((ushort*)colsum + i);
            }
        }

        for (; i < n; i++)
        {
            colsum[i] = (short)((near[i] * 3) + far[i]);
        }

        H2V2FancyColumns(colsum, dst, Math.Min(n, 1), 0, n);
        i = 1;
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<ushort> three = Vector128.Create((ushort)3);
            Vector128<ushort> eight = Vector128.Create((ushort)8), seven = Vector128.Create((ushort)7);
            ushort* cs = (ushort*)colsum;
            for (; i + 8 <= n - 1; i += 8)
            {
                Vector128<ushort> cur = Vector128.Load(cs + i) * three;
                Vector128<ushort> even = Vector128.ShiftRightLogical(cur + Vector128.Load(cs + i - 1) + eight, 4);
                Vector128<ushort> odd = Vector128.ShiftRightLogical(cur + Vector128.Load(cs + i + 1) + seven, 4);
                StoreInterleaved(even, odd, dst + (2 * i));
            }
        }

        H2V2FancyColumns(colsum, dst, n, i, n);
    }

    /// <summary>The scalar reference of <see cref="H2V2Fancy"/>.</summary>
    public static void H2V2FancyScalar(byte* near, byte* far, byte* dst, int n)
    {
        short* colsum = stackalloc short[n];
        for (int i = 0; i < n; i++)
        {
            colsum[i] = (short)((near[i] * 3) + far[i]);
        }

        H2V2FancyColumns(colsum, dst, n, 0, n);
    }

    private static void H2V2FancyColumns(short* colsum, byte* dst, int to, int from, int n)
    {
        for (int i = from; i < to; i++)
        {
            int s = colsum[i] * 3;
            int prev = colsum[i > 0 ? i - 1 : 0];
            int next = colsum[i < n - 1 ? i + 1 : n - 1];
            dst[2 * i] = (byte)((s + prev + 8) >> 4);
            dst[(2 * i) + 1] = (byte)((s + next + 7) >> 4);
        }
    }

    /// <summary>Box upsampling by an integer factor horizontally (the vertical factor is handled by row choice).</summary>
    public static void Replicate(byte* src, byte* dst, int width, int factor)
    {
        if (factor == 1)
        {
            Buffer.MemoryCopy(src, dst, width, width);
            return;
        }

        for (int x = 0, sx = 0; x < width; sx++)
        {
            byte v = src[sx];
            for (int k = 0; k < factor && x < width; k++, x++)
            {
                dst[x] = v;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Widen(byte* p) => Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(p)).AsByte());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved(Vector128<ushort> even, Vector128<ushort> odd, byte* dst)
    {
        // even | odd << 8 gives, per 16-bit lane, the byte pair (even, odd) in memory order.
        Vector128<ushort> pairs = even | Vector128.ShiftLeft(odd, 8);
        pairs.AsByte().Store(dst);
    }
}
