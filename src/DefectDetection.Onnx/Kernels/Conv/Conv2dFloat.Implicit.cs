using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

// Convolutions as an implicit GEMM: the input is copied once into a zero-padded image, and the micro-kernel reads
// B[k][n] = padded[offset(c, ky, kx) + n] in place, where n = oy * Wq + ox runs over the output rows at the padded
// width Wq. No im2col matrix (K times the input) is written or read. The Wq - outW columns past each output row are
// computed and dropped when the result is copied into the output. With stride s > 1 the padded image is split into
// s x s phase planes (rows and columns by their remainder mod s), each Hq x Wq: input pixel (oy*s + ry, ox*s + rx)
// is pixel (oy + ry/s, ox + rx/s) of phase (ry%s, rx%s), so B rows are again contiguous runs. Measured here, that
// pays for large strided kernels (the 7x7 stride-2 stem: about 20% faster than im2col) but not for 3x3 stride 2.
internal sealed unsafe partial class Conv2dFloat
{
    /// <summary>True when this convolution runs as an implicit GEMM (see the file comment).</summary>
    internal bool UsesImplicitGemm => UsesImplicit(_shape, _width);

    private static bool UsesImplicit(in Conv2dShape s, int width)
        => width == 512 && !s.IsDepthwise && !s.IsPointwise && s.StrideH <= 4 && s.StrideW <= 4
           && ((s.StrideH == 1 && s.StrideW == 1) || s.KernelH * s.KernelW >= 25);

    /// <summary>The padded image's layout for one input size.</summary>
    private readonly record struct PhaseLayout(int Hq, int Wq, int Sh, int Sw)
    {
        public long Plane => (long)Hq * Wq;

        public long Channel => Plane * Sh * Sw;
    }

    private static PhaseLayout LayoutOf(in Conv2dShape s, int inH, int inW)
    {
        if (s.StrideH == 1 && s.StrideW == 1)
        {
            return new PhaseLayout(inH + s.PadTop + s.PadBottom, PaddedWidth(s, inW), 1, 1);
        }

        int hp = inH + s.PadTop + s.PadBottom, wp = inW + s.PadLeft + s.PadRight;
        return new PhaseLayout((hp + s.StrideH - 1) / s.StrideH, (wp + s.StrideW - 1) / s.StrideW, s.StrideH, s.StrideW);
    }

    // Floats of scratch: the padded image (plus the reads past its end), the wide result, the offsets.
    private long ImplicitScratchFloats(int inH, int inW, int outH)
    {
        var s = _shape;
        PhaseLayout l = LayoutOf(s, inH, inW);
        long padded = RoundUp((s.InChannels * l.Channel) + Slack(s), 16);
        long wide = RoundUp((long)s.OutChannels * outH * l.Wq, 16);
        return padded + wide + s.WeightsPerOutputChannel;
    }

    // Row stride of the padded image (stride 1): each row is [PadLeft zeros][inW values][zeros]. Reads past a row's
    // end for the right padding wrap into the next row's left zeros, so the stride needs only max(left, right) extra
    // columns (fewer dropped columns than left + right), as long as an output row still fits in one padded row.
    private static int PaddedWidth(in Conv2dShape s, int inW)
    {
        int narrow = inW + Math.Max(s.PadLeft, s.PadRight);
        return s.OutputWidth(inW) <= narrow ? narrow : inW + s.PadLeft + s.PadRight;
    }

    // The micro-kernel reads up to 31 values past the last column, plus (kW - 1) * dilation for the last kx.
    private static int Slack(in Conv2dShape s) => ((s.KernelW - 1) * s.DilationW) + 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunImplicit(float* x, int batch, int inH, int inW, float* y, int outH, int outW, float* scratch,
                             float* bias, float* packed, IntraOpThreadPool? pool)
    {
        var s = _shape;
        PhaseLayout l = LayoutOf(s, inH, inW);
        int wp = l.Wq;
        long planeP = l.Channel;
        long paddedFloats = RoundUp((s.InChannels * planeP) + Slack(s), 16);
        float* padded = scratch;
        float* wide = scratch + paddedFloats;
        int* offsets = (int*)(wide + RoundUp((long)s.OutChannels * outH * wp, 16));
        int cg = s.InChannelsPerGroup, mg = s.OutChannelsPerGroup, kg = s.WeightsPerOutputChannel;
        int khw = s.KernelH * s.KernelW;
        for (int k = 0; k < kg; k++)
        {
            int c = k / khw, ry = ((k % khw) / s.KernelW) * s.DilationH, rx = (k % s.KernelW) * s.DilationW;
            long phase = (((ry % l.Sh) * l.Sw) + (rx % l.Sw)) * l.Plane;
            offsets[k] = checked((int)((c * planeP) + phase + ((ry / l.Sh) * (long)wp) + (rx / l.Sw)));
        }

        new Span<float>(padded + (s.InChannels * planeP), (int)(paddedFloats - (s.InChannels * planeP))).Clear();
        long wideN = (long)outH * wp;
        long work = (long)s.InChannels * planeP;
        for (int b = 0; b < batch; b++)
        {
            var pad = new PadWork
            {
                X = x + ((long)b * s.InChannels * inH * inW), P = padded, InH = inH, InW = inW, Layout = l,
                Top = s.PadTop, Left = s.PadLeft,
            };
            IntraOpThreadPool.For(work > 65536 ? pool : null, s.InChannels, ref pad);
            for (int g = 0; g < s.Group; g++)
            {
                Sgemm.Run(mg, checked((int)wideN), kg, _width, Sgemm.Operand.Prepacked(packed + (g * _packedGroupStride)),
                          Sgemm.Operand.Implicit(padded + (g * cg * planeP), offsets), wide + (g * mg * wideN), (int)wideN, 0f,
                          _bias.Length > 0 ? bias + (g * mg) : null, null, _act, pool);
            }

            var narrow = new NarrowWork
            {
                Wide = wide, Y = y + ((long)b * s.OutChannels * outH * outW), OutH = outH, OutW = outW, Wp = wp,
            };
            IntraOpThreadPool.For((long)s.OutChannels * outH * outW > 65536 ? pool : null, s.OutChannels, ref narrow);
        }
    }

    /// <summary>
    /// A 1x1 stride-1 convolution of one group: the micro-kernel reads the input channels in place (implicit B with
    /// offsets k * plane) for the whole 32-pixel panels; the last plane % 32 pixels, whose full-width reads would run
    /// past the input, go through the packing path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunPointwise(float* xg, float* yg, int plane, float* packedA, float* bias, IntraOpThreadPool? pool)
    {
        int mg = _shape.OutChannelsPerGroup, kg = _shape.WeightsPerOutputChannel;
        int[]? rented = null;
        Span<int> off = kg <= 1024 ? stackalloc int[kg] : (rented = System.Buffers.ArrayPool<int>.Shared.Rent(kg));
        try
        {
            for (int k = 0; k < kg; k++)
            {
                off[k] = k * plane;
            }

            int main = plane & ~31;
            fixed (int* o = off)
            {
                Sgemm.Run(mg, main, kg, _width, Sgemm.Operand.Prepacked(packedA), Sgemm.Operand.Implicit(xg, o), yg, plane, 0f,
                          bias, null, _act, pool);
            }

            if (main < plane)
            {
                // At most 31 columns: inline unless it is large enough to be worth another parallel call.
                long tailFlops = 2L * mg * (plane - main) * kg;
                Sgemm.Run(mg, plane - main, kg, _width, Sgemm.Operand.Prepacked(packedA), Sgemm.Operand.Raw(xg + main, plane, false),
                          yg + main, plane, 0f, bias, null, _act, tailFlops > 4_000_000 ? pool : null);
            }
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    private static readonly Vector512<int> EvenLanes = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> OddLanes = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

    /// <summary>Copies channels [start, end) into the zero-padded image (split into phase planes for stride &gt; 1).</summary>
    private struct PadWork : IParallelWork
    {
        public float* X, P;
        public int InH, InW, Top, Left;
        public PhaseLayout Layout;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end)
        {
            PhaseLayout l = Layout;
            long planeC = l.Channel;
            int wp = l.Wq;
            for (int c = start; c < end; c++)
            {
                float* src = X + ((long)c * InH * InW);
                float* dst = P + (c * planeC);
                if (l.Sh == 1 && l.Sw == 1)
                {
                    new Span<float>(dst, Top * wp).Clear();
                    for (int r = 0; r < InH; r++)
                    {
                        float* d = dst + ((long)(Top + r) * wp);
                        new Span<float>(d, Left).Clear();
                        new ReadOnlySpan<float>(src + ((long)r * InW), InW).CopyTo(new Span<float>(d + Left, InW));
                        new Span<float>(d + Left + InW, wp - Left - InW).Clear();
                    }

                    new Span<float>(dst + ((long)(Top + InH) * wp), (int)(planeC - ((long)(Top + InH) * wp))).Clear();
                    continue;
                }

                new Span<float>(dst, checked((int)planeC)).Clear();
                for (int r = 0; r < InH; r++)
                {
                    int pr = Top + r;
                    float* rowBase = dst + ((pr % l.Sh) * l.Sw * l.Plane) + ((long)(pr / l.Sh) * wp);
                    float* s = src + ((long)r * InW);
                    int x = 0;
                    if (l.Sw == 2 && Avx512F.IsSupported)
                    {
                        // 32 values at a time: the even-indexed ones go to one phase plane, the odd ones to the other.
                        for (; x + 32 <= InW; x += 32)
                        {
                            int pc = Left + x;
                            Vector512<float> a = Vector512.Load(s + x), b = Vector512.Load(s + x + 16);
                            Vector512.Store(Avx512F.PermuteVar16x32x2(a, EvenLanes, b), rowBase + ((pc & 1) * l.Plane) + (pc >> 1));
                            Vector512.Store(Avx512F.PermuteVar16x32x2(a, OddLanes, b), rowBase + (((pc + 1) & 1) * l.Plane) + ((pc + 1) >> 1));
                        }
                    }

                    for (; x < InW; x++)
                    {
                        int pc = Left + x;
                        rowBase[((pc % l.Sw) * l.Plane) + (pc / l.Sw)] = s[x];
                    }
                }
            }
        }
    }

    /// <summary>Copies output channels [start, end) from the padded-width result into the output.</summary>
    private struct NarrowWork : IParallelWork
    {
        public float* Wide, Y;
        public int OutH, OutW, Wp;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end)
        {
            for (int m = start; m < end; m++)
            {
                float* src = Wide + ((long)m * OutH * Wp);
                float* dst = Y + ((long)m * OutH * OutW);
                for (int r = 0; r < OutH; r++)
                {
                    new ReadOnlySpan<float>(src + ((long)r * Wp), OutW).CopyTo(new Span<float>(dst + ((long)r * OutW), OutW));
                }
            }
        }
    }
}
