using System.Numerics.Tensors;

namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>An element-wise activation fused into the epilogue of a GEMM or convolution.</summary>
internal enum FusedActivation
{
    /// <summary>Identity.</summary>
    None,

    /// <summary>max(x, 0).</summary>
    Relu,

    /// <summary>min(max(x, A), B) (ONNX Clip with min = A, max = B).</summary>
    Clip,

    /// <summary>x if x &gt;= 0 else A * x (ONNX LeakyRelu, alpha = A).</summary>
    LeakyRelu,

    /// <summary>1 / (1 + exp(-x)).</summary>
    Sigmoid,

    /// <summary>max(0, min(1, A * x + B)) (ONNX HardSigmoid, alpha = A, beta = B).</summary>
    HardSigmoid,

    /// <summary>x * max(0, min(1, x / 6 + 1 / 2)) (ONNX HardSwish).</summary>
    HardSwish,

    /// <summary>tanh(x).</summary>
    Tanh,

    /// <summary>x * sigmoid(x) (SiLU / Swish: Sigmoid followed by Mul with its input, as in YOLOX).</summary>
    Silu,
}

/// <summary>A fused activation and its parameters (see <see cref="FusedActivation"/> for the meaning of A and B).</summary>
/// <param name="Kind">The activation.</param>
/// <param name="A">First parameter (Clip min, LeakyRelu/HardSigmoid alpha).</param>
/// <param name="B">Second parameter (Clip max, HardSigmoid beta).</param>
internal readonly record struct ActivationParams(FusedActivation Kind, float A = 0, float B = 0)
{
    /// <summary>No activation.</summary>
    public static ActivationParams None => default;

    /// <summary>ReLU.</summary>
    public static ActivationParams Relu => new(FusedActivation.Relu);

    /// <summary>Clip to [min, max].</summary>
    public static ActivationParams Clip(float min, float max) => new(FusedActivation.Clip, min, max);

    /// <summary>Applies the activation in place.</summary>
    public void Apply(Span<float> values)
    {
        switch (Kind)
        {
            case FusedActivation.None:
                break;
            case FusedActivation.Relu:
                TensorPrimitives.Max(values, 0f, values);
                break;
            case FusedActivation.Clip:
                TensorPrimitives.Max(values, A, values);
                TensorPrimitives.Min(values, B, values);
                break;
            case FusedActivation.LeakyRelu:
                for (int i = 0; i < values.Length; i++)
                {
                    float v = values[i];
                    values[i] = v >= 0 ? v : A * v;
                }

                break;
            case FusedActivation.Sigmoid:
                TensorPrimitives.Sigmoid(values, values);
                break;
            case FusedActivation.HardSigmoid:
                TensorPrimitives.Multiply(values, A, values);
                TensorPrimitives.Add(values, B, values);
                TensorPrimitives.Max(values, 0f, values);
                TensorPrimitives.Min(values, 1f, values);
                break;
            case FusedActivation.HardSwish:
                for (int i = 0; i < values.Length; i++)
                {
                    float v = values[i];
                    values[i] = v * Math.Clamp((v * (1f / 6f)) + 0.5f, 0f, 1f);
                }

                break;
            case FusedActivation.Tanh:
                TensorPrimitives.Tanh(values, values);
                break;
            case FusedActivation.Silu:
                Span<float> sigmoid = stackalloc float[256];
                for (int i = 0; i < values.Length; i += sigmoid.Length)
                {
                    Span<float> chunk = values.Slice(i, Math.Min(sigmoid.Length, values.Length - i));
                    Span<float> s = sigmoid.Slice(0, chunk.Length);
                    TensorPrimitives.Sigmoid(chunk, s);
                    TensorPrimitives.Multiply(chunk, s, chunk);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown fused activation.");
        }
    }
}
