using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Onnx.Kernels.Conv;

/// <summary>
/// The direct depthwise kernel shared by the float and int8 convolutions: one plane filtered with a kH x kW kernel.
/// Every tap adds a contiguous run of input (split into stride phases when the stride is above 1) times the weight
/// to the output row, with the borders handled by clipping each tap's run; bias and activation per row.
/// </summary>
internal static unsafe class DepthwiseConv
{
    /// <summary>Floats of phase scratch <see cref="Plane"/> needs for an input width.</summary>
    public static int PhaseFloats(in Conv2dShape s, int inW) => s.StrideW > 1 ? ((inW + s.StrideW - 1) / s.StrideW) * s.StrideW : 0;

    /// <summary>Floats of scratch <see cref="Plane"/> needs (stride phases, or a zero row for the 3x3 kernel).</summary>
    public static int ScratchFloats(in Conv2dShape s, int inW) => Math.Max(PhaseFloats(s, inW), inW + 64);

    /// <summary>True when the dedicated 3x3 kernel handles the shape at this vector width.</summary>
    public static bool Uses3x3(in Conv2dShape s, int width)
        => s.KernelH == 3 && s.KernelW == 3 && s.DilationH == 1 && s.DilationW == 1 && (s.StrideW == 1 || s.StrideW == 2)
           && s.StrideH == s.StrideW && ((width >= 512 && Avx512F.IsSupported) || (width >= 256 && Avx2.IsSupported && Fma.IsSupported));

    /// <summary>Filters one plane: dst[outH, outW] = act(bias + sum w * src).</summary>
    /// <param name="s">The geometry.</param>
    /// <param name="src">Input plane.</param>
    /// <param name="inH">Input height.</param>
    /// <param name="inW">Input width.</param>
    /// <param name="dst">Output plane.</param>
    /// <param name="outH">Output height.</param>
    /// <param name="outW">Output width.</param>
    /// <param name="w">kH x kW weights.</param>
    /// <param name="bias">Bias.</param>
    /// <param name="scratch">At least <see cref="ScratchFloats"/> floats.</param>
    /// <param name="act">Activation.</param>
    /// <param name="width">Vector width (see <see cref="KernelOptions"/>).</param>
    public static void Plane(in Conv2dShape s, float* src, int inH, int inW, float* dst, int outH, int outW,
                             float* w, float bias, float* scratch, ActivationParams act, int width)
    {
        if (Uses3x3(s, width))
        {
            Plane3x3(s, src, inH, inW, dst, outH, outW, w, bias, scratch, act, width);
            return;
        }

        float* phases = scratch;
        int sw = s.StrideW;
        int phaseLen = (inW + sw - 1) / sw;
        for (int oy = 0; oy < outH; oy++)
        {
            var outRow = new Span<float>(dst + ((long)oy * outW), outW);
            outRow.Fill(bias);
            for (int ky = 0; ky < s.KernelH; ky++)
            {
                int iy = (oy * s.StrideH) - s.PadTop + (ky * s.DilationH);
                if ((uint)iy >= (uint)inH)
                {
                    continue;
                }

                float* row = src + ((long)iy * inW);
                if (sw > 1)
                {
                    for (int p = 0; p < sw; p++)
                    {
                        float* ph = phases + ((long)p * phaseLen);
                        for (int i = 0, ix = p; ix < inW; i++, ix += sw)
                        {
                            ph[i] = row[ix];
                        }
                    }
                }

                for (int kx = 0; kx < s.KernelW; kx++)
                {
                    int off = (kx * s.DilationW) - s.PadLeft;
                    int lo = off >= 0 ? 0 : Math.Min(outW, (-off + sw - 1) / sw);
                    int hi = inW - 1 - off < 0 ? lo : Math.Max(lo, Math.Min(outW, ((inW - 1 - off) / sw) + 1));
                    if (hi <= lo)
                    {
                        continue;
                    }

                    float* first;
                    if (sw == 1)
                    {
                        first = row + lo + off;
                    }
                    else
                    {
                        int ix0 = (lo * sw) + off; // >= 0
                        first = phases + ((long)(ix0 % sw) * phaseLen) + (ix0 / sw);
                    }

                    var slice = outRow.Slice(lo, hi - lo);
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(first, hi - lo), w[(ky * s.KernelW) + kx], slice, slice);
                }
            }

            act.Apply(outRow);
        }
    }

    // 3x3, stride 1 or 2, any padding: nine taps in registers per vector of outputs; borders per pixel.
    private static void Plane3x3(in Conv2dShape s, float* src, int inH, int inW, float* dst, int outH, int outW,
                                 float* w, float bias, float* zeroRow, ActivationParams act, int width)
    {
        int stride = s.StrideW, padL = s.PadLeft;
        new Span<float>(zeroRow, inW).Clear();
        // Interior columns: every tap of every vector element in [0, inW).
        int oxLo = Math.Min(outW, (padL + stride - 1) / stride);
        float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8];
        for (int oy = 0; oy < outH; oy++)
        {
            int iy = (oy * stride) - s.PadTop;
            float* r0 = (uint)iy < (uint)inH ? src + ((long)iy * inW) : zeroRow;
            float* r1 = (uint)(iy + 1) < (uint)inH ? src + ((long)(iy + 1) * inW) : zeroRow;
            float* r2 = (uint)(iy + 2) < (uint)inH ? src + ((long)(iy + 2) * inW) : zeroRow;
            float* o = dst + ((long)oy * outW);
            int ox = 0;
            for (; ox < oxLo; ox++)
            {
                o[ox] = Pixel(r0, r1, r2, (ox * stride) - padL, inW, w, bias);
            }

            if (width >= 512 && Avx512F.IsSupported)
            {
                ox = stride == 1 ? Row512S1(r0, r1, r2, o, ox, outW, inW, padL, w, bias) : Row512S2(r0, r1, r2, o, ox, outW, inW, padL, w, bias);
            }

            if (Avx2.IsSupported && Fma.IsSupported)
            {
                ox = stride == 1 ? Row256S1(r0, r1, r2, o, ox, outW, inW, padL, w, bias) : Row256S2(r0, r1, r2, o, ox, outW, inW, padL, w, bias);
            }

            for (; ox < outW; ox++)
            {
                o[ox] = Pixel(r0, r1, r2, (ox * stride) - padL, inW, w, bias);
            }

            act.Apply(new Span<float>(o, outW));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Pixel(float* r0, float* r1, float* r2, int ix, int inW, float* w, float bias)
    {
        float sum = bias;
        for (int kx = 0; kx < 3; kx++, ix++)
        {
            if ((uint)ix < (uint)inW)
            {
                sum += (r0[ix] * w[kx]) + (r1[ix] * w[3 + kx]) + (r2[ix] * w[6 + kx]);
            }
        }

        return sum;
    }

    // Stride 1: the vector at ox reads input columns ox - padL .. ox - padL + V + 1.
    private static int Row512S1(float* r0, float* r1, float* r2, float* o, int ox, int outW, int inW, int padL, float* w, float bias)
    {
        var k0 = Vector512.Create(w[0]); var k1 = Vector512.Create(w[1]); var k2 = Vector512.Create(w[2]);
        var k3 = Vector512.Create(w[3]); var k4 = Vector512.Create(w[4]); var k5 = Vector512.Create(w[5]);
        var k6 = Vector512.Create(w[6]); var k7 = Vector512.Create(w[7]); var k8 = Vector512.Create(w[8]);
        var vb = Vector512.Create(bias);
        for (; ox + 16 <= outW && ox - padL + 17 < inW; ox += 16)
        {
            int ix = ox - padL;
            var acc = Avx512F.FusedMultiplyAdd(Vector512.Load(r0 + ix), k0, vb);
            acc = Avx512F.FusedMultiplyAdd(Vector512.Load(r0 + ix + 1), k1, acc);
            acc = Avx512F.FusedMultiplyAdd(Vector512.Load(r0 + ix + 2), k2, acc);
            var acc2 = Avx512F.Multiply(Vector512.Load(r1 + ix), k3);
            acc2 = Avx512F.FusedMultiplyAdd(Vector512.Load(r1 + ix + 1), k4, acc2);
            acc2 = Avx512F.FusedMultiplyAdd(Vector512.Load(r1 + ix + 2), k5, acc2);
            acc = Avx512F.FusedMultiplyAdd(Vector512.Load(r2 + ix), k6, acc);
            acc2 = Avx512F.FusedMultiplyAdd(Vector512.Load(r2 + ix + 1), k7, acc2);
            acc = Avx512F.FusedMultiplyAdd(Vector512.Load(r2 + ix + 2), k8, acc);
            Vector512.Store(acc + acc2, o + ox);
        }

        return ox;
    }

    private static int Row256S1(float* r0, float* r1, float* r2, float* o, int ox, int outW, int inW, int padL, float* w, float bias)
    {
        var k0 = Vector256.Create(w[0]); var k1 = Vector256.Create(w[1]); var k2 = Vector256.Create(w[2]);
        var k3 = Vector256.Create(w[3]); var k4 = Vector256.Create(w[4]); var k5 = Vector256.Create(w[5]);
        var k6 = Vector256.Create(w[6]); var k7 = Vector256.Create(w[7]); var k8 = Vector256.Create(w[8]);
        var vb = Vector256.Create(bias);
        for (; ox + 8 <= outW && ox - padL + 9 < inW; ox += 8)
        {
            int ix = ox - padL;
            var acc = Fma.MultiplyAdd(Vector256.Load(r0 + ix), k0, vb);
            acc = Fma.MultiplyAdd(Vector256.Load(r0 + ix + 1), k1, acc);
            acc = Fma.MultiplyAdd(Vector256.Load(r0 + ix + 2), k2, acc);
            var acc2 = Avx.Multiply(Vector256.Load(r1 + ix), k3);
            acc2 = Fma.MultiplyAdd(Vector256.Load(r1 + ix + 1), k4, acc2);
            acc2 = Fma.MultiplyAdd(Vector256.Load(r1 + ix + 2), k5, acc2);
            acc = Fma.MultiplyAdd(Vector256.Load(r2 + ix), k6, acc);
            acc2 = Fma.MultiplyAdd(Vector256.Load(r2 + ix + 1), k7, acc2);
            acc = Fma.MultiplyAdd(Vector256.Load(r2 + ix + 2), k8, acc);
            Vector256.Store(acc + acc2, o + ox);
        }

        return ox;
    }

    // Stride 2: the vector at ox reads input columns 2*ox - padL .. 2*ox - padL + 2V + 1 (even ones via a permute).
    private static int Row512S2(float* r0, float* r1, float* r2, float* o, int ox, int outW, int inW, int padL, float* w, float bias)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        var k0 = Vector512.Create(w[0]); var k1 = Vector512.Create(w[1]); var k2 = Vector512.Create(w[2]);
        var k3 = Vector512.Create(w[3]); var k4 = Vector512.Create(w[4]); var k5 = Vector512.Create(w[5]);
        var k6 = Vector512.Create(w[6]); var k7 = Vector512.Create(w[7]); var k8 = Vector512.Create(w[8]);
        var vb = Vector512.Create(bias);
        for (; ox + 16 <= outW && (2 * ox) - padL + 33 < inW; ox += 16)
        {
            int ix = (2 * ox) - padL;
            Vector512<float> a, b, e, d;
            a = Vector512.Load(r0 + ix); b = Vector512.Load(r0 + ix + 16);
            e = Avx512F.PermuteVar16x32x2(a, even, b); d = Avx512F.PermuteVar16x32x2(a, odd, b);
            var acc = Avx512F.FusedMultiplyAdd(e, k0, vb);
            acc = Avx512F.FusedMultiplyAdd(d, k1, acc);
            var e2 = Avx512F.PermuteVar16x32x2(Vector512.Load(r0 + ix + 2), even, Vector512.Load(r0 + ix + 18));
            acc = Avx512F.FusedMultiplyAdd(e2, k2, acc);

            a = Vector512.Load(r1 + ix); b = Vector512.Load(r1 + ix + 16);
            e = Avx512F.PermuteVar16x32x2(a, even, b); d = Avx512F.PermuteVar16x32x2(a, odd, b);
            var acc2 = Avx512F.Multiply(e, k3);
            acc2 = Avx512F.FusedMultiplyAdd(d, k4, acc2);
            e2 = Avx512F.PermuteVar16x32x2(Vector512.Load(r1 + ix + 2), even, Vector512.Load(r1 + ix + 18));
            acc2 = Avx512F.FusedMultiplyAdd(e2, k5, acc2);

            a = Vector512.Load(r2 + ix); b = Vector512.Load(r2 + ix + 16);
            e = Avx512F.PermuteVar16x32x2(a, even, b); d = Avx512F.PermuteVar16x32x2(a, odd, b);
            acc = Avx512F.FusedMultiplyAdd(e, k6, acc);
            acc2 = Avx512F.FusedMultiplyAdd(d, k7, acc2);
            e2 = Avx512F.PermuteVar16x32x2(Vector512.Load(r2 + ix + 2), even, Vector512.Load(r2 + ix + 18));
            acc = Avx512F.FusedMultiplyAdd(e2, k8, acc);
            Vector512.Store(acc + acc2, o + ox);
        }

        return ox;
    }

    private static int Row256S2(float* r0, float* r1, float* r2, float* o, int ox, int outW, int inW, int padL, float* w, float bias)
    {
        var k0 = Vector256.Create(w[0]); var k1 = Vector256.Create(w[1]); var k2 = Vector256.Create(w[2]);
        var k3 = Vector256.Create(w[3]); var k4 = Vector256.Create(w[4]); var k5 = Vector256.Create(w[5]);
        var k6 = Vector256.Create(w[6]); var k7 = Vector256.Create(w[7]); var k8 = Vector256.Create(w[8]);
        var vb = Vector256.Create(bias);
        for (; ox + 8 <= outW && (2 * ox) - padL + 17 < inW; ox += 8)
        {
            int ix = (2 * ox) - padL;
            var acc = Fma.MultiplyAdd(Even256(r0 + ix), k0, vb);
            acc = Fma.MultiplyAdd(Even256(r0 + ix + 1), k1, acc);
            acc = Fma.MultiplyAdd(Even256(r0 + ix + 2), k2, acc);
            var acc2 = Avx.Multiply(Even256(r1 + ix), k3);
            acc2 = Fma.MultiplyAdd(Even256(r1 + ix + 1), k4, acc2);
            acc2 = Fma.MultiplyAdd(Even256(r1 + ix + 2), k5, acc2);
            acc = Fma.MultiplyAdd(Even256(r2 + ix), k6, acc);
            acc2 = Fma.MultiplyAdd(Even256(r2 + ix + 1), k7, acc2);
            acc = Fma.MultiplyAdd(Even256(r2 + ix + 2), k8, acc);
            Vector256.Store(acc + acc2, o + ox);
        }

        return ox;
    }

    // p[0], p[2], ..., p[14].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Even256(float* p)
    {
        Vector256<float> shuffled = Avx.Shuffle(Vector256.Load(p), Vector256.Load(p + 8), 0b10_00_10_00); // a0 a2 b0 b2 | a4 a6 b4 b6
        return Avx2.Permute4x64(shuffled.AsDouble(), 0b11_01_10_00).AsSingle();
    }
}
