using System.Numerics;
using System.Numerics.Tensors;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Elementwise;

/// <summary>Sum, Mean, Max and Min over one or more inputs with multidirectional broadcasting (folded left to right
/// into the output, which has the broadcast shape of all inputs).</summary>
internal sealed class VariadicKernel(GraphNode node) : OpKernel(node)
{
    private readonly string _op = node.OpType;

    public override void Run(KernelContext ctx)
    {
        int n = ctx.InputCount;
        if (n == 0)
        {
            throw Error("At least one input is required.");
        }

        TensorValue first = ctx.Input(0);
        Span<int> shape = stackalloc int[Broadcast.MaxRank];
        Span<int> next = stackalloc int[Broadcast.MaxRank];
        int rank = first.Rank;
        first.Dims.CopyTo(shape);
        for (int i = 1; i < n; i++)
        {
            TensorValue x = ctx.Input(i);
            if (x.Type != first.Type)
            {
                throw Error($"All inputs must have the same element type ({first.Type} vs {x.Type}).");
            }

            rank = Broadcast.Shape(shape[..rank], x.Dims, next);
            next[..rank].CopyTo(shape);
        }

        TensorValue y = ctx.Output(0, first.Type, shape[..rank]);
        switch (first.Type)
        {
            case TensorElementType.Float32: Fold<float>(ctx, y, shape[..rank]); break;
            case TensorElementType.Double: Fold<double>(ctx, y, shape[..rank]); break;
            case TensorElementType.Int32: Fold<int>(ctx, y, shape[..rank]); break;
            case TensorElementType.Int64: Fold<long>(ctx, y, shape[..rank]); break;
            default: throw Error($"Element type {first.Type} is not supported.");
        }
    }

    private void Fold<T>(KernelContext ctx, TensorValue y, ReadOnlySpan<int> shape)
        where T : unmanaged, INumber<T>
    {
        int n = ctx.InputCount;
        Span<T> d = y.Span<T>();
        TensorValue x0 = ctx.Input(0);
        if (n == 1)
        {
            x0.Span<T>().CopyTo(d);
        }
        else
        {
            TensorValue x1 = ctx.Input(1);
            Apply<T>(x0.Span<T>(), x0.Dims, x1.Span<T>(), x1.Dims, d, shape);
            for (int i = 2; i < n; i++)
            {
                TensorValue xi = ctx.Input(i);
                Apply<T>(d, shape, xi.Span<T>(), xi.Dims, d, shape);
            }
        }

        if (_op == "Mean")
        {
            TensorPrimitives.Divide(d, T.CreateChecked(n), d);
        }
    }

    private void Apply<T>(ReadOnlySpan<T> a, ReadOnlySpan<int> aShape, ReadOnlySpan<T> b, ReadOnlySpan<int> bShape, Span<T> d, ReadOnlySpan<int> shape)
        where T : unmanaged, INumber<T>
    {
        switch (_op)
        {
            case "Max": Broadcast.Binary<T, T, MaxOp<T>>(a, aShape, b, bShape, d, shape); break;
            case "Min": Broadcast.Binary<T, T, MinOp<T>>(a, aShape, b, bShape, d, shape); break;
            default: Broadcast.Binary<T, T, AddOp<T>>(a, aShape, b, bShape, d, shape); break;
        }
    }
}
