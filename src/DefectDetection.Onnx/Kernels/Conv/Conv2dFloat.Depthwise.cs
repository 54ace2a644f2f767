using System.Runtime.CompilerServices;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

// Depthwise convolution (group == C == M): each output plane is one input plane filtered with a kH x kW kernel.
internal sealed unsafe partial class Conv2dFloat
{
    [ThreadStatic]
    private static float[]? t_phases;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunDepthwise(float* x, int batch, int inH, int inW, float* y, int outH, int outW, IntraOpThreadPool? pool)
    {
        fixed (float* w = _weights)
        fixed (float* bias = _bias)
        {
            var work = new DepthwiseWork
            {
                Shape = _shape, X = x, Y = y, W = w, Bias = _bias.Length > 0 ? bias : null, Act = _act,
                InH = inH, InW = inW, OutH = outH, OutW = outW, Width = _width,
            };
            int planes = batch * _shape.OutChannels;
            IntraOpThreadPool.For((long)planes * outH * outW * _shape.KernelH * _shape.KernelW > 50_000 ? pool : null, planes, ref work);
        }
    }

    private struct DepthwiseWork : IParallelWork
    {
        public Conv2dShape Shape;
        public float* X, Y, W, Bias;
        public ActivationParams Act;
        public int InH, InW, OutH, OutW, Width;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end)
        {
            var s = Shape;
            bool fast = Depthwise3x3.Supports(s, Width);
            int pw = Depthwise3x3.PaddedWidth(s, InW, OutW);
            float* scratch = AlignedScratch.Get(ref t_phases, fast ? Depthwise3x3.ScratchFloats(s, InH, InW, OutW) : DepthwiseConv.ScratchFloats(s, InW));
            if (fast)
            {
                Depthwise3x3.Clear(s, InH, scratch, pw);
            }

            for (int plane = start; plane < end; plane++)
            {
                int m = plane % s.OutChannels;
                float* src = X + ((long)plane * InH * InW), dst = Y + ((long)plane * OutH * OutW);
                float* w = W + ((long)m * s.KernelH * s.KernelW);
                float bias = Bias != null ? Bias[m] : 0f;
                if (fast)
                {
                    Depthwise3x3.CopyFloat(s, src, InH, InW, scratch, pw);
                    Depthwise3x3.Plane(s.StrideW, scratch, pw, dst, OutH, OutW, w, bias, Act, Width);
                }
                else
                {
                    DepthwiseConv.Plane(s, src, InH, InW, dst, OutH, OutW, w, bias, scratch, Act);
                }
            }
        }
    }
}
