using System.Numerics.Tensors;
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

    /// <summary>Floats of scratch <see cref="Plane"/> needs (stride phases).</summary>
    public static int ScratchFloats(in Conv2dShape s, int inW) => PhaseFloats(s, inW);

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
    public static void Plane(in Conv2dShape s, float* src, int inH, int inW, float* dst, int outH, int outW,
                             float* w, float bias, float* scratch, ActivationParams act)
    {
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
}
