using System.Numerics.Tensors;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Layout;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Reduction;

/// <summary>ReduceMean, ReduceMax, ReduceMin, ReduceSum, ReduceProd, ReduceL2 over float tensors (axes attribute or input).</summary>
internal sealed class ReduceKernel(GraphNode node) : OpKernel(node)
{
    private readonly string _op = node.OpType;
    private readonly long[]? _axes = node.GetInts("axes");
    private readonly bool _keepDims = node.GetInt("keepdims", 1) != 0;
    private readonly bool _noopWithEmptyAxes = node.GetInt("noop_with_empty_axes", 0) != 0;

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Type != TensorElementType.Float32)
        {
            throw Error("Reductions support float32.");
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

        TensorValue y = ctx.Output(0, TensorElementType.Float32, shape[..outRank]);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        int count = y.Length == 0 ? 0 : x.Length / y.Length;
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
                    "ReduceL2" => TensorPrimitives.SumOfSquares(run),
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
                    "ReduceL2" => acc + (v * v),
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
