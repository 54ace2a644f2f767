using System.Numerics.Tensors;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

// Depthwise int8. With AVX-512 the 3x3 stride-1/2 pad-1 planes take the kernels that read the u8 rows directly
// (Conv2dInt8.DepthwiseRows / DepthwiseGapped: the zero point folded into the accumulator start). Otherwise the plane
// is converted to float (x - zero point) and filtered with (w - zero point) in float. Every product and partial sum is
// an integer below 2^24 (at most 256 taps of |255 * 255|; larger kernels take the GEMM path), so the float result is
// exactly the integer accumulator.
internal sealed unsafe partial class Conv2dInt8
{
    [ThreadStatic]
    private static float[]? t_plane;
    [ThreadStatic]
    private static float[]? t_out;
    [ThreadStatic]
    private static float[]? t_phases;

    private void RunDepthwise(byte* x, int batch, int inH, int inW, int outH, int outW, byte* yq, int* y32, int* bias, float* scales,
                              IntraOpThreadPool? pool)
    {
        float[]? rowInit = yq != null && UsesRowDepthwise(_shape, _width) ? RowInit() : null;
        fixed (float* w = _depthwise)
        fixed (float* init = rowInit)
        {
            var work = new DepthwiseWork
            {
                Shape = _shape, X = x, Yq = yq, Y32 = y32, W = w, Init = init, Bias = bias, Scales = scales, Requant = _requant,
                InH = inH, InW = inW, OutH = outH, OutW = outW, Zero = _inputZeroPoint, Width = _width,
                Ring = (_paths & Int8KernelPaths.RowRing) != 0,
            };
            int planes = batch * _shape.OutChannels;
            IntraOpThreadPool.For((long)planes * outH * outW * _shape.KernelH * _shape.KernelW > 50_000 ? pool : null, planes, ref work);
        }
    }

    private struct DepthwiseWork : IParallelWork
    {
        public Conv2dShape Shape;
        public byte* X, Yq;
        public int* Y32, Bias;
        public float* W, Init, Scales;
        public Requantization? Requant;
        public int InH, InW, OutH, OutW, Width;
        public byte Zero;
        public bool Ring;

        public readonly void Run(int start, int end)
        {
            var s = Shape;
            int inPlane = InH * InW, outPlane = OutH * OutW;
            if (Init != null)
            {
                var rq = Requant!;
                if (s.StrideW == 1 && UsesGapped7(InH, InW))
                {
                    for (int p = start; p < end; p++)
                    {
                        int m = p % s.OutChannels;
                        var q = new RowQuant(W + ((long)m * 9), Init[m], rq.IsPerTensor ? Scales[0] : Scales[m], rq.OutputZeroPoint, rq.Min, rq.Max, Zero);
                        Gapped7Plane(X + ((long)p * inPlane), InH, q, Zero, rq.OutputSigned, Yq + ((long)p * outPlane));
                    }

                    return;
                }

                if (UsesGappedDepthwise(s, InW))
                {
                    var gapped = new GappedPlane(InH, InW, Zero);
                    for (int p = start; p < end; p++)
                    {
                        int m = p % s.OutChannels;
                        var q = new RowQuant(W + ((long)m * 9), Init[m], rq.IsPerTensor ? Scales[0] : Scales[m], rq.OutputZeroPoint, rq.Min, rq.Max, Zero);
                        GappedDepthwisePlane(gapped, X + ((long)p * inPlane), q, Zero, rq.OutputSigned, Yq + ((long)p * outPlane));
                    }

                    return;
                }

                byte* padRow = PadRow(InW, Zero);
                int ld = ((InW + 15) / 16) * 16;
                float* ring = s.StrideW == 1 && InW > 16 && Ring ? RowRing(ld, Zero) : null;
                for (int p = start; p < end; p++)
                {
                    int m = p % s.OutChannels;
                    var q = new RowQuant(W + ((long)m * 9), Init[m], rq.IsPerTensor ? Scales[0] : Scales[m], rq.OutputZeroPoint, rq.Min, rq.Max, Zero);
                    if (ring != null)
                    {
                        RowDepthwisePlane1Ring(X + ((long)p * inPlane), InH, InW, q, Zero, ring, ld, Yq + ((long)p * outPlane));
                    }
                    else if (s.StrideW == 1)
                    {
                        RowDepthwisePlane1(X + ((long)p * inPlane), InH, InW, q, Zero, padRow, Yq + ((long)p * outPlane));
                    }
                    else
                    {
                        RowDepthwisePlane2(X + ((long)p * inPlane), InH, InW, OutH, OutW, q, Zero, padRow, Yq + ((long)p * outPlane));
                    }
                }

                return;
            }

            if (Yq != null && UsesPhaseDepthwise(s, OutW, Width))
            {
                var phasePlanes = new PhasePlanes(InH, OutW);
                var rq = Requant!;
                for (int p = start; p < end; p++)
                {
                    int m = p % s.OutChannels;
                    PhaseDepthwisePlane(phasePlanes, X + ((long)p * inPlane), InH, InW, OutH, OutW, Zero, W + ((long)m * 9), Bias != null ? Bias[m] : 0,
                                        rq.IsPerTensor ? Scales[0] : Scales[m], rq.OutputZeroPoint, rq.Min, rq.Max, Yq + ((long)p * outPlane));
                }

                return;
            }

            if (Yq != null && UsesFlatDepthwise(s, InW, Width))
            {
                var flat = new FlatPlane(InH, InW);
                var rq = Requant!;
                for (int p = start; p < end; p++)
                {
                    int m = p % s.OutChannels;
                    FlatDepthwisePlane(flat, X + ((long)p * inPlane), Zero, W + ((long)m * 9), Bias != null ? Bias[m] : 0,
                                       rq.IsPerTensor ? Scales[0] : Scales[m], rq.OutputZeroPoint, rq.Min, rq.Max, Yq + ((long)p * outPlane));
                }

                return;
            }

            bool fast = Depthwise3x3.Supports(s, Width);
            int pw = Depthwise3x3.PaddedWidth(s, InW, OutW);
            float* plane = AlignedScratch.Get(ref t_plane, fast ? Depthwise3x3.ScratchFloats(s, InH, InW, OutW) : inPlane);
            float* result = AlignedScratch.Get(ref t_out, outPlane);
            if (fast)
            {
                Depthwise3x3.Clear(s, InH, plane, pw);
            }

            float* phases = AlignedScratch.Get(ref t_phases, DepthwiseConv.ScratchFloats(s, InW));
            for (int p = start; p < end; p++)
            {
                int m = p % s.OutChannels;
                float* w = W + ((long)m * s.KernelH * s.KernelW);
                int bias = Bias != null ? Bias[m] : 0;
                if (fast && Yq != null)
                {
                    var rq = Requant!;
                    var quant = new Depthwise3x3.Quant
                    {
                        Dst = Yq + ((long)p * outPlane), Bias = bias, ZeroPoint = rq.OutputZeroPoint,
                        Scale = rq.IsPerTensor ? Scales[0] : Scales[m], Lo = rq.Min - rq.OutputZeroPoint, Hi = rq.Max - rq.OutputZeroPoint,
                    };
                    Depthwise3x3.CopyBytes(s, X + ((long)p * inPlane), InH, InW, Zero, plane, pw);
                    Depthwise3x3.Plane(s.StrideW, plane, pw, result, OutH, OutW, w, 0f, default, Width, quant);
                    continue;
                }

                if (fast)
                {
                    Depthwise3x3.CopyBytes(s, X + ((long)p * inPlane), InH, InW, Zero, plane, pw);
                    Depthwise3x3.Plane(s.StrideW, plane, pw, result, OutH, OutW, w, 0f, default, Width);
                }
                else
                {
                    TensorPrimitives.ConvertChecked<byte, float>(new ReadOnlySpan<byte>(X + ((long)p * inPlane), inPlane), new Span<float>(plane, inPlane));
                    TensorPrimitives.Subtract(new ReadOnlySpan<float>(plane, inPlane), Zero, new Span<float>(plane, inPlane));
                    DepthwiseConv.Plane(s, plane, InH, InW, result, OutH, OutW, w, 0f, phases, default);
                }

                if (Y32 != null)
                {
                    int* dst = Y32 + ((long)p * outPlane);
                    for (int i = 0; i < outPlane; i++)
                    {
                        dst[i] = (int)result[i] + bias;
                    }
                }
                else
                {
                    var rq = Requant!;
                    QGemm.RequantizeFloatRow(result, outPlane, bias, rq.IsPerTensor ? Scales[0] : Scales[m],
                                             rq.OutputZeroPoint, rq.Min, rq.Max, Yq + ((long)p * outPlane), Width);
                }
            }
        }
    }
}
