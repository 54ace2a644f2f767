using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Onnx.Kernels.Conv;

/// <summary>
/// Depthwise 3x3 (stride 1 or 2, any padding) on a zero-padded copy of the plane: nine taps held in registers per
/// vector of outputs, no bounds checks, the row tail done by one overlapping vector (512, 256 or 128 bits, by what
/// the row width allows). Needs AVX2+FMA (and uses AVX-512 when allowed); other machines take the generic kernel.
/// </summary>
internal static unsafe class Depthwise3x3
{
    /// <summary>True when this kernel handles the shape at the vector width.</summary>
    public static bool Supports(in Conv2dShape s, int width)
        => s.KernelH == 3 && s.KernelW == 3 && s.DilationH == 1 && s.DilationW == 1 && (s.StrideW == 1 || s.StrideW == 2)
           && s.StrideH == s.StrideW && width >= 256 && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Padded row length for an input/output width.</summary>
    public static int PaddedWidth(in Conv2dShape s, int inW, int outW)
        => ((Math.Max(inW + s.PadLeft + s.PadRight, (s.StrideW * outW) + 3) + 15) & ~15) + 16;

    /// <summary>Padded rows.</summary>
    public static int PaddedHeight(in Conv2dShape s, int inH) => inH + s.PadTop + s.PadBottom;

    /// <summary>Floats of scratch for one padded plane.</summary>
    public static long ScratchFloats(in Conv2dShape s, int inH, int inW, int outW) => (long)PaddedWidth(s, inW, outW) * PaddedHeight(s, inH);

    /// <summary>Zeroes a padded plane buffer (once per call: the interior copies never touch the borders).</summary>
    public static void Clear(in Conv2dShape s, int inH, float* padded, int pw)
        => new Span<float>(padded, PaddedHeight(s, inH) * pw).Clear();

    /// <summary>Copies a float plane into the interior of a padded buffer whose borders are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyFloat(in Conv2dShape s, float* src, int inH, int inW, float* padded, int pw)
    {
        float* to = padded + ((long)s.PadTop * pw) + s.PadLeft;
        for (int y = 0; y < inH; y++, src += inW, to += pw)
        {
            Unsafe.CopyBlockUnaligned(to, src, (uint)inW * sizeof(float));
        }
    }

    /// <summary>Converts a u8 plane to floats (x - zero point) into the interior of a padded buffer whose borders are zero.</summary>
    public static void CopyBytes(in Conv2dShape s, byte* src, int inH, int inW, byte zero, float* padded, int pw)
    {
        float* to = padded + ((long)s.PadTop * pw) + s.PadLeft;
        // Row tails are done by one overlapping vector that ends at the last column (never past it: the border stays zero).
        for (int y = 0; y < inH; y++, src += inW, to += pw)
        {
            if (inW >= 16 && Avx512F.IsSupported)
            {
                var z = Vector512.Create((int)zero);
                for (int x = 0; ; x += 16)
                {
                    x = Math.Min(x, inW - 16);
                    Vector512.Store(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(src + x)) - z), to + x);
                    if (x == inW - 16)
                    {
                        break;
                    }
                }
            }
            else if (inW >= 8)
            {
                var z = Vector256.Create((int)zero);
                for (int x = 0; ; x += 8)
                {
                    x = Math.Min(x, inW - 8);
                    Vector256.Store(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + x) - z), to + x);
                    if (x == inW - 8)
                    {
                        break;
                    }
                }
            }
            else if (inW >= 4)
            {
                var z = Vector128.Create((int)zero);
                Vector128.Store(Sse2.ConvertToVector128Single(Sse41.ConvertToVector128Int32(src) - z), to);
                Vector128.Store(Sse2.ConvertToVector128Single(Sse41.ConvertToVector128Int32(src + inW - 4) - z), to + inW - 4);
            }
            else
            {
                for (int x = 0; x < inW; x++)
                {
                    to[x] = src[x] - zero;
                }
            }
        }
    }

    /// <summary>Requantization fused into the store (int8 depthwise): bytes = requant((int)acc + Bias).</summary>
    internal struct Quant
    {
        public byte* Dst;     // null: store floats
        public int Bias, ZeroPoint;
        public float Scale, Lo, Hi;
    }

    /// <summary>Filters a padded plane: dst[outH, outW] = act(bias + sum w * padded).</summary>
    public static void Plane(int stride, float* padded, int pw, float* dst, int outH, int outW, float* w, float bias,
                             ActivationParams act, int width)
        => Plane(stride, padded, pw, dst, outH, outW, w, bias, act, width, default);

    /// <summary>
    /// Filters a padded plane; with <paramref name="q"/>.Dst set, the (exact integer) sums are requantized straight
    /// into bytes instead (as <see cref="QGemm.RequantizeRow"/>), and <paramref name="dst"/> is not written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Plane(int stride, float* padded, int pw, float* dst, int outH, int outW, float* w, float bias,
                             ActivationParams act, int width, in Quant q)
    {
        // None / Relu / Clip are a clamp fused into the store; other activations run over the plane afterwards.
        float lo = float.NegativeInfinity, hi = float.PositiveInfinity;
        bool after = false;
        switch (act.Kind)
        {
            case FusedActivation.None:
                break;
            case FusedActivation.Relu:
                lo = 0;
                break;
            case FusedActivation.Clip:
                lo = act.A;
                hi = act.B;
                break;
            default:
                after = true;
                break;
        }

        if (width >= 512 && Avx512F.IsSupported && outW >= 16)
        {
            if (stride == 1)
            {
                if (q.Dst == null)
                {
                    Plane512<Stride1, Off>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
                }
                else
                {
                    Plane512<Stride1, On>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
                }
            }
            else if (q.Dst == null)
            {
                Plane512<Stride2, Off>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
            }
            else
            {
                Plane512<Stride2, On>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
            }
        }
        else if (outW >= 8)
        {
            if (stride == 1)
            {
                if (q.Dst == null)
                {
                    Plane256<Stride1, Off>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
                }
                else
                {
                    Plane256<Stride1, On>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
                }
            }
            else if (q.Dst == null)
            {
                Plane256<Stride2, Off>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
            }
            else
            {
                Plane256<Stride2, On>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
            }
        }
        else if (outW >= 4)
        {
            if (stride == 1)
            {
                if (q.Dst == null)
                {
                    Plane128<Stride1, Off>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
                }
                else
                {
                    Plane128<Stride1, On>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
                }
            }
            else if (q.Dst == null)
            {
                Plane128<Stride2, Off>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
            }
            else
            {
                Plane128<Stride2, On>(padded, pw, dst, outH, outW, w, bias, lo, hi, q);
            }
        }
        else
        {
            for (int oy = 0; oy < outH; oy++)
            {
                float* r0 = padded + ((long)oy * stride * pw);
                float* o = dst + ((long)oy * outW);
                for (int ox = 0; ox < outW; ox++)
                {
                    float* p = r0 + (ox * stride);
                    float v = bias + (p[0] * w[0]) + (p[1] * w[1]) + (p[2] * w[2])
                                   + (p[pw] * w[3]) + (p[pw + 1] * w[4]) + (p[pw + 2] * w[5])
                                   + (p[2 * pw] * w[6]) + (p[(2 * pw) + 1] * w[7]) + (p[(2 * pw) + 2] * w[8]);
                    if (q.Dst == null)
                    {
                        o[ox] = Math.Min(Math.Max(v, lo), hi);
                    }
                    else
                    {
                        float f = Math.Clamp(((int)v + q.Bias) * q.Scale, q.Lo, q.Hi);
                        q.Dst[((long)oy * outW) + ox] = (byte)((int)MathF.Round(f, MidpointRounding.ToEven) + q.ZeroPoint);
                    }
                }
            }
        }

        if (after && q.Dst == null)
        {
            act.Apply(new Span<float>(dst, outH * outW));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Plane512<TStride, TQuant>(float* padded, int pw, float* dst, int outH, int outW, float* w, float bias, float lo, float hi, in Quant q)
        where TStride : struct, IConstant
        where TQuant : struct, IConstant
    {
        int stride = TStride.Value;
        var qBias = Vector512.Create(q.Bias);
        var qScale = Vector512.Create(q.Scale);
        var qLo = Vector512.Create(q.Lo);
        var qHi = Vector512.Create(q.Hi);
        var qZero = Vector512.Create(q.ZeroPoint);
        byte* qDst = q.Dst;
        var k0 = Vector512.Create(w[0]); var k1 = Vector512.Create(w[1]); var k2 = Vector512.Create(w[2]);
        var k3 = Vector512.Create(w[3]); var k4 = Vector512.Create(w[4]); var k5 = Vector512.Create(w[5]);
        var k6 = Vector512.Create(w[6]); var k7 = Vector512.Create(w[7]); var k8 = Vector512.Create(w[8]);
        var vb = Vector512.Create(bias);
        var vlo = Vector512.Create(lo);
        var vhi = Vector512.Create(hi);
        for (int oy = 0; oy < outH; oy++)
        {
            float* r0 = padded + ((long)oy * stride * pw), r1 = r0 + pw, r2 = r1 + pw;
            float* o = dst + ((long)oy * outW);
            int ox = 0;
            while (true)
            {
                if (ox + 16 > outW)
                {
                    if (ox == outW)
                    {
                        break;
                    }

                    ox = outW - 16; // overlapping last vector: recomputes identical values
                }

                Vector512<float> acc, acc2;
                if (stride == 1)
                {
                    float* a = r0 + ox, b = r1 + ox, c = r2 + ox;
                    acc = Avx512F.FusedMultiplyAdd(Vector512.Load(a), k0, vb);
                    acc2 = Avx512F.Multiply(Vector512.Load(a + 1), k1);
                    acc = Avx512F.FusedMultiplyAdd(Vector512.Load(a + 2), k2, acc);
                    acc2 = Avx512F.FusedMultiplyAdd(Vector512.Load(b), k3, acc2);
                    acc = Avx512F.FusedMultiplyAdd(Vector512.Load(b + 1), k4, acc);
                    acc2 = Avx512F.FusedMultiplyAdd(Vector512.Load(b + 2), k5, acc2);
                    acc = Avx512F.FusedMultiplyAdd(Vector512.Load(c), k6, acc);
                    acc2 = Avx512F.FusedMultiplyAdd(Vector512.Load(c + 1), k7, acc2);
                    acc = Avx512F.FusedMultiplyAdd(Vector512.Load(c + 2), k8, acc);
                }
                else
                {
                    float* a = r0 + (2 * ox), b = r1 + (2 * ox), c = r2 + (2 * ox);
                    acc = Avx512F.FusedMultiplyAdd(Even512(a), k0, vb);
                    acc2 = Avx512F.Multiply(Odd512(a), k1);
                    acc = Avx512F.FusedMultiplyAdd(Even512(a + 2), k2, acc);
                    acc2 = Avx512F.FusedMultiplyAdd(Even512(b), k3, acc2);
                    acc = Avx512F.FusedMultiplyAdd(Odd512(b), k4, acc);
                    acc2 = Avx512F.FusedMultiplyAdd(Even512(b + 2), k5, acc2);
                    acc = Avx512F.FusedMultiplyAdd(Even512(c), k6, acc);
                    acc2 = Avx512F.FusedMultiplyAdd(Odd512(c), k7, acc2);
                    acc = Avx512F.FusedMultiplyAdd(Even512(c + 2), k8, acc);
                }

                if (TQuant.Value == 0)
                {
                    Vector512.Store(Vector512.Min(Vector512.Max(acc + acc2, vlo), vhi), o + ox);
                }
                else
                {
                    Vector512<float> f = Vector512.ConvertToSingle(Vector512.ConvertToInt32(acc + acc2) + qBias) * qScale;
                    Vector512<int> v = Vector512.ConvertToInt32(Vector512.Round(Vector512.Min(Vector512.Max(f, qLo), qHi))) + qZero;
                    Vector128.Store(Avx512F.ConvertToVector128Byte(v), qDst + ((long)oy * outW) + ox);
                }
                ox += 16;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Plane256<TStride, TQuant>(float* padded, int pw, float* dst, int outH, int outW, float* w, float bias, float lo, float hi, in Quant q)
        where TStride : struct, IConstant
        where TQuant : struct, IConstant
    {
        int stride = TStride.Value;
        var qBias = Vector256.Create(q.Bias);
        var qScale = Vector256.Create(q.Scale);
        var qLo = Vector256.Create(q.Lo);
        var qHi = Vector256.Create(q.Hi);
        var qZero = Vector256.Create(q.ZeroPoint);
        byte* qDst = q.Dst;
        var k0 = Vector256.Create(w[0]); var k1 = Vector256.Create(w[1]); var k2 = Vector256.Create(w[2]);
        var k3 = Vector256.Create(w[3]); var k4 = Vector256.Create(w[4]); var k5 = Vector256.Create(w[5]);
        var k6 = Vector256.Create(w[6]); var k7 = Vector256.Create(w[7]); var k8 = Vector256.Create(w[8]);
        var vb = Vector256.Create(bias);
        var vlo = Vector256.Create(lo);
        var vhi = Vector256.Create(hi);
        for (int oy = 0; oy < outH; oy++)
        {
            float* r0 = padded + ((long)oy * stride * pw), r1 = r0 + pw, r2 = r1 + pw;
            float* o = dst + ((long)oy * outW);
            int ox = 0;
            while (true)
            {
                if (ox + 8 > outW)
                {
                    if (ox == outW)
                    {
                        break;
                    }

                    ox = outW - 8;
                }

                Vector256<float> acc, acc2;
                if (stride == 1)
                {
                    float* a = r0 + ox, b = r1 + ox, c = r2 + ox;
                    acc = Fma.MultiplyAdd(Vector256.Load(a), k0, vb);
                    acc2 = Avx.Multiply(Vector256.Load(a + 1), k1);
                    acc = Fma.MultiplyAdd(Vector256.Load(a + 2), k2, acc);
                    acc2 = Fma.MultiplyAdd(Vector256.Load(b), k3, acc2);
                    acc = Fma.MultiplyAdd(Vector256.Load(b + 1), k4, acc);
                    acc2 = Fma.MultiplyAdd(Vector256.Load(b + 2), k5, acc2);
                    acc = Fma.MultiplyAdd(Vector256.Load(c), k6, acc);
                    acc2 = Fma.MultiplyAdd(Vector256.Load(c + 1), k7, acc2);
                    acc = Fma.MultiplyAdd(Vector256.Load(c + 2), k8, acc);
                }
                else
                {
                    float* a = r0 + (2 * ox), b = r1 + (2 * ox), c = r2 + (2 * ox);
                    acc = Fma.MultiplyAdd(Even256(a), k0, vb);
                    acc2 = Avx.Multiply(Even256(a + 1), k1);
                    acc = Fma.MultiplyAdd(Even256(a + 2), k2, acc);
                    acc2 = Fma.MultiplyAdd(Even256(b), k3, acc2);
                    acc = Fma.MultiplyAdd(Even256(b + 1), k4, acc);
                    acc2 = Fma.MultiplyAdd(Even256(b + 2), k5, acc2);
                    acc = Fma.MultiplyAdd(Even256(c), k6, acc);
                    acc2 = Fma.MultiplyAdd(Even256(c + 1), k7, acc2);
                    acc = Fma.MultiplyAdd(Even256(c + 2), k8, acc);
                }

                if (TQuant.Value == 0)
                {
                    Vector256.Store(Vector256.Min(Vector256.Max(acc + acc2, vlo), vhi), o + ox);
                }
                else
                {
                    Vector256<float> f = Vector256.ConvertToSingle(Vector256.ConvertToInt32(acc + acc2) + qBias) * qScale;
                    Vector256<int> v = Vector256.ConvertToInt32(Vector256.Round(Vector256.Min(Vector256.Max(f, qLo), qHi))) + qZero;
                    Vector256<ushort> h = Vector256.Narrow(v, v).AsUInt16();
                    *(ulong*)(qDst + ((long)oy * outW) + ox) = Vector256.Narrow(h, h).AsUInt64().ToScalar();
                }
                ox += 8;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Plane128<TStride, TQuant>(float* padded, int pw, float* dst, int outH, int outW, float* w, float bias, float lo, float hi, in Quant q)
        where TStride : struct, IConstant
        where TQuant : struct, IConstant
    {
        int stride = TStride.Value;
        var qBias = Vector128.Create(q.Bias);
        var qScale = Vector128.Create(q.Scale);
        var qLo = Vector128.Create(q.Lo);
        var qHi = Vector128.Create(q.Hi);
        var qZero = Vector128.Create(q.ZeroPoint);
        byte* qDst = q.Dst;
        var k0 = Vector128.Create(w[0]); var k1 = Vector128.Create(w[1]); var k2 = Vector128.Create(w[2]);
        var k3 = Vector128.Create(w[3]); var k4 = Vector128.Create(w[4]); var k5 = Vector128.Create(w[5]);
        var k6 = Vector128.Create(w[6]); var k7 = Vector128.Create(w[7]); var k8 = Vector128.Create(w[8]);
        var vb = Vector128.Create(bias);
        var vlo = Vector128.Create(lo);
        var vhi = Vector128.Create(hi);
        for (int oy = 0; oy < outH; oy++)
        {
            float* r0 = padded + ((long)oy * stride * pw), r1 = r0 + pw, r2 = r1 + pw;
            float* o = dst + ((long)oy * outW);
            int ox = 0;
            while (true)
            {
                if (ox + 4 > outW)
                {
                    if (ox == outW)
                    {
                        break;
                    }

                    ox = outW - 4;
                }

                Vector128<float> acc, acc2;
                if (stride == 1)
                {
                    float* a = r0 + ox, b = r1 + ox, c = r2 + ox;
                    acc = Fma.MultiplyAdd(Vector128.Load(a), k0, vb);
                    acc2 = Sse.Multiply(Vector128.Load(a + 1), k1);
                    acc = Fma.MultiplyAdd(Vector128.Load(a + 2), k2, acc);
                    acc2 = Fma.MultiplyAdd(Vector128.Load(b), k3, acc2);
                    acc = Fma.MultiplyAdd(Vector128.Load(b + 1), k4, acc);
                    acc2 = Fma.MultiplyAdd(Vector128.Load(b + 2), k5, acc2);
                    acc = Fma.MultiplyAdd(Vector128.Load(c), k6, acc);
                    acc2 = Fma.MultiplyAdd(Vector128.Load(c + 1), k7, acc2);
                    acc = Fma.MultiplyAdd(Vector128.Load(c + 2), k8, acc);
                }
                else
                {
                    float* a = r0 + (2 * ox), b = r1 + (2 * ox), c = r2 + (2 * ox);
                    acc = Fma.MultiplyAdd(Even128(a), k0, vb);
                    acc2 = Sse.Multiply(Even128(a + 1), k1);
                    acc = Fma.MultiplyAdd(Even128(a + 2), k2, acc);
                    acc2 = Fma.MultiplyAdd(Even128(b), k3, acc2);
                    acc = Fma.MultiplyAdd(Even128(b + 1), k4, acc);
                    acc2 = Fma.MultiplyAdd(Even128(b + 2), k5, acc2);
                    acc = Fma.MultiplyAdd(Even128(c), k6, acc);
                    acc2 = Fma.MultiplyAdd(Even128(c + 1), k7, acc2);
                    acc = Fma.MultiplyAdd(Even128(c + 2), k8, acc);
                }

                if (TQuant.Value == 0)
                {
                    Vector128.Store(Vector128.Min(Vector128.Max(acc + acc2, vlo), vhi), o + ox);
                }
                else
                {
                    Vector128<float> f = Vector128.ConvertToSingle(Vector128.ConvertToInt32(acc + acc2) + qBias) * qScale;
                    Vector128<int> v = Vector128.ConvertToInt32(Vector128.Round(Vector128.Min(Vector128.Max(f, qLo), qHi))) + qZero;
                    Vector128<ushort> h = Vector128.Narrow(v, v).AsUInt16();
                    *(uint*)(qDst + ((long)oy * outW) + ox) = Vector128.Narrow(h, h).AsUInt32().ToScalar();
                }
                ox += 4;
            }
        }
    }

    private static readonly Vector512<int> EvenIndex = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> OddIndex = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

    // p[0], p[2], ..., p[30].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Even512(float* p) => Avx512F.PermuteVar16x32x2(Vector512.Load(p), EvenIndex, Vector512.Load(p + 16));

    // p[1], p[3], ..., p[31].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Odd512(float* p) => Avx512F.PermuteVar16x32x2(Vector512.Load(p), OddIndex, Vector512.Load(p + 16));

    // p[0], p[2], ..., p[14].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Even256(float* p)
    {
        Vector256<float> shuffled = Avx.Shuffle(Vector256.Load(p), Vector256.Load(p + 8), 0b10_00_10_00); // a0 a2 b0 b2 | a4 a6 b4 b6
        return Avx2.Permute4x64(shuffled.AsDouble(), 0b11_01_10_00).AsSingle();
    }

    // p[0], p[2], p[4], p[6].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Even128(float* p) => Sse.Shuffle(Vector128.Load(p), Vector128.Load(p + 4), 0b10_00_10_00);
}
