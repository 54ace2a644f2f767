using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Layout;
using DefectDetection.Onnx.Runtime;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Quantization;

/// <summary>Vectorised quantisation helpers: y = saturate(round_half_even(x / scale) + zp).</summary>
internal static class QuantMath
{
    public static void Quantize(ReadOnlySpan<float> x, float scale, int zeroPoint, Span<byte> y, bool signed)
    {
        if (signed)
        {
            QuantizeCore<sbyte>(x, scale, zeroPoint, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(y));
        }
        else
        {
            QuantizeCore<byte>(x, scale, zeroPoint, y);
        }
    }

    /// <summary>
    /// y = saturate(round_half_even(x / scale) + zp): division (not a reciprocal multiply, so ties round as ONNX
    /// Runtime's kernel does), clamping in float before the round, Vector256 path with a scalar tail.
    /// </summary>
    private static void QuantizeCore<T>(ReadOnlySpan<float> x, float scale, int zeroPoint, Span<T> y)
        where T : unmanaged
    {
        bool signed = typeof(T) == typeof(sbyte);
        float lo = (signed ? -128 : 0) - zeroPoint, hi = (signed ? 127 : 255) - zeroPoint;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= 32)
        {
            var vs = Vector256.Create(scale);
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);
            var vz = Vector256.Create(zeroPoint);
            ref float src = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref byte dst = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(System.Runtime.InteropServices.MemoryMarshal.AsBytes(y));
            for (; i + 32 <= x.Length; i += 32)
            {
                Vector256<int> a = Convert(Vector256.LoadUnsafe(ref src, (nuint)i), vs, vlo, vhi, vz);
                Vector256<int> b = Convert(Vector256.LoadUnsafe(ref src, (nuint)(i + 8)), vs, vlo, vhi, vz);
                Vector256<int> c = Convert(Vector256.LoadUnsafe(ref src, (nuint)(i + 16)), vs, vlo, vhi, vz);
                Vector256<int> d = Convert(Vector256.LoadUnsafe(ref src, (nuint)(i + 24)), vs, vlo, vhi, vz);
                Vector256<short> ab = Vector256.Narrow(a, b);
                Vector256<short> cd = Vector256.Narrow(c, d);
                Vector256<sbyte> packed = Vector256.Narrow(ab, cd);
                packed.AsByte().StoreUnsafe(ref dst, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
        {
            float v = Math.Clamp(x[i] / scale, lo, hi);
            int q = (int)MathF.Round(v, MidpointRounding.ToEven) + zeroPoint;
            if (signed)
            {
                System.Runtime.CompilerServices.Unsafe.As<T, sbyte>(ref y[i]) = (sbyte)q;
            }
            else
            {
                System.Runtime.CompilerServices.Unsafe.As<T, byte>(ref y[i]) = (byte)q;
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Convert(Vector256<float> v, Vector256<float> scale, Vector256<float> lo, Vector256<float> hi, Vector256<int> zp)
    {
        v = Vector256.Min(Vector256.Max(v / scale, lo), hi);
        return Vector256.ConvertToInt32(Vector256.Round(v)) + zp;
    }

    /// <summary>Quantises a whole tensor in chunks on the intra-op pool.</summary>
    public static void QuantizeParallel(KernelContext ctx, TensorValue x, TensorValue y, float scale, int zeroPoint, bool signed)
    {
        const int ChunkElements = 16384;
        var work = new QuantizeWork { X = x, Y = y, Scale = scale, ZeroPoint = zeroPoint, Signed = signed, Chunk = ChunkElements };
        IntraOpThreadPool.For(ctx.Pool, (x.Length + ChunkElements - 1) / ChunkElements, ref work, 2);
    }

    private struct QuantizeWork : IParallelWork
    {
        public TensorValue X;
        public TensorValue Y;
        public float Scale;
        public int ZeroPoint;
        public bool Signed;
        public int Chunk;

        public readonly void Run(int start, int end)
        {
            int from = start * Chunk, to = Math.Min(end * Chunk, X.Length);
            Quantize(X.Span<float>()[from..to], Scale, ZeroPoint, Y.Bytes()[from..to], Signed);
        }
    }

    /// <summary>y = (float)(x - zeroPoint) * scale for u8 (or s8 when <paramref name="signed"/>) bytes; one pass.</summary>
    public static void Dequantize(ReadOnlySpan<byte> x, bool signed, int zeroPoint, float scale, Span<float> y)
    {
        if (y.Length < x.Length)
        {
            throw new ArgumentException("The destination is too short.", nameof(y));
        }

        int i = 0;
        ref byte src = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float dst = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        if (Vector256.IsHardwareAccelerated && x.Length >= 32)
        {
            // 32 bytes widen to four vectors of 8 int32 (sign- or zero-extended); (x - zp) is exact in float.
            var vz = Vector256.Create(zeroPoint);
            var vs = Vector256.Create(scale);
            for (; i + 32 <= x.Length; i += 32)
            {
                Vector256<byte> v = Vector256.LoadUnsafe(ref src, (nuint)i);
                Vector256<int> a, b, c, d;
                if (signed)
                {
                    (Vector256<short> lo, Vector256<short> hi) = Vector256.Widen(v.AsSByte());
                    (a, b) = Vector256.Widen(lo);
                    (c, d) = Vector256.Widen(hi);
                }
                else
                {
                    (Vector256<ushort> lo, Vector256<ushort> hi) = Vector256.Widen(v);
                    (Vector256<uint> ua, Vector256<uint> ub) = Vector256.Widen(lo);
                    (Vector256<uint> uc, Vector256<uint> ud) = Vector256.Widen(hi);
                    (a, b, c, d) = (ua.AsInt32(), ub.AsInt32(), uc.AsInt32(), ud.AsInt32());
                }

                (Vector256.ConvertToSingle(a - vz) * vs).StoreUnsafe(ref dst, (nuint)i);
                (Vector256.ConvertToSingle(b - vz) * vs).StoreUnsafe(ref dst, (nuint)(i + 8));
                (Vector256.ConvertToSingle(c - vz) * vs).StoreUnsafe(ref dst, (nuint)(i + 16));
                (Vector256.ConvertToSingle(d - vz) * vs).StoreUnsafe(ref dst, (nuint)(i + 24));
            }
        }

        for (; i < x.Length; i++)
        {
            int v = signed ? (sbyte)x[i] : x[i];
            y[i] = (v - zeroPoint) * scale;
        }
    }

    /// <summary>Reads a zero point (uint8, int8 or int32) at index i, 0 when absent.</summary>
    public static int ZeroPoint(TensorValue? zp, int i) => zp is null || zp.Length == 0 ? 0 : (int)zp.GetInt64(zp.Length == 1 ? 0 : i);

    public static int ZeroPoint(OnnxTensor? zp, int i)
    {
        if (zp is null || zp.Length == 0)
        {
            return 0;
        }

        int k = zp.Length == 1 ? 0 : i;
        return zp switch
        {
            OnnxTensor<byte> b => b.Data[k],
            OnnxTensor<sbyte> s => s.Data[k],
            OnnxTensor<int> n => n.Data[k],
            _ => throw new OnnxModelException($"Zero point type {zp.ElementType} is not supported."),
        };
    }

    public static float Scale(OnnxTensor s, int i) => ((OnnxTensor<float>)s).Data[s.Length == 1 ? 0 : i];
}

/// <summary>QuantizeLinear (per tensor or per axis) to uint8 or int8, round half to even, saturating.</summary>
internal sealed class QuantizeLinearKernel : OpKernel
{
    private readonly long _axis;

    public QuantizeLinearKernel(GraphNode node)
        : base(node)
    {
        _axis = node.GetInt("axis", 1);
        if (node.GetInt("block_size", 0) != 0)
        {
            throw new UnsupportedNodeException("blocked quantization (block_size) is not supported");
        }

        if (node.HasAttribute("output_dtype") && node.GetInt("output_dtype", 0) is not (0 or 2 or 3))
        {
            throw new UnsupportedNodeException("only uint8 and int8 outputs are supported");
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue scale = ctx.Input(1);
        TensorValue? zp = ctx.OptionalInput(2);
        TensorElementType outType = zp?.Type ?? ((TensorElementType)Node.GetInt("output_dtype", 2) is TensorElementType.Int8 ? TensorElementType.Int8 : TensorElementType.UInt8);
        if (outType is not (TensorElementType.UInt8 or TensorElementType.Int8))
        {
            throw Error($"Output type {outType} is not supported.");
        }

        bool signed = outType == TensorElementType.Int8;
        TensorValue y = ctx.Output(0, outType, x.Dims);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<byte> dst = y.Bytes();
        if (scale.Length == 1)
        {
            QuantMath.QuantizeParallel(ctx, x, y, scale.GetFloat(0), QuantMath.ZeroPoint(zp, 0), signed);
            return;
        }

        int axis = ShapeHelpers.NormalizeAxis(_axis, x.Rank);
        int dim = x.Shape[axis];
        if (scale.Length != dim)
        {
            throw Error($"Per-axis scale has {scale.Length} entries for a dimension of {dim}.");
        }

        int outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        int inner = outer * dim == 0 ? 0 : x.Length / (outer * dim);
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < dim; c++)
            {
                int off = ((o * dim) + c) * inner;
                QuantMath.Quantize(src.Slice(off, inner), scale.GetFloat(c), QuantMath.ZeroPoint(zp, c), dst.Slice(off, inner), signed);
            }
        }
    }
}

/// <summary>DequantizeLinear (uint8, int8, int32; per tensor or per axis): y = (x - zp) * scale.</summary>
internal sealed class DequantizeLinearKernel : OpKernel
{
    private readonly long _axis;

    public DequantizeLinearKernel(GraphNode node)
        : base(node)
    {
        _axis = node.GetInt("axis", 1);
        if (node.GetInt("block_size", 0) != 0)
        {
            throw new UnsupportedNodeException("blocked quantization (block_size) is not supported");
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue scale = ctx.Input(1);
        TensorValue? zp = ctx.OptionalInput(2);
        TensorValue y = ctx.Output(0, TensorElementType.Float32, x.Dims);
        Span<float> dst = y.Span<float>();
        int axis = scale.Length == 1 ? 0 : ShapeHelpers.NormalizeAxis(_axis, x.Rank);
        int dim = scale.Length == 1 ? 1 : x.Shape[axis];
        if (scale.Length != 1 && scale.Length != dim)
        {
            throw Error($"Per-axis scale has {scale.Length} entries for a dimension of {dim}.");
        }

        int outer = 1;
        for (int d = 0; d < axis && scale.Length != 1; d++)
        {
            outer *= x.Shape[d];
        }

        int inner = outer * dim == 0 ? 0 : x.Length / (outer * dim);
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < dim; c++)
            {
                int off = ((o * dim) + c) * inner;
                float s = scale.GetFloat(c);
                int z = QuantMath.ZeroPoint(zp, c);
                Span<float> d = dst.Slice(off, inner);
                switch (x.Type)
                {
                    case TensorElementType.UInt8: QuantMath.Dequantize(x.Bytes().Slice(off, inner), false, z, s, d); break;
                    case TensorElementType.Int8: QuantMath.Dequantize(x.Bytes().Slice(off, inner), true, z, s, d); break;
                    case TensorElementType.Int32:
                        TensorPrimitives.ConvertTruncating(x.Span<int>().Slice(off, inner), d);
                        TensorPrimitives.Subtract(d, z, d);
                        TensorPrimitives.Multiply(d, s, d);
                        break;
                    default: throw Error($"Input type {x.Type} is not supported.");
                }
            }
        }
    }
}

/// <summary>DynamicQuantizeLinear: uint8 with scale and zero point from the data range (which always includes 0).</summary>
internal sealed class DynamicQuantizeLinearKernel(GraphNode node) : OpKernel(node)
{
    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        ReadOnlySpan<float> src = x.Span<float>();
        float min = src.IsEmpty ? 0 : MathF.Min(0, TensorPrimitives.Min(src));
        float max = src.IsEmpty ? 0 : MathF.Max(0, TensorPrimitives.Max(src));
        float scale = (max - min) / 255f;
        float zpf = scale == 0 ? 0 : MathF.Round(Math.Clamp(0 - (min / scale), 0, 255), MidpointRounding.ToEven);
        int zp = (int)zpf;
        TensorValue y = ctx.Output(0, TensorElementType.UInt8, x.Dims);
        ctx.Output(1, TensorElementType.Float32, []).Span<float>()[0] = scale;
        ctx.Output(2, TensorElementType.UInt8, []).Span<byte>()[0] = (byte)zp;
        if (scale == 0)
        {
            y.Span<byte>().Fill((byte)zp);
            return;
        }

        QuantMath.QuantizeParallel(ctx, x, y, scale, zp, false);
    }
}
