using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Elementwise;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Quantization;

/// <summary>
/// MatMulInteger (int32 out), QLinearMatMul (requantised out) and com.microsoft QGemm (requantised, or float when
/// y_scale is absent; what the QDQ rewrite produces for DQ -> Gemm) through <see cref="QGemm"/>, with the constant
/// B matrix packed once. A may have any rank ≥ 2 (rows are flattened); int8 A is shifted to uint8.
/// </summary>
internal sealed class QMatMulKernel : OpKernel
{
    private readonly string _op;
    private readonly PackedQMatrix _packed;
    private readonly int[] _bias;
    private readonly Requantization? _requant;
    private readonly float[]? _floatScale;
    private readonly bool _outputSigned;
    private readonly int _aIndex;
    private readonly int _aZeroIndex;

    public QMatMulKernel(GraphNode node, KernelCreationContext cc)
        : base(node)
    {
        _op = node.OpType;
        (int bi, int bzi) = _op switch
        {
            "MatMulInteger" => (1, 3),
            _ => (3, 5),
        };
        _aIndex = 0;
        _aZeroIndex = _op == "MatMulInteger" ? 2 : 2;
        OnnxTensor b = cc.Constant(node, bi) ?? throw new UnsupportedNodeException("B must be constant");
        if (b.Rank != 2)
        {
            throw new UnsupportedNodeException("B must be 2-D");
        }

        bool transB = _op == "QGemm" && node.GetInt("transB", 0) != 0;
        if (_op == "QGemm" && node.GetInt("transA", 0) != 0)
        {
            throw new UnsupportedNodeException("QGemm with transA is not supported");
        }

        // QGemm: Y = alpha * A_scale * B_scale * (acc + C) (C is quantised with scale alpha / beta * A_scale * B_scale).
        float alpha = _op == "QGemm" ? node.GetFloat("alpha", 1f) : 1f;

        int k = transB ? b.Dimensions[1] : b.Dimensions[0];
        int n = transB ? b.Dimensions[0] : b.Dimensions[1];
        OnnxTensor? bzp = node.HasInput(bzi) ? cc.Constant(node, bzi) ?? throw new UnsupportedNodeException("the B zero point must be constant") : null;
        var zps = new int[bzp is null ? 1 : (int)bzp.Length];
        for (int i = 0; i < zps.Length; i++)
        {
            zps[i] = QuantMath.ZeroPoint(bzp, i);
        }

        if (b is OnnxTensor<sbyte> sb)
        {
            _packed = QGemm.PackB(transB ? Transpose(sb.Data, n, k) : sb.Data, k, n, zps);
        }
        else if (b is OnnxTensor<byte> ub)
        {
            _packed = QGemm.PackB(transB ? Transpose(ub.Data, n, k) : ub.Data, k, n, zps);
        }
        else
        {
            throw new UnsupportedNodeException("B must be uint8 or int8");
        }

        _bias = [];
        if (_op == "MatMulInteger")
        {
            return;
        }

        OnnxTensor aScale = cc.Constant(node, 1) ?? throw new UnsupportedNodeException("the A scale must be constant");
        OnnxTensor bScale = cc.Constant(node, 4) ?? throw new UnsupportedNodeException("the B scale must be constant");
        if (_op == "QGemm" && node.HasInput(6))
        {
            _bias = (cc.Constant(node, 6) as OnnxTensor<int>)?.ToArray() ?? throw new UnsupportedNodeException("C must be a constant int32 tensor");
        }

        int yScaleIndex = _op == "QGemm" ? 7 : 6;
        OnnxTensor? yScale = node.HasInput(yScaleIndex) ? cc.Constant(node, yScaleIndex) ?? throw new UnsupportedNodeException("the output scale must be constant") : null;
        var scales = new float[bScale.Length];
        for (int i = 0; i < scales.Length; i++)
        {
            scales[i] = alpha * QuantMath.Scale(aScale, 0) * QuantMath.Scale(bScale, i) / (yScale is null ? 1f : QuantMath.Scale(yScale, 0));
        }

        if (yScale is null)
        {
            _floatScale = scales.Length == n ? scales : Enumerable.Repeat(scales[0], n).ToArray();
        }
        else
        {
            OnnxTensor? yzp = node.HasInput(yScaleIndex + 1) ? cc.Constant(node, yScaleIndex + 1) ?? throw new UnsupportedNodeException("the output zero point must be constant") : null;
            _outputSigned = yzp?.ElementType == TensorElementType.Int8;
            _requant = new Requantization(scales, QuantMath.ZeroPoint(yzp, 0), _outputSigned);
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue a = ctx.Input(_aIndex);
        if (a.Rank < 1 || a.Shape[^1] != _packed.K)
        {
            throw Error($"A's last dimension must be {_packed.K}.");
        }

        bool signed = a.Type == TensorElementType.Int8;
        int zp = QuantMath.ZeroPoint(ctx.OptionalInput(_aZeroIndex), 0) + (signed ? 128 : 0);
        int k = _packed.K, n = _packed.N;
        int m = k == 0 ? 0 : a.Length / k;
        Span<int> shape = stackalloc int[Math.Max(a.Rank, 2)];
        a.Dims.CopyTo(shape);
        shape[a.Rank - 1] = n;
        shape = shape[..a.Rank];
        ReadOnlySpan<byte> input = a.Bytes();
        int scratchInts = _requant is null && _op != "MatMulInteger" ? m * n : 0;
        Span<byte> scratch = ctx.Scratch<byte>((signed ? input.Length : 0) + (scratchInts * 4) + 64);
        if (signed)
        {
            Span<byte> shifted = scratch[..input.Length];
            TensorPrimitives.Xor(input, (byte)0x80, shifted);
            input = shifted;
            scratch = scratch[input.Length..];
        }

        if (_op == "MatMulInteger")
        {
            TensorValue y = ctx.Output(0, TensorElementType.Int32, shape);
            QGemm.Multiply(m, input, k, (byte)zp, _packed, y.Span<int>(), n, ctx.Pool);
            return;
        }

        if (_requant is not null)
        {
            TensorValue y = ctx.Output(0, _outputSigned ? TensorElementType.Int8 : TensorElementType.UInt8, shape);
            QGemm.Multiply(m, input, k, (byte)zp, _packed, _bias, _requant, y.Bytes(), n, ctx.Pool);
            return;
        }

        // Float output: y = (acc + bias) * aScale * bScale[n].
        TensorValue yf = ctx.Output(0, TensorElementType.Float32, shape);
        Span<int> acc = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(scratch)[..(m * n)];
        QGemm.Multiply(m, input, k, (byte)zp, _packed, acc, n, ctx.Pool);
        Span<float> dst = yf.Span<float>();
        for (int r = 0; r < m; r++)
        {
            Span<int> row = acc.Slice(r * n, n);
            if (_bias.Length == n)
            {
                TensorPrimitives.Add(row, _bias, row);
            }

            Span<float> o = dst.Slice(r * n, n);
            TensorPrimitives.ConvertTruncating(row, o);
            TensorPrimitives.Multiply(o, _floatScale, o);
        }
    }

    private static T[] Transpose<T>(T[] src, int rows, int cols)
    {
        var dst = new T[src.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                dst[(c * rows) + r] = src[(r * cols) + c];
            }
        }

        return dst;
    }
}

/// <summary>
/// com.microsoft QLinearAdd: C = saturate(round_half_even(A_scale (a - A_zp) / C_scale + B_scale (b - B_zp) / C_scale) + C_zp)
/// with broadcasting. Evaluated as rAC * a + (rBC * b + k) with fused multiply-adds, k = C_zp - (rAC A_zp + rBC B_zp),
/// rAC = A_scale / C_scale, rBC = B_scale / C_scale: the float formulation of ONNX Runtime's default x64 kernel.
/// </summary>
internal sealed class QLinearAddKernel(GraphNode node) : OpKernel(node)
{
    public override void Run(KernelContext ctx)
    {
        TensorValue a = ctx.Input(0);
        TensorValue b = ctx.Input(3);
        float sa = ctx.Input(1).GetFloat(0), sb = ctx.Input(4).GetFloat(0), sc = ctx.Input(6).GetFloat(0);
        int za = QuantMath.ZeroPoint(ctx.OptionalInput(2), 0), zb = QuantMath.ZeroPoint(ctx.OptionalInput(5), 0);
        TensorValue? zcV = ctx.OptionalInput(7);
        int zc = QuantMath.ZeroPoint(zcV, 0);
        Span<int> shape = stackalloc int[Broadcast.MaxRank];
        int rank = Broadcast.Shape(a.Dims, b.Dims, shape);
        shape = shape[..rank];
        bool outSigned = (zcV?.Type ?? a.Type) == TensorElementType.Int8;
        TensorValue y = ctx.Output(0, outSigned ? TensorElementType.Int8 : TensorElementType.UInt8, shape);
        float rac = sa / sc, rbc = sb / sc;
        float k = zc - ((rac * za) + (rbc * zb));
        if (a.Length == y.Length && b.Length == y.Length && a.Type == b.Type)
        {
            var work = new AddWork { A = a, B = b, Y = y, Rac = rac, Rbc = rbc, K = k, Signed = outSigned };
            IntraOpThreadPool.For(ctx.Pool, (y.Length + AddWork.Chunk - 1) / AddWork.Chunk, ref work, 4);
            return;
        }

        Span<float> scratch = ctx.Scratch<float>(a.Length + b.Length + y.Length);
        Span<float> fa = scratch[..a.Length], fb = scratch.Slice(a.Length, b.Length), fy = scratch.Slice(a.Length + b.Length, y.Length);
        ToFloat(a, fa);
        ToFloat(b, fb);

        // Broadcasting: rAC a + (rBC b + k) without the fused rounding of the same-shape path.
        TensorPrimitives.Multiply(fa, rac, fa);
        TensorPrimitives.Multiply(fb, rbc, fb);
        TensorPrimitives.Add(fb, k, fb);
        Broadcast.Binary<float, float, AddOp<float>>(fa, a.Dims, fb, b.Dims, fy, shape);

        // Round half to even and saturate (a division by 1 is exact).
        QuantMath.Quantize(fy, 1f, 0, y.Bytes(), outSigned);
    }

    /// <summary>y = fma(a, rac, fma(b, rbc, k)), vectorised; the same operations in the same order as the scalar form.</summary>
    internal static void FusedAdd(ReadOnlySpan<float> a, float rac, ReadOnlySpan<float> b, float rbc, float k, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vac = Vector256.Create(rac);
            var vbc = Vector256.Create(rbc);
            var vk = Vector256.Create(k);
            ref float ra = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
            ref float rb = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            ref float ry = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            for (; i + 8 <= y.Length; i += 8)
            {
                Vector256<float> t = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rb, (nuint)i), vbc, vk);
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ra, (nuint)i), vac, t).StoreUnsafe(ref ry, (nuint)i);
            }
        }

        for (; i < y.Length; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(a[i], rac, MathF.FusedMultiplyAdd(b[i], rbc, k));
        }
    }

    /// <summary>Same-shape QLinearAdd over chunks of elements (converted, added and requantised on the stack).</summary>
    private struct AddWork : IParallelWork
    {
        public const int Chunk = 1024;
        public TensorValue A;
        public TensorValue B;
        public TensorValue Y;
        public float Rac;
        public float Rbc;
        public float K;
        public bool Signed;

        public readonly void Run(int start, int end)
        {
            Span<float> buffer = stackalloc float[3 * Chunk];
            ReadOnlySpan<byte> a = A.Bytes(), b = B.Bytes();
            Span<byte> y = Y.Bytes();
            bool signedIn = A.Type == TensorElementType.Int8;
            for (int c = start; c < end; c++)
            {
                int from = c * Chunk, n = Math.Min(Chunk, y.Length - from);
                Span<float> fa = buffer[..n], fb = buffer.Slice(Chunk, n), fy = buffer.Slice(2 * Chunk, n);
                if (signedIn)
                {
                    TensorPrimitives.ConvertTruncating(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(a.Slice(from, n)), fa);
                    TensorPrimitives.ConvertTruncating(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(b.Slice(from, n)), fb);
                }
                else
                {
                    TensorPrimitives.ConvertTruncating(a.Slice(from, n), fa);
                    TensorPrimitives.ConvertTruncating(b.Slice(from, n), fb);
                }

                FusedAdd(fa, Rac, fb, Rbc, K, fy);
                QuantMath.Quantize(fy, 1f, 0, y.Slice(from, n), Signed);
            }
        }
    }

    private static void ToFloat(TensorValue v, Span<float> dst)
    {
        if (v.Type == TensorElementType.Int8)
        {
            TensorPrimitives.ConvertTruncating(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(v.Bytes()), dst);
        }
        else
        {
            TensorPrimitives.ConvertTruncating(v.Bytes(), dst);
        }
    }
}
