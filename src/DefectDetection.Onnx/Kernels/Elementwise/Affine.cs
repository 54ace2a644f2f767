using System.Numerics.Tensors;

namespace DefectDetection.Onnx.Kernels.Elementwise;

/// <summary>y = x * a + b with scalars a and b.</summary>
internal static class Affine
{
    public static void Apply(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        TensorPrimitives.Multiply(x, a, y);
        TensorPrimitives.Add(y, b, y);
    }
}
