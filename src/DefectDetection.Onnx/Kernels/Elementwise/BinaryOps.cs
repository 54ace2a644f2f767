using System.Numerics;
using System.Numerics.Tensors;

namespace DefectDetection.Onnx.Kernels.Elementwise;

internal readonly struct AddOp<T> : IBinaryOp<T, T>
    where T : INumber<T>
{
    public static T Apply(T a, T b) => a + b;

    public static void VectorVector(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Add(a, b, d);

    public static void VectorScalar(ReadOnlySpan<T> a, T b, Span<T> d) => TensorPrimitives.Add(a, b, d);

    public static void ScalarVector(T a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Add(b, a, d);
}

internal readonly struct SubOp<T> : IBinaryOp<T, T>
    where T : INumber<T>
{
    public static T Apply(T a, T b) => a - b;

    public static void VectorVector(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Subtract(a, b, d);

    public static void VectorScalar(ReadOnlySpan<T> a, T b, Span<T> d) => TensorPrimitives.Subtract(a, b, d);

    public static void ScalarVector(T a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Subtract(a, b, d);
}

internal readonly struct MulOp<T> : IBinaryOp<T, T>
    where T : INumber<T>
{
    public static T Apply(T a, T b) => a * b;

    public static void VectorVector(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Multiply(a, b, d);

    public static void VectorScalar(ReadOnlySpan<T> a, T b, Span<T> d) => TensorPrimitives.Multiply(a, b, d);

    public static void ScalarVector(T a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Multiply(b, a, d);
}

internal readonly struct DivOp<T> : IBinaryOp<T, T>
    where T : INumber<T>
{
    public static T Apply(T a, T b) => a / b;

    public static void VectorVector(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Divide(a, b, d);

    public static void VectorScalar(ReadOnlySpan<T> a, T b, Span<T> d) => TensorPrimitives.Divide(a, b, d);

    public static void ScalarVector(T a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Divide(a, b, d);
}

internal readonly struct MaxOp<T> : IBinaryOp<T, T>
    where T : INumber<T>
{
    public static T Apply(T a, T b) => T.Max(a, b);

    public static void VectorVector(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Max(a, b, d);

    public static void VectorScalar(ReadOnlySpan<T> a, T b, Span<T> d) => TensorPrimitives.Max(a, b, d);

    public static void ScalarVector(T a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Max(b, a, d);
}

internal readonly struct MinOp<T> : IBinaryOp<T, T>
    where T : INumber<T>
{
    public static T Apply(T a, T b) => T.Min(a, b);

    public static void VectorVector(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Min(a, b, d);

    public static void VectorScalar(ReadOnlySpan<T> a, T b, Span<T> d) => TensorPrimitives.Min(a, b, d);

    public static void ScalarVector(T a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Min(b, a, d);
}

internal readonly struct PowOp : IBinaryOp<float, float>
{
    public static float Apply(float a, float b) => MathF.Pow(a, b);

    public static void VectorVector(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Pow(a, b, d);

    public static void VectorScalar(ReadOnlySpan<float> a, float b, Span<float> d)
    {
        if (b == 2f)
        {
            TensorPrimitives.Multiply(a, a, d);
        }
        else if (b == 0.5f)
        {
            TensorPrimitives.Sqrt(a, d);
        }
        else
        {
            TensorPrimitives.Pow(a, b, d);
        }
    }

    public static void ScalarVector(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Pow(a, b, d);
}

internal readonly struct PReluOp : IBinaryOp<float, float>
{
    public static float Apply(float a, float b) => a < 0 ? a * b : a;

    public static void VectorVector(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d)
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = Apply(a[i], b[i]);
        }
    }

    public static void VectorScalar(ReadOnlySpan<float> a, float b, Span<float> d)
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = Apply(a[i], b);
        }
    }

    public static void ScalarVector(float a, ReadOnlySpan<float> b, Span<float> d)
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = Apply(a, b[i]);
        }
    }
}

/// <summary>A comparison producing bool; scalar loops (comparisons are rare and small in vision graphs).</summary>
internal readonly struct CompareOp<T, TCmp> : IBinaryOp<T, bool>
    where TCmp : ICompare<T>
{
    public static bool Apply(T a, T b) => TCmp.Compare(a, b);

    public static void VectorVector(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<bool> d)
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = TCmp.Compare(a[i], b[i]);
        }
    }

    public static void VectorScalar(ReadOnlySpan<T> a, T b, Span<bool> d)
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = TCmp.Compare(a[i], b);
        }
    }

    public static void ScalarVector(T a, ReadOnlySpan<T> b, Span<bool> d)
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = TCmp.Compare(a, b[i]);
        }
    }
}

internal interface ICompare<T>
{
    static abstract bool Compare(T a, T b);
}

internal readonly struct EqualCmp<T> : ICompare<T>
    where T : IEquatable<T>
{
    public static bool Compare(T a, T b) => a.Equals(b);
}

internal readonly struct GreaterCmp<T> : ICompare<T>
    where T : IComparisonOperators<T, T, bool>
{
    public static bool Compare(T a, T b) => a > b;
}

internal readonly struct LessCmp<T> : ICompare<T>
    where T : IComparisonOperators<T, T, bool>
{
    public static bool Compare(T a, T b) => a < b;
}

internal readonly struct GreaterOrEqualCmp<T> : ICompare<T>
    where T : IComparisonOperators<T, T, bool>
{
    public static bool Compare(T a, T b) => a >= b;
}

internal readonly struct LessOrEqualCmp<T> : ICompare<T>
    where T : IComparisonOperators<T, T, bool>
{
    public static bool Compare(T a, T b) => a <= b;
}

internal readonly struct OrCmp : ICompare<bool>
{
    public static bool Compare(bool a, bool b) => a | b;
}

internal readonly struct XorCmp : ICompare<bool>
{
    public static bool Compare(bool a, bool b) => a ^ b;
}

internal readonly struct AndOp : IBinaryOp<bool, bool>
{
    public static bool Apply(bool a, bool b) => a & b;

    public static void VectorVector(ReadOnlySpan<bool> a, ReadOnlySpan<bool> b, Span<bool> d)
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = a[i] & b[i];
        }
    }

    public static void VectorScalar(ReadOnlySpan<bool> a, bool b, Span<bool> d)
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = a[i] & b;
        }
    }

    public static void ScalarVector(bool a, ReadOnlySpan<bool> b, Span<bool> d) => VectorScalar(b, a, d);
}
