using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Elementwise;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Nn;

/// <summary>Gemm: Y = alpha * op(A) * op(B) + beta * C, through <see cref="Sgemm"/> (B prepacked when constant).</summary>
internal sealed class GemmKernel : OpKernel
{
    private readonly bool _transA;
    private readonly bool _transB;
    private readonly float _alpha;
    private readonly float _beta;
    private readonly PackedMatrix? _packed;
    private readonly float[]? _biasPerColumn;
    private readonly FusedActivationInfo _act;

    public GemmKernel(GraphNode node, KernelCreationContext cc)
        : base(node)
    {
        _transA = node.GetInt("transA", 0) != 0;
        _transB = node.GetInt("transB", 0) != 0;
        _alpha = node.GetFloat("alpha", 1f);
        _beta = node.GetFloat("beta", 1f);
        _act = node.FusionData as FusedActivationInfo ?? FusedActivationInfo.None;
        if (cc.Constant(node, 1) is OnnxTensor<float> b && b.Rank == 2)
        {
            int k = _transB ? b.Dimensions[1] : b.Dimensions[0];
            int n = _transB ? b.Dimensions[0] : b.Dimensions[1];
            OnnxTensor? c = node.HasInput(2) ? cc.Constant(node, 2) : null;
            bool columnBias = c is OnnxTensor<float> ct && ct.Length == n && (ct.Rank == 1 || (ct.Rank == 2 && ct.Dimensions[0] == 1));
            if (!node.HasInput(2) || columnBias)
            {
                _packed = Sgemm.PackB(b.Data, k, n, _transB, _alpha);
                if (columnBias)
                {
                    _biasPerColumn = ((OnnxTensor<float>)c!).ToArray();
                    System.Numerics.Tensors.TensorPrimitives.Multiply(_biasPerColumn, _beta, _biasPerColumn);
                }
            }
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue a = ctx.Input(0);
        if (a.Rank != 2 || a.Type != TensorElementType.Float32)
        {
            throw Error("A must be a 2-D float tensor.");
        }

        int m = _transA ? a.Shape[1] : a.Shape[0];
        int k = _transA ? a.Shape[0] : a.Shape[1];
        if (_packed is not null && !_transA)
        {
            if (k != _packed.K)
            {
                throw Error($"A has K = {k}, B has {_packed.K}.");
            }

            TensorValue yp = ctx.Output(0, TensorElementType.Float32, [m, _packed.N]);
            Sgemm.Multiply(m, a.Span<float>(), k, _packed, yp.Span<float>(), _packed.N, _biasPerColumn ?? [], _act.Activation, ctx.Pool);
            _act.ApplyPost(yp.Span<float>());
            return;
        }

        TensorValue b = ctx.Input(1);
        int kb = _transB ? b.Shape[1] : b.Shape[0];
        int n = _transB ? b.Shape[0] : b.Shape[1];
        if (kb != k)
        {
            throw Error($"A has K = {k}, B has {kb}.");
        }

        TensorValue y = ctx.Output(0, TensorElementType.Float32, [m, n]);
        Span<float> ys = y.Span<float>();
        TensorValue? c = ctx.OptionalInput(2);
        float beta = 0;
        if (c is not null && _beta != 0)
        {
            Span<int> cs = stackalloc int[Broadcast.MaxRank];
            int rank = Broadcast.Shape(c.Dims, [m, n], cs);
            if (rank != 2 || cs[0] != m || cs[1] != n)
            {
                throw Error("C cannot be broadcast to [M, N].");
            }

            Broadcast.To(c.Span<float>(), c.Dims, ys, [m, n]);
            beta = _beta;
        }

        Sgemm.Multiply(_transA, _transB, m, n, k, _alpha, a.Span<float>(), a.Shape[1], b.Span<float>(), b.Shape[1], beta, ys, n, ctx.Pool);
        _act.Activation.Apply(ys);
        _act.ApplyPost(ys);
    }
}

/// <summary>MatMul with numpy semantics (1-D promotion, broadcast batch dims) through <see cref="Sgemm"/>.</summary>
internal sealed class MatMulKernel : OpKernel
{
    private readonly PackedMatrix? _packed;

    public MatMulKernel(GraphNode node, KernelCreationContext cc)
        : base(node)
    {
        if (cc.Constant(node, 1) is OnnxTensor<float> b && b.Rank == 2)
        {
            _packed = Sgemm.PackB(b.Data, b.Dimensions[0], b.Dimensions[1], false);
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue a = ctx.Input(0);
        TensorValue b = ctx.Input(1);
        if (a.Type != TensorElementType.Float32 || b.Type != TensorElementType.Float32)
        {
            throw Error("MatMul supports float32 inputs.");
        }

        int ra = a.Rank, rb = b.Rank;
        if (ra == 0 || rb == 0)
        {
            throw Error("MatMul inputs must not be scalars.");
        }

        int m = ra == 1 ? 1 : a.Shape[ra - 2];
        int k = a.Shape[ra - 1];
        int kb = rb == 1 ? b.Shape[0] : b.Shape[rb - 2];
        int n = rb == 1 ? 1 : b.Shape[rb - 1];
        if (k != kb)
        {
            throw Error($"Inner dimensions differ ({k} vs {kb}).");
        }

        ReadOnlySpan<int> batchA = ra > 2 ? a.Dims[..(ra - 2)] : [];
        ReadOnlySpan<int> batchB = rb > 2 ? b.Dims[..(rb - 2)] : [];
        Span<int> batch = stackalloc int[Broadcast.MaxRank];
        int br = Broadcast.Shape(batchA, batchB, batch);
        Span<int> shape = stackalloc int[br + 2];
        batch[..br].CopyTo(shape);
        int r = br;
        if (ra > 1)
        {
            shape[r++] = m;
        }

        if (rb > 1)
        {
            shape[r++] = n;
        }

        TensorValue y = ctx.Output(0, TensorElementType.Float32, shape[..r]);
        ReadOnlySpan<float> sa = a.Span<float>();
        Span<float> sy = y.Span<float>();
        if (_packed is not null && rb == 2)
        {
            // All batch rows of A against one constant B: one big multiply.
            Sgemm.Multiply(a.Length / k, sa, k, _packed, sy, n, [], default, ctx.Pool);
            return;
        }

        ReadOnlySpan<float> sb = b.Span<float>();
        int batchCount = 1;
        for (int i = 0; i < br; i++)
        {
            batchCount *= batch[i];
        }

        Span<int> stA = stackalloc int[Math.Max(br, 1)];
        Span<int> stB = stackalloc int[Math.Max(br, 1)];
        Broadcast.Strides(batchA, batch[..br], stA);
        Broadcast.Strides(batchB, batch[..br], stB);
        Span<int> counter = stackalloc int[Math.Max(br, 1)];
        counter.Clear();
        int offA = 0, offB = 0;
        for (int i = 0; i < batchCount; i++)
        {
            Sgemm.Multiply(false, false, m, n, k, 1f, sa.Slice(offA * m * k, m * k), k, sb.Slice(offB * k * n, k * n), n, 0f, sy.Slice(i * m * n, m * n), n, ctx.Pool);
            for (int d = br - 1; d >= 0; d--)
            {
                counter[d]++;
                offA += stA[d];
                offB += stB[d];
                if (counter[d] < batch[d])
                {
                    break;
                }

                offA -= stA[d] * batch[d];
                offB -= stB[d] * batch[d];
                counter[d] = 0;
            }
        }
    }
}
