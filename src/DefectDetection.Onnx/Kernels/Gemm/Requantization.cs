namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// Converts int32 accumulators to u8 or s8 like ONNX Runtime's MLAS:
/// q = clamp(round_half_even((float)acc * Scale[c]) + OutputZeroPoint, Min, Max), computed in float32
/// (the float product is clamped to [Min - zp, Max - zp] before rounding). Scale[c] = inputScale * weightScale[c] / outputScale.
/// A narrower [Min, Max] than the type's range carries a fused ReLU/ReLU6 (QDQ models clip through the quantization range).
/// Immutable.
/// </summary>
internal sealed class Requantization
{
    private readonly float[] _scale;

    /// <summary>Creates the requantization.</summary>
    /// <param name="scale">One scale per output channel, or a single scale for all.</param>
    /// <param name="outputZeroPoint">Output zero point (in the output type's range).</param>
    /// <param name="outputSigned">True for s8 output (stored as two's-complement bytes), false for u8.</param>
    /// <param name="min">Lowest output value; defaults to the type's minimum.</param>
    /// <param name="max">Highest output value; defaults to the type's maximum.</param>
    public Requantization(ReadOnlySpan<float> scale, int outputZeroPoint, bool outputSigned, int? min = null, int? max = null)
    {
        if (scale.IsEmpty)
        {
            throw new ArgumentException("At least one scale is needed.", nameof(scale));
        }

        int lo = outputSigned ? sbyte.MinValue : byte.MinValue, hi = outputSigned ? sbyte.MaxValue : byte.MaxValue;
        Min = Math.Clamp(min ?? lo, lo, hi);
        Max = Math.Clamp(max ?? hi, lo, hi);
        if (Min > Max || outputZeroPoint < lo || outputZeroPoint > hi)
        {
            throw new ArgumentException("Invalid output range or zero point.");
        }

        _scale = scale.ToArray();
        OutputZeroPoint = outputZeroPoint;
        OutputSigned = outputSigned;
    }

    /// <summary>Per-channel (or single) scales.</summary>
    public ReadOnlySpan<float> Scale => _scale;

    /// <summary>True when one scale applies to all channels.</summary>
    public bool IsPerTensor => _scale.Length == 1;

    /// <summary>Output zero point.</summary>
    public int OutputZeroPoint { get; }

    /// <summary>True for s8 output, false for u8.</summary>
    public bool OutputSigned { get; }

    /// <summary>Lowest output value (inclusive).</summary>
    public int Min { get; }

    /// <summary>Highest output value (inclusive).</summary>
    public int Max { get; }

    /// <summary>The scale for channel <paramref name="channel"/>.</summary>
    public float ScaleOf(int channel) => _scale.Length == 1 ? _scale[0] : _scale[channel];

    /// <summary>Requantizes one accumulator; the result is the output value as an int (cast to byte/sbyte to store).</summary>
    public int Apply(int accumulator, int channel)
    {
        float v = accumulator * ScaleOf(channel);
        v = Math.Clamp(v, Min - OutputZeroPoint, Max - OutputZeroPoint);
        return (int)MathF.Round(v, MidpointRounding.ToEven) + OutputZeroPoint;
    }
}
