using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Layout;

/// <summary>SpaceToDepth and DepthToSpace (DCR and CRD modes) on NCHW tensors: a 6-D transpose done by one strided copy.</summary>
internal sealed class SpaceDepthKernel : OpKernel
{
    private static readonly int[] SpaceToDepthPerm = [0, 3, 5, 1, 2, 4];
    private static readonly int[] DcrPerm = [0, 3, 4, 1, 5, 2];
    private static readonly int[] CrdPerm = [0, 1, 4, 2, 5, 3];

    private readonly bool _toDepth;
    private readonly bool _crd;
    private readonly int _block;

    public SpaceDepthKernel(GraphNode node)
        : base(node)
    {
        _toDepth = node.OpType == "SpaceToDepth";
        long block = node.GetInt("blocksize", 0);
        if (block < 1 || block > 1 << 16)
        {
            throw new UnsupportedNodeException($"blocksize {block} is not valid");
        }

        _block = (int)block;
        string mode = node.GetString("mode", "DCR");
        if (!_toDepth && mode is not ("DCR" or "CRD"))
        {
            throw new UnsupportedNodeException($"mode '{mode}' is not supported");
        }

        _crd = !_toDepth && mode == "CRD";
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Rank != 4)
        {
            throw Error($"Input must be 4-D (NCHW), got rank {x.Rank}.");
        }

        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], b = _block;
        Span<int> view = stackalloc int[6];
        Span<int> outShape = stackalloc int[4];
        ReadOnlySpan<int> perm;
        if (_toDepth)
        {
            if (h % b != 0 || w % b != 0)
            {
                throw Error($"Height {h} and width {w} must be multiples of blocksize {b}.");
            }

            view[0] = n; view[1] = c; view[2] = h / b; view[3] = b; view[4] = w / b; view[5] = b;
            outShape[0] = n; outShape[1] = c * b * b; outShape[2] = h / b; outShape[3] = w / b;
            perm = SpaceToDepthPerm;
        }
        else
        {
            if (c % (b * b) != 0)
            {
                throw Error($"Channels {c} must be a multiple of blocksize squared ({b * b}).");
            }

            int cc = c / (b * b);
            if (_crd)
            {
                view[0] = n; view[1] = cc; view[2] = b; view[3] = b; view[4] = h; view[5] = w;
                perm = CrdPerm;
            }
            else
            {
                view[0] = n; view[1] = b; view[2] = b; view[3] = cc; view[4] = h; view[5] = w;
                perm = DcrPerm;
            }

            outShape[0] = n; outShape[1] = cc; outShape[2] = h * b; outShape[3] = w * b;
        }

        TensorValue y = ctx.Output(0, x.Type, outShape);
        Span<int> inStrides = stackalloc int[6];
        StridedCopy.ContiguousStrides(view, inStrides);
        Span<int> shape = stackalloc int[6];
        Span<int> strides = stackalloc int[6];
        for (int i = 0; i < 6; i++)
        {
            shape[i] = view[perm[i]];
            strides[i] = inStrides[perm[i]];
        }

        StridedCopy.Run(x.Bytes(), OnnxTensor.ElementSize(x.Type), 0, shape, strides, y.Bytes());
    }
}

/// <summary>Range(start, limit, delta): max(ceil((limit - start) / delta), 0) values start + i * delta.</summary>
internal sealed class RangeKernel(GraphNode node) : OpKernel(node)
{
    public override void Run(KernelContext ctx)
    {
        TensorValue start = ctx.Input(0);
        TensorValue limit = ctx.Input(1);
        TensorValue delta = ctx.Input(2);
        if (start.Length != 1 || limit.Length != 1 || delta.Length != 1)
        {
            throw Error("start, limit and delta must be scalars.");
        }

        switch (start.Type)
        {
            case TensorElementType.Float32:
                {
                    float s = start.Span<float>()[0], d = delta.Span<float>()[0];
                    Span<float> y = ctx.Output(0, start.Type, [Count(s, limit.Span<float>()[0], d)]).Span<float>();
                    for (int i = 0; i < y.Length; i++)
                    {
                        y[i] = s + (i * d);
                    }

                    break;
                }

            case TensorElementType.Double:
                {
                    double s = start.Span<double>()[0], d = delta.Span<double>()[0];
                    Span<double> y = ctx.Output(0, start.Type, [Count(s, limit.Span<double>()[0], d)]).Span<double>();
                    for (int i = 0; i < y.Length; i++)
                    {
                        y[i] = s + (i * d);
                    }

                    break;
                }

            case TensorElementType.Int32 or TensorElementType.Int64 or TensorElementType.Int16:
                {
                    long s = start.GetInt64(0), l = limit.GetInt64(0), d = delta.GetInt64(0);
                    if (d == 0)
                    {
                        throw Error("delta must not be zero.");
                    }

                    // 128-bit so that the int64 extremes neither wrap the span (which made an empty range) nor the count.
                    Int128 span = (Int128)l - s;
                    Int128 count = span == 0 || (span < 0) != (d < 0) ? 0 : (span / d) + (span % d != 0 ? 1 : 0);
                    TensorValue y = ctx.Output(0, start.Type, [CheckCount(count)]);
                    for (int i = 0; i < y.Length; i++)
                    {
                        // Wrapping arithmetic is exact here: every element lies between start and limit.
                        long v = unchecked(s + (i * d));
                        switch (start.Type)
                        {
                            case TensorElementType.Int32: y.Span<int>()[i] = (int)v; break;
                            case TensorElementType.Int16: y.Span<short>()[i] = (short)v; break;
                            default: y.Span<long>()[i] = v; break;
                        }
                    }

                    break;
                }

            default: throw Error($"Element type {start.Type} is not supported.");
        }
    }

    private int Count(double start, double limit, double delta)
    {
        double c = Math.Ceiling((limit - start) / delta);
        if (double.IsNaN(c))
        {
            throw Error("Range bounds are not finite.");
        }

        return CheckCount((long)Math.Clamp(c, 0, TensorValue.MaxElements + 1));
    }

    private int CheckCount(Int128 count)
        => count <= TensorValue.MaxElements ? (int)count
            : throw Error(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Range of {count} elements is too large (at most {TensorValue.MaxElements})."));
}
