using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Elementwise;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Layout;

/// <summary>Small helpers shared by the shape operators.</summary>
internal static class ShapeHelpers
{
    public static int NormalizeAxis(long axis, int rank, OpKernel? k = null)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1))
        {
            throw new OnnxModelException($"Axis {axis} is out of range for rank {rank}.");
        }

        return (int)a;
    }

    public static void Copy(TensorValue x, TensorValue y) => x.Bytes().CopyTo(y.Bytes());

    /// <summary>
    /// A size read from an int64 tensor (or computed from one) as a dimension: refused, never truncated, when it is
    /// negative or beyond 32 bits (2^32+1 would otherwise act as 1). The node is added to the message by the session.
    /// </summary>
    /// <param name="value">The size.</param>
    /// <param name="what">What it is, for the message ("pads[1]", "output dimension 0").</param>
    public static int Dimension(long value, string what)
        => value is >= 0 and <= int.MaxValue ? (int)value
            : throw new OnnxModelException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{what} is {value}, which is not a valid dimension (0 to {int.MaxValue})."));
}

/// <summary>Reshape (0 copies a dimension unless allowzero; -1 is inferred). Data is copied.</summary>
internal sealed class ReshapeKernel : OpKernel
{
    private readonly bool _allowZero;
    private readonly long[]? _attrShape;

    public ReshapeKernel(GraphNode node)
        : base(node)
    {
        _allowZero = node.GetInt("allowzero", 0) != 0;
        _attrShape = node.Opset < 5 ? node.GetInts("shape") : null;
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int n = _attrShape?.Length ?? ctx.Input(1).Length;
        if (n > Broadcast.MaxRank)
        {
            throw Error($"Target rank {n} is too large.");
        }

        Span<int> shape = stackalloc int[n];
        int infer = -1;
        long known = 1;
        TensorValue? s = _attrShape is null ? ctx.Input(1) : null;
        for (int i = 0; i < n; i++)
        {
            long d = s?.GetInt64(i) ?? _attrShape![i];
            if (d == 0 && !_allowZero)
            {
                if (i >= x.Rank)
                {
                    throw Error("A 0 in the shape refers to a missing input dimension.");
                }

                d = x.Shape[i];
            }

            if (d == -1)
            {
                if (infer >= 0)
                {
                    throw Error("The shape has more than one -1.");
                }

                infer = i;
                shape[i] = 1;
                continue;
            }

            if (d < 0 || d > int.MaxValue)
            {
                throw Error($"Invalid target dimension {d}.");
            }

            shape[i] = (int)d;
            known *= d;
        }

        if (infer >= 0)
        {
            if (known == 0 || x.Length % known != 0)
            {
                throw Error($"Cannot reshape {x.Length} elements with a -1 dimension (known product {known}).");
            }

            shape[infer] = (int)(x.Length / known);
        }
        else if (known != x.Length)
        {
            throw Error($"Cannot reshape {x.Length} elements into {known}.");
        }

        ShapeHelpers.Copy(x, ctx.Output(0, x.Type, shape));
    }
}

/// <summary>Flatten to 2-D at an axis.</summary>
internal sealed class FlattenKernel(GraphNode node) : OpKernel(node)
{
    private readonly int _axis = node.GetInt32("axis", 1);

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int axis = _axis < 0 ? _axis + x.Rank : _axis;
        if (axis < 0 || axis > x.Rank)
        {
            throw Error($"Axis {_axis} is out of range for rank {x.Rank}.");
        }

        int outer = 1;
        for (int i = 0; i < axis; i++)
        {
            outer *= x.Shape[i];
        }

        ReadOnlySpan<int> shape = [outer, outer == 0 ? 0 : x.Length / outer];
        ShapeHelpers.Copy(x, ctx.Output(0, x.Type, shape));
    }
}

/// <summary>Squeeze and Unsqueeze, axes as attribute (opset &lt; 13) or input (13+).</summary>
internal sealed class SqueezeKernel : OpKernel
{
    private readonly long[]? _axes;
    private readonly bool _unsqueeze;

    public SqueezeKernel(GraphNode node)
        : base(node)
    {
        _axes = node.GetInts("axes");
        _unsqueeze = node.OpType == "Unsqueeze";
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue? axesV = ctx.OptionalInput(1);
        int na = axesV?.Length ?? _axes?.Length ?? 0;
        Span<long> axes = stackalloc long[Math.Max(na, 1)];
        axes = axes[..na];
        for (int i = 0; i < na; i++)
        {
            axes[i] = axesV is not null ? axesV.GetInt64(i) : _axes![i];
        }

        Span<int> shape = stackalloc int[Broadcast.MaxRank];
        int rank;
        if (_unsqueeze)
        {
            rank = x.Rank + na;
            if (rank > Broadcast.MaxRank)
            {
                throw Error("Rank too large.");
            }

            Span<bool> inserted = stackalloc bool[rank];
            inserted.Clear();
            foreach (long a in axes)
            {
                int ax = ShapeHelpers.NormalizeAxis(a, rank);
                if (inserted[ax])
                {
                    throw Error($"Axis {a} is repeated.");
                }

                inserted[ax] = true;
            }

            int j = 0;
            for (int i = 0; i < rank; i++)
            {
                shape[i] = inserted[i] ? 1 : x.Shape[j++];
            }
        }
        else
        {
            Span<bool> drop = stackalloc bool[Math.Max(x.Rank, 1)];
            drop.Clear();
            if (na == 0)
            {
                for (int i = 0; i < x.Rank; i++)
                {
                    drop[i] = x.Shape[i] == 1;
                }
            }
            else
            {
                foreach (long a in axes)
                {
                    int ax = ShapeHelpers.NormalizeAxis(a, x.Rank);
                    if (x.Shape[ax] != 1)
                    {
                        throw Error($"Cannot squeeze axis {a} of size {x.Shape[ax]}.");
                    }

                    drop[ax] = true;
                }
            }

            rank = 0;
            for (int i = 0; i < x.Rank; i++)
            {
                if (!drop[i])
                {
                    shape[rank++] = x.Shape[i];
                }
            }
        }

        ShapeHelpers.Copy(x, ctx.Output(0, x.Type, shape[..rank]));
    }
}

/// <summary>Shape (with the opset 15 start/end slice).</summary>
internal sealed class ShapeKernel(GraphNode node) : OpKernel(node)
{
    private readonly long _start = node.GetInt("start", 0);
    private readonly long? _end = node.HasAttribute("end") ? node.GetInt("end", 0) : null;

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int r = x.Rank;
        int s = (int)Math.Clamp(_start < 0 ? _start + r : _start, 0, r);
        long e0 = _end ?? r;
        int e = (int)Math.Clamp(e0 < 0 ? e0 + r : e0, 0, r);
        int n = Math.Max(0, e - s);
        TensorValue y = ctx.Output(0, TensorElementType.Int64, [n]);
        Span<long> d = y.Span<long>();
        for (int i = 0; i < n; i++)
        {
            d[i] = x.Shape[s + i];
        }
    }
}

/// <summary>Size: the element count as an int64 scalar.</summary>
internal sealed class SizeKernel(GraphNode node) : OpKernel(node)
{
    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        ctx.Output(0, TensorElementType.Int64, []).Span<long>()[0] = x.Length;
    }
}

/// <summary>Constant: the tensor attribute, or value_float(s)/value_int(s).</summary>
internal sealed class ConstantKernel : OpKernel
{
    private readonly OnnxTensor _value;

    public ConstantKernel(GraphNode node)
        : base(node)
    {
        if (node.Attributes.TryGetValue("value", out NodeAttribute? v) && v.Tensor is not null)
        {
            _value = v.Tensor;
        }
        else if (node.Attributes.TryGetValue("value_float", out v))
        {
            _value = new OnnxTensor<float>([v.Float], []);
        }
        else if (node.Attributes.TryGetValue("value_floats", out v))
        {
            _value = new OnnxTensor<float>(v.Floats, [v.Floats.Length]);
        }
        else if (node.Attributes.TryGetValue("value_int", out v))
        {
            _value = new OnnxTensor<long>([v.Int], []);
        }
        else if (node.Attributes.TryGetValue("value_ints", out v))
        {
            _value = new OnnxTensor<long>(v.Ints, [v.Ints.Length]);
        }
        else
        {
            throw new UnsupportedNodeException("Constant needs a value, value_float(s) or value_int(s) attribute (sparse and string values are not supported)");
        }
    }

    public OnnxTensor Value => _value;

    public override void Run(KernelContext ctx)
    {
        TensorValue y = ctx.Output(0, _value.ElementType, _value.Dimensions);
        _value.ByteSpan().CopyTo(y.Bytes());
    }
}

/// <summary>ConstantOfShape: a tensor of the given shape filled with the value attribute (default float 0).</summary>
internal sealed class ConstantOfShapeKernel(GraphNode node) : OpKernel(node)
{
    private readonly OnnxTensor? _value = node.Attributes.TryGetValue("value", out NodeAttribute? v) ? v.Tensor : null;

    public override void Run(KernelContext ctx)
    {
        TensorValue s = ctx.Input(0);
        if (s.Length > Broadcast.MaxRank)
        {
            throw Error("Rank too large.");
        }

        Span<int> shape = stackalloc int[s.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            long d = s.GetInt64(i);
            shape[i] = d is < 0 or > int.MaxValue ? throw Error($"Invalid dimension {d}.") : (int)d;
        }

        TensorValue y = ctx.Output(0, _value?.ElementType ?? TensorElementType.Float32, shape);
        Span<byte> dst = y.Bytes();
        if (_value is null)
        {
            dst.Clear();
            return;
        }

        ReadOnlySpan<byte> one = _value.ByteSpan();
        for (int i = 0; i + one.Length <= dst.Length; i += one.Length)
        {
            one.CopyTo(dst.Slice(i));
        }
    }
}

/// <summary>Expand: broadcast the input to a shape.</summary>
internal sealed class ExpandKernel(GraphNode node) : OpKernel(node)
{
    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue s = ctx.Input(1);
        if (s.Length > Broadcast.MaxRank)
        {
            throw Error("Rank too large.");
        }

        Span<int> target = stackalloc int[s.Length];
        for (int i = 0; i < target.Length; i++)
        {
            target[i] = ShapeHelpers.Dimension(s.GetInt64(i), $"shape[{i}]");
        }

        Span<int> shape = stackalloc int[Broadcast.MaxRank];
        int rank = Broadcast.Shape(x.Dims, target, shape);
        TensorValue y = ctx.Output(0, x.Type, shape[..rank]);
        CopyBroadcast(x, y);
    }

    public static void CopyBroadcast(TensorValue x, TensorValue y)
    {
        switch (OnnxTensor.ElementSize(x.Type))
        {
            case 1: Broadcast.To(x.Bytes(), x.Dims, y.Bytes(), y.Dims); break;
            case 2: Broadcast.To(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(x.Bytes()), x.Dims, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(y.Bytes()), y.Dims); break;
            case 4: Broadcast.To(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(x.Bytes()), x.Dims, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(y.Bytes()), y.Dims); break;
            default: Broadcast.To(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(x.Bytes()), x.Dims, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(y.Bytes()), y.Dims); break;
        }
    }
}
