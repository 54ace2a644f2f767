using System.Numerics.Tensors;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Nn;

/// <summary>BatchNormalization in inference mode: y = (x - mean) / sqrt(var + eps) * scale + B per channel.</summary>
internal sealed class BatchNormKernel : OpKernel
{
    private readonly float _eps;

    public BatchNormKernel(GraphNode node)
        : base(node)
    {
        _eps = node.GetFloat("epsilon", 1e-5f);
        if (node.GetInt("training_mode", 0) != 0 || (node.Opset < 14 && node.Opset >= 9 && node.Outputs.Skip(1).Any(o => o.Length > 0)))
        {
            throw new UnsupportedNodeException("training mode is not supported");
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        ReadOnlySpan<float> scale = ctx.Input(1).Span<float>();
        ReadOnlySpan<float> bias = ctx.Input(2).Span<float>();
        ReadOnlySpan<float> mean = ctx.Input(3).Span<float>();
        ReadOnlySpan<float> var = ctx.Input(4).Span<float>();
        TensorValue y = ctx.OutputLike(0, x);
        int n = x.Shape[0], c = x.Rank > 1 ? x.Shape[1] : 1;
        int plane = n * c == 0 ? 0 : x.Length / (n * c);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                float a = scale[ch] / MathF.Sqrt(var[ch] + _eps);
                float s = bias[ch] - (mean[ch] * a);
                int off = ((b * c) + ch) * plane;
                Elementwise.Affine.Apply(src.Slice(off, plane), a, s, dst.Slice(off, plane));
            }
        }
    }
}

/// <summary>InstanceNormalization: per (n, c) over the spatial dims.</summary>
internal sealed class InstanceNormKernel(GraphNode node) : OpKernel(node)
{
    private readonly float _eps = node.GetFloat("epsilon", 1e-5f);

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        ReadOnlySpan<float> scale = ctx.Input(1).Span<float>();
        ReadOnlySpan<float> bias = ctx.Input(2).Span<float>();
        TensorValue y = ctx.OutputLike(0, x);
        int n = x.Shape[0], c = x.Shape[1];
        int plane = n * c == 0 ? 0 : x.Length / (n * c);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        for (int i = 0; i < n * c; i++)
        {
            ReadOnlySpan<float> p = src.Slice(i * plane, plane);
            Span<float> q = dst.Slice(i * plane, plane);
            float mean = TensorPrimitives.Sum(p) / plane;
            TensorPrimitives.Subtract(p, mean, q);
            float var = TensorPrimitives.SumOfSquares(q) / plane;
            float a = scale[i % c] / MathF.Sqrt(var + _eps);
            Elementwise.Affine.Apply(q, a, bias[i % c], q);
        }
    }
}

/// <summary>LayerNormalization (opset 17): normalise over the dims from axis on; optional Mean and InvStdDev outputs.</summary>
internal sealed class LayerNormKernel(GraphNode node) : OpKernel(node)
{
    private readonly float _eps = node.GetFloat("epsilon", 1e-5f);
    private readonly long _axis = node.GetInt("axis", -1);

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int axis = Layout.ShapeHelpers.NormalizeAxis(_axis, x.Rank);
        int outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        int inner = outer == 0 ? 0 : x.Length / outer;
        TensorValue scaleV = ctx.Input(1);
        TensorValue? biasV = ctx.OptionalInput(2);
        if (scaleV.Length != inner || (biasV is not null && biasV.Length != inner))
        {
            throw Error("Scale and B must have the normalised shape.");
        }

        ReadOnlySpan<float> scale = scaleV.Span<float>();
        ReadOnlySpan<float> bias = biasV is null ? default : biasV.Span<float>();
        TensorValue y = ctx.OutputLike(0, x);
        Span<int> statShape = stackalloc int[x.Rank];
        for (int d = 0; d < x.Rank; d++)
        {
            statShape[d] = d < axis ? x.Shape[d] : 1;
        }

        Span<float> means = ctx.WantsOutput(1) ? ctx.Output(1, TensorElementType.Float32, statShape).Span<float>() : default;
        Span<float> inv = ctx.WantsOutput(2) ? ctx.Output(2, TensorElementType.Float32, statShape).Span<float>() : default;
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<float> p = src.Slice(o * inner, inner);
            Span<float> q = dst.Slice(o * inner, inner);
            float mean = TensorPrimitives.Sum(p) / inner;
            TensorPrimitives.Subtract(p, mean, q);
            float rstd = 1f / MathF.Sqrt((TensorPrimitives.SumOfSquares(q) / inner) + _eps);
            TensorPrimitives.Multiply(q, rstd, q);
            TensorPrimitives.Multiply(q, scale, q);
            if (!bias.IsEmpty)
            {
                TensorPrimitives.Add(q, bias, q);
            }

            if (!means.IsEmpty)
            {
                means[o] = mean;
            }

            if (!inv.IsEmpty)
            {
                inv[o] = rstd;
            }
        }
    }
}

/// <summary>Softmax and LogSoftmax: opset &lt; 13 coerces to 2-D at axis (default 1); 13+ works on one axis (default -1).</summary>
internal sealed class SoftmaxKernel(GraphNode node) : OpKernel(node)
{
    private readonly bool _log = node.OpType == "LogSoftmax";
    private readonly long _axis = node.GetInt("axis", node.Opset < 13 ? 1 : -1);

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue y = ctx.OutputLike(0, x);
        int r = x.Rank;
        int axis = Layout.ShapeHelpers.NormalizeAxis(_axis, r);
        int outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        int dim, inner;
        if (Node.Opset < 13)
        {
            dim = outer == 0 ? 0 : x.Length / outer;
            inner = 1;
        }
        else
        {
            dim = r == 0 ? 1 : x.Shape[axis];
            inner = outer * dim == 0 ? 0 : x.Length / (outer * dim);
        }

        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<float> p = src.Slice(o * dim, dim);
                Span<float> q = dst.Slice(o * dim, dim);
                Normalize(p, q);
            }

            return;
        }

        Span<float> tmp = ctx.Scratch<float>(dim * 2);
        Span<float> a = tmp[..dim], b = tmp[dim..];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int baseOff = (o * dim * inner) + i;
                for (int d = 0; d < dim; d++)
                {
                    a[d] = src[baseOff + (d * inner)];
                }

                Normalize(a, b);
                for (int d = 0; d < dim; d++)
                {
                    dst[baseOff + (d * inner)] = b[d];
                }
            }
        }
    }

    private void Normalize(ReadOnlySpan<float> p, Span<float> q)
    {
        float max = TensorPrimitives.Max(p);
        TensorPrimitives.Subtract(p, max, q);
        if (_log)
        {
            float sum = 0;
            for (int i = 0; i < q.Length; i++)
            {
                sum += MathF.Exp(q[i]);
            }

            TensorPrimitives.Subtract(q, MathF.Log(sum), q);
        }
        else
        {
            TensorPrimitives.Exp(q, q);
            float sum = TensorPrimitives.Sum(q);
            TensorPrimitives.Divide(q, sum, q);
        }
    }
}

/// <summary>GroupNormalization (opset 18: scale and bias per group; opset 21: per channel): normalise each group of
/// channels of each sample over its channels and spatial positions.</summary>
internal sealed class GroupNormKernel : OpKernel
{
    private readonly float _eps;
    private readonly int _groups;

    public GroupNormKernel(GraphNode node)
        : base(node)
    {
        _eps = node.GetFloat("epsilon", 1e-5f);
        long g = node.GetInt("num_groups", 0);
        if (g < 1 || g > int.MaxValue)
        {
            throw new UnsupportedNodeException($"num_groups {g} is not valid");
        }

        _groups = (int)g;
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Type != TensorElementType.Float32 || x.Rank < 2)
        {
            throw Error("Input must be a float32 tensor of rank 2 or more.");
        }

        int n = x.Shape[0], c = x.Shape[1];
        if (c % _groups != 0)
        {
            throw Error($"Channels {c} are not a multiple of num_groups {_groups}.");
        }

        ReadOnlySpan<float> scale = ctx.Input(1).Span<float>();
        ReadOnlySpan<float> bias = ctx.Input(2).Span<float>();
        bool perChannel = scale.Length == c && bias.Length == c;
        if (!perChannel && (scale.Length != _groups || bias.Length != _groups))
        {
            throw Error($"scale and bias must have {c} (channels) or {_groups} (groups) values.");
        }

        int plane = n * c == 0 ? 0 : x.Length / (n * c);
        int perGroup = c / _groups;
        int groupSize = perGroup * plane;
        TensorValue y = ctx.OutputLike(0, x);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        for (int i = 0; i < n * _groups; i++)
        {
            ReadOnlySpan<float> p = src.Slice(i * groupSize, groupSize);
            Span<float> q = dst.Slice(i * groupSize, groupSize);
            float mean = groupSize == 0 ? 0f : TensorPrimitives.Sum(p) / groupSize;
            TensorPrimitives.Subtract(p, mean, q);
            float rstd = 1f / MathF.Sqrt((groupSize == 0 ? 0f : TensorPrimitives.SumOfSquares(q) / groupSize) + _eps);
            int g = i % _groups;
            for (int k = 0; k < perGroup; k++)
            {
                int ch = perChannel ? (g * perGroup) + k : g;
                Elementwise.Affine.Apply(q.Slice(k * plane, plane), rstd * scale[ch], bias[ch], q.Slice(k * plane, plane));
            }
        }
    }
}

/// <summary>LRN across channels: y = x / (bias + alpha / size * sum of x^2 over the channel window)^beta.</summary>
internal sealed class LrnKernel : OpKernel
{
    private readonly float _alpha;
    private readonly float _beta;
    private readonly float _bias;
    private readonly int _size;

    public LrnKernel(GraphNode node)
        : base(node)
    {
        _alpha = node.GetFloat("alpha", 1e-4f);
        _beta = node.GetFloat("beta", 0.75f);
        _bias = node.GetFloat("bias", 1f);
        long size = node.GetInt("size", 0);
        if (size < 1 || size > int.MaxValue)
        {
            throw new UnsupportedNodeException($"size {size} is not valid");
        }

        _size = (int)size;
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Type != TensorElementType.Float32 || x.Rank < 2)
        {
            throw Error("Input must be a float32 tensor of rank 2 or more.");
        }

        int n = x.Shape[0], c = x.Shape[1];
        int plane = n * c == 0 ? 0 : x.Length / (n * c);
        TensorValue y = ctx.OutputLike(0, x);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        Span<float> sq = ctx.Scratch<float>(plane * 2);
        Span<float> acc = sq[..plane];
        Span<float> tmp = sq[plane..];
        int before = (_size - 1) / 2;
        int after = _size - 1 - before;
        float k = _alpha / _size;
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                acc.Clear();
                for (int j = Math.Max(0, ch - before); j <= Math.Min(c - 1, ch + after); j++)
                {
                    ReadOnlySpan<float> p = src.Slice(((b * c) + j) * plane, plane);
                    TensorPrimitives.MultiplyAdd(p, p, acc, acc);
                }

                Elementwise.Affine.Apply(acc, k, _bias, tmp);
                TensorPrimitives.Pow(tmp, -_beta, tmp);
                int off = ((b * c) + ch) * plane;
                TensorPrimitives.Multiply(src.Slice(off, plane), tmp, dst.Slice(off, plane));
            }
        }
    }
}

/// <summary>LpNormalization: x divided by its L1 or L2 norm along an axis (a zero norm gives zeros).</summary>
internal sealed class LpNormKernel : OpKernel
{
    private readonly long _axis;
    private readonly int _p;

    public LpNormKernel(GraphNode node)
        : base(node)
    {
        _axis = node.GetInt("axis", -1);
        long p = node.GetInt("p", 2);
        _p = p is 1 or 2 ? (int)p : throw new UnsupportedNodeException($"p {p} is not supported (1 and 2 are)");
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Type != TensorElementType.Float32)
        {
            throw Error("Input must be float32.");
        }

        int axis = Layout.ShapeHelpers.NormalizeAxis(_axis, x.Rank);
        int outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        int dim = x.Rank == 0 ? 1 : x.Shape[axis];
        int inner = outer * dim == 0 ? 0 : x.Length / (outer * dim);
        TensorValue y = ctx.OutputLike(0, x);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        Span<float> norm = ctx.Scratch<float>(inner);
        for (int o = 0; o < outer; o++)
        {
            int baseOff = o * dim * inner;
            norm.Clear();
            for (int j = 0; j < dim; j++)
            {
                ReadOnlySpan<float> row = src.Slice(baseOff + (j * inner), inner);
                if (_p == 2)
                {
                    TensorPrimitives.MultiplyAdd(row, row, norm, norm);
                }
                else
                {
                    for (int i = 0; i < inner; i++)
                    {
                        norm[i] += MathF.Abs(row[i]);
                    }
                }
            }

            if (_p == 2)
            {
                TensorPrimitives.Sqrt(norm, norm);
            }

            for (int j = 0; j < dim; j++)
            {
                int off = baseOff + (j * inner);
                for (int i = 0; i < inner; i++)
                {
                    float v = norm[i];
                    dst[off + i] = v == 0f ? 0f : src[off + i] / v;
                }
            }
        }
    }
}
