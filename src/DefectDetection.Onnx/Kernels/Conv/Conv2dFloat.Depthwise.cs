using System.Numerics.Tensors;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

// Depthwise convolution (group == C == M): each output plane is one input plane filtered with a kH x kW kernel.
internal sealed unsafe partial class Conv2dFloat
{
    [ThreadStatic]
    private static float[]? t_phases;

    private void RunDepthwise(float* x, int batch, int inH, int inW, float* y, int outH, int outW, IntraOpThreadPool? pool)
    {
        fixed (float* w = _weights)
        fixed (float* bias = _bias)
        {
            var work = new DepthwiseWork
            {
                Shape = _shape, X = x, Y = y, W = w, Bias = _bias.Length > 0 ? bias : null, Act = _act,
                InH = inH, InW = inW, OutH = outH, OutW = outW,
            };
            int planes = batch * _shape.OutChannels;
            IntraOpThreadPool.For((long)planes * outH * outW * _shape.KernelH * _shape.KernelW > 50_000 ? pool : null, planes, ref work);
        }
    }

    private struct DepthwiseWork : IParallelWork
    {
        public Conv2dShape Shape;
        public float* X, Y, W, Bias;
        public Gemm.ActivationParams Act;
        public int InH, InW, OutH, OutW;

        public readonly void Run(int start, int end)
        {
            var s = Shape;
            int sw = s.StrideW;
            // Stride > 1: the input row is split into sw phases so that every tap reads a contiguous run.
            int phaseLen = (InW + sw - 1) / sw;
            float* phases = sw > 1 ? Gemm.Sgemm.Scratch(ref t_phases, (long)phaseLen * sw) : null;
            for (int plane = start; plane < end; plane++)
            {
                int m = plane % s.OutChannels;
                float* src = X + ((long)plane * InH * InW);
                float* dst = Y + ((long)plane * OutH * OutW);
                float* w = W + ((long)m * s.KernelH * s.KernelW);
                float b = Bias != null ? Bias[m] : 0f;
                for (int oy = 0; oy < OutH; oy++)
                {
                    var outRow = new Span<float>(dst + ((long)oy * OutW), OutW);
                    outRow.Fill(b);
                    for (int ky = 0; ky < s.KernelH; ky++)
                    {
                        int iy = (oy * s.StrideH) - s.PadTop + (ky * s.DilationH);
                        if ((uint)iy >= (uint)InH)
                        {
                            continue;
                        }

                        float* row = src + ((long)iy * InW);
                        if (sw > 1)
                        {
                            for (int p = 0; p < sw; p++)
                            {
                                float* ph = phases + ((long)p * phaseLen);
                                for (int i = 0, ix = p; ix < InW; i++, ix += sw)
                                {
                                    ph[i] = row[ix];
                                }
                            }
                        }

                        for (int kx = 0; kx < s.KernelW; kx++)
                        {
                            int off = (kx * s.DilationW) - s.PadLeft;
                            int lo = off >= 0 ? 0 : Math.Min(OutW, (-off + sw - 1) / sw);
                            int hi = InW - 1 - off < 0 ? lo : Math.Max(lo, Math.Min(OutW, ((InW - 1 - off) / sw) + 1));
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

                    Act.Apply(outRow);
                }
            }
        }
    }
}
