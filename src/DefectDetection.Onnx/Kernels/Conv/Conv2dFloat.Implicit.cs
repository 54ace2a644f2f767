using System.Runtime.CompilerServices;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

// Stride-1 convolutions as an implicit GEMM: the input is copied once into a zero-padded image (Hp x Wp per channel),
// and the micro-kernel reads B[k][n] = padded[offset(c, ky, kx) + n] in place, where n = oy * Wp + ox runs over the
// output rows at the padded width. No im2col matrix (K times the input) is written or read. The Wp - outW columns
// past each output row are computed and dropped when the result is copied into the output.
internal sealed unsafe partial class Conv2dFloat
{
    /// <summary>True when this convolution runs as an implicit GEMM (see the file comment).</summary>
    internal bool UsesImplicitGemm => UsesImplicit(_shape, _width);

    private static bool UsesImplicit(in Conv2dShape s, int width)
        => width == 512 && !s.IsDepthwise && !s.IsPointwise && s.StrideH == 1 && s.StrideW == 1;

    // Floats of scratch: the padded image (plus the reads past its end), the wide result, the offsets.
    private long ImplicitScratchFloats(int inH, int inW, int outH)
    {
        var s = _shape;
        long hp = inH + s.PadTop + s.PadBottom, wp = PaddedWidth(s, inW);
        long padded = RoundUp((s.InChannels * hp * wp) + Slack(s), 16);
        long wide = RoundUp((long)s.OutChannels * outH * wp, 16);
        return padded + wide + s.WeightsPerOutputChannel;
    }

    // Row stride of the padded image: each row is [PadLeft zeros][inW values][zeros]. Reads past a row's end for
    // the right padding wrap into the next row's left zeros, so the stride needs only max(left, right) extra columns
    // (fewer dropped columns than left + right), as long as an output row still fits in one padded row.
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
        int hp = inH + s.PadTop + s.PadBottom, wp = PaddedWidth(s, inW);
        long planeP = (long)hp * wp;
        long paddedFloats = RoundUp((s.InChannels * planeP) + Slack(s), 16);
        float* padded = scratch;
        float* wide = scratch + paddedFloats;
        int* offsets = (int*)(wide + RoundUp((long)s.OutChannels * outH * wp, 16));
        int cg = s.InChannelsPerGroup, mg = s.OutChannelsPerGroup, kg = s.WeightsPerOutputChannel;
        int khw = s.KernelH * s.KernelW;
        for (int k = 0; k < kg; k++)
        {
            int c = k / khw, ky = (k % khw) / s.KernelW, kx = k % s.KernelW;
            offsets[k] = checked((int)((c * planeP) + (ky * s.DilationH * wp) + (kx * s.DilationW)));
        }

        new Span<float>(padded + (s.InChannels * planeP), (int)(paddedFloats - (s.InChannels * planeP))).Clear();
        long wideN = (long)outH * wp;
        long work = (long)s.InChannels * planeP;
        for (int b = 0; b < batch; b++)
        {
            var pad = new PadWork
            {
                X = x + ((long)b * s.InChannels * inH * inW), P = padded, InH = inH, InW = inW, Hp = hp, Wp = wp,
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

    /// <summary>Copies channels [start, end) into the zero-padded image.</summary>
    private struct PadWork : IParallelWork
    {
        public float* X, P;
        public int InH, InW, Hp, Wp, Top, Left;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end)
        {
            long planeP = (long)Hp * Wp;
            for (int c = start; c < end; c++)
            {
                float* src = X + ((long)c * InH * InW);
                float* dst = P + (c * planeP);
                new Span<float>(dst, Top * Wp).Clear();
                for (int r = 0; r < InH; r++)
                {
                    float* d = dst + ((long)(Top + r) * Wp);
                    new Span<float>(d, Left).Clear();
                    new ReadOnlySpan<float>(src + ((long)r * InW), InW).CopyTo(new Span<float>(d + Left, InW));
                    new Span<float>(d + Left + InW, Wp - Left - InW).Clear();
                }

                new Span<float>(dst + ((long)(Top + InH) * Wp), (int)(planeP - ((long)(Top + InH) * Wp))).Clear();
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
