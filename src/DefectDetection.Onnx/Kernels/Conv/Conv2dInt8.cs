using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

/// <summary>
/// A quantized 2-D convolution (NCHW): u8 activations x s8 weights accumulated in int32,
/// acc[m] = bias32[m] + sum (x - inputZeroPoint) * (w - weightZeroPoint[m]) (padding counts as x = inputZeroPoint,
/// i.e. real zero). With a <see cref="Requantization"/> (QLinearConv / fused QDQ) the output is u8 or s8; without,
/// the int32 accumulators are the output (ConvInteger). s8 activations: the caller adds 128 to the values and the
/// zero point. u8 weights: the caller subtracts 128 from the values and the zero points.
/// Created once per node; <see cref="Run(ReadOnlySpan{byte}, int, int, int, Span{byte}, Span{byte}, IntraOpThreadPool?)"/>
/// changes no state.
/// </summary>
internal sealed partial class Conv2dInt8
{
    private readonly Conv2dShape _shape;
    private readonly sbyte[] _weights;
    private readonly int[] _weightZeroPoints;
    private readonly int[] _bias;
    private readonly byte _inputZeroPoint;
    private readonly Requantization? _requant;

    /// <summary>Creates the convolution.</summary>
    /// <param name="shape">The geometry (validated).</param>
    /// <param name="weights">[M, C / group, kH, kW] s8.</param>
    /// <param name="weightZeroPoints">One zero point per output channel (M values) or one for all.</param>
    /// <param name="bias32">int32 bias per output channel (M values), or empty.</param>
    /// <param name="inputZeroPoint">The u8 input zero point.</param>
    /// <param name="requant">Output requantization (per output channel or per tensor), or null for int32 output.</param>
    public Conv2dInt8(in Conv2dShape shape, ReadOnlySpan<sbyte> weights, ReadOnlySpan<int> weightZeroPoints,
                      ReadOnlySpan<int> bias32, byte inputZeroPoint, Requantization? requant)
    {
        shape.Validate();
        if (weights.Length != (long)shape.OutChannels * shape.WeightsPerOutputChannel)
        {
            throw new ArgumentException("The weights must hold M x C/group x kH x kW values.", nameof(weights));
        }

        if (weightZeroPoints.Length != 1 && weightZeroPoints.Length != shape.OutChannels)
        {
            throw new ArgumentException("The weight zero points must have 1 or M values.", nameof(weightZeroPoints));
        }

        if (!bias32.IsEmpty && bias32.Length != shape.OutChannels)
        {
            throw new ArgumentException("The bias must hold M values.", nameof(bias32));
        }

        if (requant is not null && !requant.IsPerTensor && requant.Scale.Length != shape.OutChannels)
        {
            throw new ArgumentException("The requantization needs 1 or M scales.", nameof(requant));
        }

        _shape = shape;
        _weights = weights.ToArray();
        _weightZeroPoints = new int[shape.OutChannels];
        for (int m = 0; m < shape.OutChannels; m++)
        {
            _weightZeroPoints[m] = weightZeroPoints.Length == 1 ? weightZeroPoints[0] : weightZeroPoints[m];
        }

        _bias = bias32.ToArray();
        _inputZeroPoint = inputZeroPoint;
        _requant = requant;
    }

    /// <summary>The geometry.</summary>
    public Conv2dShape Shape => _shape;

    /// <summary>The requantization, or null when the output is int32.</summary>
    public Requantization? Requantization => _requant;

    /// <summary>The number of scratch bytes a call needs for this input size (0 if none).</summary>
    public long ScratchBytes(int batch, int inH, int inW) => 0;

    /// <summary>
    /// Quantized output (requires a <see cref="Requantization"/>): output[N, M, outH, outW] u8, or s8 stored as
    /// two's-complement bytes. <paramref name="scratch"/> holds at least <see cref="ScratchBytes"/> bytes.
    /// </summary>
    public void Run(ReadOnlySpan<byte> input, int batch, int inH, int inW, Span<byte> output,
                    Span<byte> scratch, IntraOpThreadPool? pool)
    {
        if (_requant is null)
        {
            throw new InvalidOperationException("This convolution has no requantization; use the int32 overload.");
        }

        (int outH, int outW) = _shape.CheckRun(input.Length, batch, inH, inW, output.Length);
        int plane = outH * outW;
        for (int b = 0; b < batch; b++)
        {
            for (int m = 0; m < _shape.OutChannels; m++)
            {
                for (int p = 0; p < plane; p++)
                {
                    int acc = Accumulate(input, b, m, p / outW, p % outW, inH, inW);
                    output[((b * _shape.OutChannels) + m) * plane + p] = (byte)_requant.Apply(acc, m);
                }
            }
        }
    }

    /// <summary>int32 output (ConvInteger, bias included when given): output[N, M, outH, outW].</summary>
    public void Run(ReadOnlySpan<byte> input, int batch, int inH, int inW, Span<int> output,
                    Span<byte> scratch, IntraOpThreadPool? pool)
    {
        (int outH, int outW) = _shape.CheckRun(input.Length, batch, inH, inW, output.Length);
        int plane = outH * outW;
        for (int b = 0; b < batch; b++)
        {
            for (int m = 0; m < _shape.OutChannels; m++)
            {
                for (int p = 0; p < plane; p++)
                {
                    output[((b * _shape.OutChannels) + m) * plane + p] = Accumulate(input, b, m, p / outW, p % outW, inH, inW);
                }
            }
        }
    }

    private int Accumulate(ReadOnlySpan<byte> input, int b, int m, int oy, int ox, int inH, int inW)
    {
        var s = _shape;
        int cg = s.InChannelsPerGroup;
        int g = m / s.OutChannelsPerGroup;
        int wz = _weightZeroPoints[m];
        int acc = _bias.Length > 0 ? _bias[m] : 0;
        for (int c = 0; c < cg; c++)
        {
            int ic = (g * cg) + c;
            for (int ky = 0; ky < s.KernelH; ky++)
            {
                int iy = (oy * s.StrideH) - s.PadTop + (ky * s.DilationH);
                for (int kx = 0; kx < s.KernelW; kx++)
                {
                    int ix = (ox * s.StrideW) - s.PadLeft + (kx * s.DilationW);
                    if ((uint)iy >= (uint)inH || (uint)ix >= (uint)inW)
                    {
                        continue; // (zero point - zero point) = 0
                    }

                    int x = input[((((b * s.InChannels) + ic) * inH) + iy) * inW + ix] - _inputZeroPoint;
                    acc += x * (_weights[(((m * cg) + c) * s.KernelH + ky) * s.KernelW + kx] - wz);
                }
            }
        }

        return acc;
    }
}
