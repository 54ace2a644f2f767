using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

/// <summary>
/// A float 2-D convolution (NCHW) with fused bias and activation. Created once per node with the constant weights
/// (which it rearranges); <see cref="Run"/> changes no state, so one instance serves many threads.
/// </summary>
internal sealed partial class Conv2dFloat
{
    private readonly Conv2dShape _shape;
    private readonly float[] _weights;
    private readonly float[] _bias;
    private readonly ActivationParams _act;

    /// <summary>Creates the convolution.</summary>
    /// <param name="shape">The geometry (validated).</param>
    /// <param name="weights">[M, C / group, kH, kW].</param>
    /// <param name="bias">[M], or empty for none.</param>
    /// <param name="act">Activation applied after the bias.</param>
    public Conv2dFloat(in Conv2dShape shape, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, ActivationParams act)
    {
        shape.Validate();
        if (weights.Length != (long)shape.OutChannels * shape.WeightsPerOutputChannel)
        {
            throw new ArgumentException("The weights must hold M x C/group x kH x kW values.", nameof(weights));
        }

        if (!bias.IsEmpty && bias.Length != shape.OutChannels)
        {
            throw new ArgumentException("The bias must hold M values.", nameof(bias));
        }

        _shape = shape;
        _weights = weights.ToArray();
        _bias = bias.ToArray();
        _act = act;
    }

    /// <summary>The geometry.</summary>
    public Conv2dShape Shape => _shape;

    /// <summary>The number of floats of scratch <see cref="Run"/> needs for this input size (0 if none).</summary>
    public long ScratchFloats(int batch, int inH, int inW) => 0;

    /// <summary>
    /// Computes output[N, M, outH, outW] from input[N, C, inH, inW]. <paramref name="scratch"/> must hold at least
    /// <see cref="ScratchFloats"/> floats (contents ignored). Input and output must not overlap.
    /// </summary>
    public void Run(ReadOnlySpan<float> input, int batch, int inH, int inW, Span<float> output,
                    Span<float> scratch, IntraOpThreadPool? pool)
    {
        var s = _shape;
        (int outH, int outW) = s.CheckRun(input.Length, batch, inH, inW, output.Length);
        if (scratch.Length < ScratchFloats(batch, inH, inW))
        {
            throw new ArgumentException("The scratch buffer is too small.", nameof(scratch));
        }

        int cg = s.InChannelsPerGroup, mg = s.OutChannelsPerGroup;
        for (int b = 0; b < batch; b++)
        {
            for (int m = 0; m < s.OutChannels; m++)
            {
                int g = m / mg;
                Span<float> plane = output.Slice(((b * s.OutChannels) + m) * outH * outW, outH * outW);
                for (int oy = 0; oy < outH; oy++)
                {
                    for (int ox = 0; ox < outW; ox++)
                    {
                        float sum = _bias.Length > 0 ? _bias[m] : 0f;
                        for (int c = 0; c < cg; c++)
                        {
                            int ic = (g * cg) + c;
                            for (int ky = 0; ky < s.KernelH; ky++)
                            {
                                int iy = (oy * s.StrideH) - s.PadTop + (ky * s.DilationH);
                                if ((uint)iy >= (uint)inH)
                                {
                                    continue;
                                }

                                for (int kx = 0; kx < s.KernelW; kx++)
                                {
                                    int ix = (ox * s.StrideW) - s.PadLeft + (kx * s.DilationW);
                                    if ((uint)ix >= (uint)inW)
                                    {
                                        continue;
                                    }

                                    sum += input[((((b * s.InChannels) + ic) * inH) + iy) * inW + ix]
                                           * _weights[(((m * cg) + c) * s.KernelH + ky) * s.KernelW + kx];
                                }
                            }
                        }

                        plane[(oy * outW) + ox] = sum;
                    }
                }

                _act.Apply(plane);
            }
        }
    }
}
