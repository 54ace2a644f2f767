using System.Numerics.Tensors;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Layout;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Reduction;

/// <summary>ReduceMean, ReduceMax, ReduceMin, ReduceSum, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSumExp over
/// float tensors, and ReduceMax, ReduceMin, ReduceSum over int32/int64 (axes attribute, or input from opset 13/18).</summary>
internal sealed class ReduceKernel(GraphNode node) : OpKernel(node)
{
    private readonly string _op = node.OpType;
    private readonly long[]? _axes = node.GetInts("axes");
    private readonly bool _keepDims = node.GetInt("keepdims", 1) != 0;
    private readonly bool _noopWithEmptyAxes = node.GetInt("noop_with_empty_axes", 0) != 0;

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Type != TensorElementType.Float32 && !(x.Type is TensorElementType.Int64 or TensorElementType.Int32 && _op is "ReduceMax" or "ReduceMin" or "ReduceSum"))
        {
            throw Error($"{_op} does not support element type {x.Type}.");
        }

        int r = x.Rank;
        TensorValue? axesV = ctx.OptionalInput(1);
        int na = axesV?.Length ?? _axes?.Length ?? 0;
        Span<bool> reduce = stackalloc bool[Math.Max(r, 1)];
        reduce.Clear();
        if (na == 0)
        {
            if (_noopWithEmptyAxes)
            {
                ShapeHelpers.Copy(x, ctx.OutputLike(0, x));
                return;
            }

            reduce.Fill(true);
        }

        for (int i = 0; i < na; i++)
        {
            reduce[ShapeHelpers.NormalizeAxis(axesV?.GetInt64(i) ?? _axes![i], r)] = true;
        }

        Span<int> shape = stackalloc int[Math.Max(r, 1)];
        Span<int> strides = stackalloc int[Math.Max(r, 1)];
        int outRank = 0;
        int s = 1;
        for (int d = r - 1; d >= 0; d--)
        {
            strides[d] = reduce[d] ? 0 : s;
            if (!reduce[d])
            {
                s *= x.Shape[d];
            }
        }

        for (int d = 0; d < r; d++)
        {
            if (!reduce[d])
            {
                shape[outRank++] = x.Shape[d];
            }
            else if (_keepDims)
            {
                shape[outRank++] = 1;
            }
        }

        TensorValue y = ctx.Output(0, x.Type, shape[..outRank]);
        if (x.Type == TensorElementType.Int64)
        {
            Integer(x.Span<long>(), x.Shape, y.Span<long>(), strides[..r]);
            return;
        }

        if (x.Type == TensorElementType.Int32)
        {
            Integer(x.Span<int>(), x.Shape, y.Span<int>(), strides[..r]);
            return;
        }

        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        int count = y.Length == 0 ? 0 : x.Length / y.Length;
        if (_op == "ReduceLogSumExp")
        {
            LogSumExp(ctx, src, x.Shape, dst, strides[..r]);
            return;
        }

        float init = _op switch { "ReduceMax" => float.NegativeInfinity, "ReduceMin" => float.PositiveInfinity, "ReduceProd" => 1f, _ => 0f };
        dst.Fill(init);

        // Trailing reduced axes: each output is one contiguous run.
        int trailing = r;
        while (trailing > 0 && reduce[trailing - 1])
        {
            trailing--;
        }

        bool contiguous = true;
        for (int d = 0; d < trailing; d++)
        {
            contiguous &= !reduce[d];
        }

        if (contiguous && count > 0)
        {
            for (int o = 0; o < dst.Length; o++)
            {
                ReadOnlySpan<float> run = src.Slice(o * count, count);
                dst[o] = _op switch
                {
                    "ReduceMax" => TensorPrimitives.Max(run),
                    "ReduceMin" => TensorPrimitives.Min(run),
                    "ReduceProd" => TensorPrimitives.Product(run),
                    "ReduceL2" or "ReduceSumSquare" => TensorPrimitives.SumOfSquares(run),
                    "ReduceL1" => TensorPrimitives.SumOfMagnitudes(run),
                    _ => TensorPrimitives.Sum(run),
                };
            }
        }
        else
        {
            Span<int> counter = stackalloc int[Math.Max(r, 1)];
            counter.Clear();
            int off = 0;
            for (int i = 0; i < src.Length; i++)
            {
                float v = src[i];
                ref float acc = ref dst[off];
                acc = _op switch
                {
                    "ReduceMax" => MathF.Max(acc, v),
                    "ReduceMin" => MathF.Min(acc, v),
                    "ReduceProd" => acc * v,
                    "ReduceL2" or "ReduceSumSquare" => acc + (v * v),
                    "ReduceL1" => acc + MathF.Abs(v),
                    _ => acc + v,
                };
                for (int d = r - 1; d >= 0; d--)
                {
                    counter[d]++;
                    off += strides[d];
                    if (counter[d] < x.Shape[d])
                    {
                        break;
                    }

                    off -= strides[d] * x.Shape[d];
                    counter[d] = 0;
                }
            }
        }

        if (_op == "ReduceMean" && count > 0)
        {
            TensorPrimitives.Divide(dst, count, dst);
        }
        else if (_op == "ReduceL2")
        {
            TensorPrimitives.Sqrt(dst, dst);
        }
    }

    /// <summary>Visits (input index, output index) for every input element in order.</summary>
    private static void Walk<TState>(ReadOnlySpan<int> dims, ReadOnlySpan<int> strides, int length, ref TState state)
        where TState : struct, IReduceVisitor, allows ref struct
    {
        int r = dims.Length;
        Span<int> counter = stackalloc int[Math.Max(r, 1)];
        counter.Clear();
        int off = 0;
        for (int i = 0; i < length; i++)
        {
            state.Visit(i, off);
            for (int d = r - 1; d >= 0; d--)
            {
                counter[d]++;
                off += strides[d];
                if (counter[d] < dims[d])
                {
                    break;
                }

                off -= strides[d] * dims[d];
                counter[d] = 0;
            }
        }
    }

    private void Integer<T>(ReadOnlySpan<T> src, ReadOnlySpan<int> dims, Span<T> dst, ReadOnlySpan<int> strides)
        where T : unmanaged, System.Numerics.INumber<T>, System.Numerics.IMinMaxValue<T>
    {
        int mode = _op switch { "ReduceMax" => 1, "ReduceMin" => 2, _ => 0 };
        dst.Fill(mode switch { 1 => T.MinValue, 2 => T.MaxValue, _ => T.Zero });
        var v = new IntegerVisitor<T>(src, dst, mode);
        Walk(dims, strides, src.Length, ref v);
    }

    /// <summary>log(sum(exp(x))) computed as max + log(sum(exp(x - max))) so large inputs do not overflow.</summary>
    private static void LogSumExp(KernelContext ctx, ReadOnlySpan<float> src, ReadOnlySpan<int> dims, Span<float> dst, ReadOnlySpan<int> strides)
    {
        dst.Fill(float.NegativeInfinity);
        Span<float> sums = ctx.Scratch<float>(dst.Length);
        sums.Clear();
        var v = new LogSumExpVisitor(src, dst, sums);
        Walk(dims, strides, src.Length, ref v);
        v.SecondPass = true;
        Walk(dims, strides, src.Length, ref v);
        for (int o = 0; o < dst.Length; o++)
        {
            float m = dst[o];
            dst[o] = float.IsInfinity(m) ? m : m + MathF.Log(sums[o]);
        }
    }

    private interface IReduceVisitor
    {
        void Visit(int input, int output);
    }

    private ref struct IntegerVisitor<T>(ReadOnlySpan<T> src, Span<T> dst, int mode) : IReduceVisitor
        where T : unmanaged, System.Numerics.INumber<T>
    {
        private readonly ReadOnlySpan<T> _src = src;
        private readonly Span<T> _dst = dst;

        public readonly void Visit(int input, int output)
        {
            T v = _src[input];
            ref T acc = ref _dst[output];
            acc = mode switch { 1 => T.Max(acc, v), 2 => T.Min(acc, v), _ => acc + v };
        }
    }

    private ref struct LogSumExpVisitor(ReadOnlySpan<float> src, Span<float> max, Span<float> sums) : IReduceVisitor
    {
        private readonly ReadOnlySpan<float> _src = src;
        private readonly Span<float> _max = max;
        private readonly Span<float> _sums = sums;

        public bool SecondPass { get; set; }

        public readonly void Visit(int input, int output)
        {
            float v = _src[input];
            if (!SecondPass)
            {
                _max[output] = MathF.Max(_max[output], v);
            }
            else
            {
                float m = _max[output];
                _sums[output] += float.IsInfinity(m) ? 0f : MathF.Exp(v - m);
            }
        }
    }
}

/// <summary>ArgMax and ArgMin along an axis (first index on ties unless select_last_index).</summary>
internal sealed class ArgKernel(GraphNode node) : OpKernel(node)
{
    private readonly bool _max = node.OpType == "ArgMax";
    private readonly long _axis = node.GetInt("axis", 0);
    private readonly bool _keepDims = node.GetInt("keepdims", 1) != 0;
    private readonly bool _last = node.GetInt("select_last_index", 0) != 0;

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int r = x.Rank;
        int axis = ShapeHelpers.NormalizeAxis(_axis, r);
        Span<int> shape = stackalloc int[Math.Max(r, 1)];
        int k = 0;
        for (int d = 0; d < r; d++)
        {
            if (d != axis)
            {
                shape[k++] = x.Shape[d];
            }
            else if (_keepDims)
            {
                shape[k++] = 1;
            }
        }

        TensorValue y = ctx.Output(0, TensorElementType.Int64, shape[..k]);
        int outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        int dim = x.Shape[axis];
        int inner = outer * dim == 0 ? 0 : x.Length / (outer * dim);
        Span<long> dst = y.Span<long>();
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = x.GetFloat((o * dim * inner) + i);
                for (int j = 1; j < dim; j++)
                {
                    float v = x.GetFloat((((o * dim) + j) * inner) + i);
                    bool better = _max ? (v > bv || (_last && v == bv)) : (v < bv || (_last && v == bv));
                    if (better)
                    {
                        bv = v;
                        best = j;
                    }
                }

                dst[(o * inner) + i] = best;
            }
        }
    }
}

/// <summary>TopK along an axis (values and int64 indices; ties keep the lower index first).</summary>
internal sealed class TopKKernel(GraphNode node) : OpKernel(node)
{
    private readonly long _axis = node.GetInt("axis", -1);
    private readonly bool _largest = node.GetInt("largest", 1) != 0;
    private readonly long _k = node.GetInt("k", -1);

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Type != TensorElementType.Float32)
        {
            throw Error("TopK supports float32.");
        }

        int r = x.Rank;
        int axis = ShapeHelpers.NormalizeAxis(_axis, r);
        long kk = Node.Opset < 10 ? _k : ctx.Input(1).GetInt64(0);
        int dim = x.Shape[axis];
        if (kk < 0 || kk > dim)
        {
            throw Error($"K = {kk} is out of range for a dimension of {dim}.");
        }

        int k = (int)kk;
        Span<int> shape = stackalloc int[r];
        x.Dims.CopyTo(shape);
        shape[axis] = k;
        TensorValue values = ctx.Output(0, TensorElementType.Float32, shape);
        TensorValue indices = ctx.Output(1, TensorElementType.Int64, shape);
        int outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        int inner = outer * dim == 0 ? 0 : x.Length / (outer * dim);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> vs = values.Span<float>();
        Span<long> ids = indices.Span<long>();
        Span<int> order = ctx.Scratch<int>(dim);
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int baseOff = (o * dim * inner) + i;
                for (int j = 0; j < dim; j++)
                {
                    order[j] = j;
                }

                // Insertion-based partial selection: stable, O(dim * k).
                for (int a = 0; a < k; a++)
                {
                    int best = a;
                    for (int b = a + 1; b < dim; b++)
                    {
                        float vb = src[baseOff + (order[b] * inner)], vbest = src[baseOff + (order[best] * inner)];
                        bool better = _largest ? vb > vbest : vb < vbest;
                        if (better || (vb == vbest && order[b] < order[best]))
                        {
                            best = b;
                        }
                    }

                    (order[a], order[best]) = (order[best], order[a]);
                    int outOff = (o * k * inner) + (a * inner) + i;
                    vs[outOff] = src[baseOff + (order[a] * inner)];
                    ids[outOff] = order[a];
                }
            }
        }
    }
}
