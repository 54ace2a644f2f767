using System.Numerics;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Elementwise;

/// <summary>Add, Sub, Mul, Div, Pow, Max, Min, PRelu, Equal, Greater, Less, GreaterOrEqual, LessOrEqual, And, Or, Xor with multidirectional broadcasting.</summary>
internal sealed class BinaryKernel : OpKernel
{
    private readonly string _op;

    public BinaryKernel(GraphNode node)
        : base(node)
    {
        _op = node.OpType;
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue a = ctx.Input(0);
        TensorValue b = ctx.Input(1);
        if (_op == "Pow" && b.Type != TensorElementType.Float32 && a.Type == TensorElementType.Float32)
        {
            RunPowMixed(ctx, a, b);
            return;
        }

        if (a.Type != b.Type)
        {
            throw Error($"Both inputs must have the same element type ({a.Type} vs {b.Type}).");
        }

        Span<int> shape = stackalloc int[Broadcast.MaxRank];
        int rank = Broadcast.Shape(a.Dims, b.Dims, shape);
        shape = shape[..rank];
        bool compare = _op is "Equal" or "Greater" or "Less" or "GreaterOrEqual" or "LessOrEqual" or "And" or "Or" or "Xor";
        TensorValue y = ctx.Output(0, compare ? TensorElementType.Bool : a.Type, shape);
        switch (a.Type)
        {
            case TensorElementType.Float32: Numeric<float>(a, b, y, shape); break;
            case TensorElementType.Int32: Numeric<int>(a, b, y, shape); break;
            case TensorElementType.Int64: Numeric<long>(a, b, y, shape); break;
            case TensorElementType.Double: Numeric<double>(a, b, y, shape); break;
            case TensorElementType.UInt8: Numeric<byte>(a, b, y, shape); break;
            case TensorElementType.Int8: Numeric<sbyte>(a, b, y, shape); break;
            case TensorElementType.Bool when _op is "Equal" or "And" or "Or" or "Xor":
                switch (_op)
                {
                    case "And": Broadcast.Binary<bool, bool, AndOp>(a.Span<bool>(), a.Dims, b.Span<bool>(), b.Dims, y.Span<bool>(), shape); break;
                    case "Or": Broadcast.Binary<bool, bool, CompareOp<bool, OrCmp>>(a.Span<bool>(), a.Dims, b.Span<bool>(), b.Dims, y.Span<bool>(), shape); break;
                    case "Xor": Broadcast.Binary<bool, bool, CompareOp<bool, XorCmp>>(a.Span<bool>(), a.Dims, b.Span<bool>(), b.Dims, y.Span<bool>(), shape); break;
                    default: Broadcast.Binary<bool, bool, CompareOp<bool, EqualCmp<bool>>>(a.Span<bool>(), a.Dims, b.Span<bool>(), b.Dims, y.Span<bool>(), shape); break;
                }

                break;
            default: throw Error($"Element type {a.Type} is not supported.");
        }
    }

    private void Numeric<T>(TensorValue a, TensorValue b, TensorValue y, ReadOnlySpan<int> shape)
        where T : unmanaged, INumber<T>
    {
        ReadOnlySpan<T> sa = a.Span<T>();
        ReadOnlySpan<T> sb = b.Span<T>();
        switch (_op)
        {
            case "Add": Broadcast.Binary<T, T, AddOp<T>>(sa, a.Dims, sb, b.Dims, y.Span<T>(), shape); break;
            case "Sub": Broadcast.Binary<T, T, SubOp<T>>(sa, a.Dims, sb, b.Dims, y.Span<T>(), shape); break;
            case "Mul": Broadcast.Binary<T, T, MulOp<T>>(sa, a.Dims, sb, b.Dims, y.Span<T>(), shape); break;
            case "Div": Broadcast.Binary<T, T, DivOp<T>>(sa, a.Dims, sb, b.Dims, y.Span<T>(), shape); break;
            case "Max": Broadcast.Binary<T, T, MaxOp<T>>(sa, a.Dims, sb, b.Dims, y.Span<T>(), shape); break;
            case "Min": Broadcast.Binary<T, T, MinOp<T>>(sa, a.Dims, sb, b.Dims, y.Span<T>(), shape); break;
            case "Equal": Broadcast.Binary<T, bool, CompareOp<T, EqualCmp<T>>>(sa, a.Dims, sb, b.Dims, y.Span<bool>(), shape); break;
            case "Greater": Broadcast.Binary<T, bool, CompareOp<T, GreaterCmp<T>>>(sa, a.Dims, sb, b.Dims, y.Span<bool>(), shape); break;
            case "Less": Broadcast.Binary<T, bool, CompareOp<T, LessCmp<T>>>(sa, a.Dims, sb, b.Dims, y.Span<bool>(), shape); break;
            case "GreaterOrEqual": Broadcast.Binary<T, bool, CompareOp<T, GreaterOrEqualCmp<T>>>(sa, a.Dims, sb, b.Dims, y.Span<bool>(), shape); break;
            case "LessOrEqual": Broadcast.Binary<T, bool, CompareOp<T, LessOrEqualCmp<T>>>(sa, a.Dims, sb, b.Dims, y.Span<bool>(), shape); break;
            case "Pow" when typeof(T) == typeof(float):
                Broadcast.Binary<float, float, PowOp>(a.Span<float>(), a.Dims, b.Span<float>(), b.Dims, y.Span<float>(), shape);
                break;
            case "PRelu" when typeof(T) == typeof(float):
                Broadcast.Binary<float, float, PReluOp>(a.Span<float>(), a.Dims, b.Span<float>(), b.Dims, y.Span<float>(), shape);
                break;
            default: throw Error($"Element type {a.Type} is not supported.");
        }
    }

    private void RunPowMixed(KernelContext ctx, TensorValue a, TensorValue b)
    {
        Span<int> shape = stackalloc int[Broadcast.MaxRank];
        int rank = Broadcast.Shape(a.Dims, b.Dims, shape);
        shape = shape[..rank];
        Span<float> exp = ctx.Scratch<float>(b.Length);
        for (int i = 0; i < exp.Length; i++)
        {
            exp[i] = b.GetFloat(i);
        }

        TensorValue y = ctx.Output(0, a.Type, shape);
        Broadcast.Binary<float, float, PowOp>(a.Span<float>(), a.Dims, exp, b.Dims, y.Span<float>(), shape);
    }
}

/// <summary>Where(condition, X, Y) with broadcasting of all three.</summary>
internal sealed class WhereKernel(GraphNode node) : OpKernel(node)
{
    public override void Run(KernelContext ctx)
    {
        TensorValue c = ctx.Input(0);
        TensorValue x = ctx.Input(1);
        TensorValue y = ctx.Input(2);
        Span<int> s1 = stackalloc int[Broadcast.MaxRank];
        int r1 = Broadcast.Shape(c.Dims, x.Dims, s1);
        Span<int> shape = stackalloc int[Broadcast.MaxRank];
        int rank = Broadcast.Shape(s1[..r1], y.Dims, shape);
        shape = shape[..rank];
        TensorValue o = ctx.Output(0, x.Type, shape);
        Span<int> sc = stackalloc int[rank];
        Span<int> sx = stackalloc int[rank];
        Span<int> sy = stackalloc int[rank];
        Broadcast.Strides(c.Dims, shape, sc);
        Broadcast.Strides(x.Dims, shape, sx);
        Broadcast.Strides(y.Dims, shape, sy);
        int size = OnnxTensor.ElementSize(x.Type);
        ReadOnlySpan<byte> cb = c.Span<byte>();
        ReadOnlySpan<byte> xb = x.Bytes();
        ReadOnlySpan<byte> yb = y.Bytes();
        Span<byte> ob = o.Bytes();
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int oc = 0, ox = 0, oy = 0;
        for (int i = 0; i < o.Length; i++)
        {
            ReadOnlySpan<byte> src = cb[oc] != 0 ? xb.Slice(ox * size, size) : yb.Slice(oy * size, size);
            src.CopyTo(ob.Slice(i * size, size));
            for (int d = rank - 1; d >= 0; d--)
            {
                counter[d]++;
                oc += sc[d];
                ox += sx[d];
                oy += sy[d];
                if (counter[d] < shape[d])
                {
                    break;
                }

                oc -= sc[d] * shape[d];
                ox -= sx[d] * shape[d];
                oy -= sy[d] * shape[d];
                counter[d] = 0;
            }
        }
    }
}
