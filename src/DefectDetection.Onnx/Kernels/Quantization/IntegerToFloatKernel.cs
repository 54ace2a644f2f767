using System.Numerics.Tensors;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Elementwise;
using DefectDetection.Onnx.Runtime;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Quantization;

/// <summary>
/// Internal operator (domain <see cref="KernelRegistry.InternalDomain"/>) produced by the "IntegerToFloatFusion" rewrite:
/// y = clip(float(x) * scale + bias) for the int32 output of ConvInteger/MatMulInteger, replacing Cast -> Mul -> Add
/// [-> Clip/Relu] of dynamically quantised models. Per-plane when scale and bias are per tensor or per channel (axis 1);
/// any other broadcast falls back to the general path.
/// </summary>
internal sealed class IntegerToFloatKernel(GraphNode node) : OpKernel(node)
{
    private readonly float _min = node.GetFloat("min", float.NegativeInfinity);
    private readonly float _max = node.GetFloat("max", float.PositiveInfinity);

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue scale = ctx.Input(1);
        TensorValue? bias = ctx.OptionalInput(2);
        Span<int> shape = stackalloc int[Broadcast.MaxRank];
        int rank = Broadcast.Shape(x.Dims, scale.Dims, shape);
        if (bias is not null)
        {
            Span<int> tmp = stackalloc int[Broadcast.MaxRank];
            shape[..rank].CopyTo(tmp);
            rank = Broadcast.Shape(tmp[..rank], bias.Dims, shape);
        }

        shape = shape[..rank];
        TensorValue y = ctx.Output(0, TensorElementType.Float32, shape);
        Span<float> dst = y.Span<float>();
        ReadOnlySpan<int> src = x.Span<int>();
        int channels = x.Rank >= 2 ? x.Shape[1] : 1;
        if (x.Length == y.Length && PerChannel(scale, x, channels) && (bias is null || PerChannel(bias, x, channels)))
        {
            ReadOnlySpan<float> s = scale.Span<float>();
            ReadOnlySpan<float> b = bias is null ? default : bias.Span<float>();
            int plane = x.Rank > 2 ? x.Length / (x.Shape[0] * channels) : 1;
            int planes = plane == 0 ? 0 : x.Length / plane;
            if (x.Rank == 2)
            {
                // [N, M]: per column scale and bias.
                for (int r = 0; r < x.Shape[0]; r++)
                {
                    Span<float> row = dst.Slice(r * channels, channels);
                    TensorPrimitives.ConvertTruncating(src.Slice(r * channels, channels), row);
                    if (s.Length == 1)
                    {
                        TensorPrimitives.Multiply(row, s[0], row);
                    }
                    else
                    {
                        TensorPrimitives.Multiply(row, s, row);
                    }

                    if (!b.IsEmpty)
                    {
                        if (b.Length == 1)
                        {
                            TensorPrimitives.Add(row, b[0], row);
                        }
                        else
                        {
                            TensorPrimitives.Add(row, b, row);
                        }
                    }

                    Clip(row);
                }

                return;
            }

            var work = new PlaneWork { X = x, Y = y, Scale = scale, Bias = bias, Plane = plane, Channels = channels, Min = _min, Max = _max };
            IntraOpThreadPool.For(ctx.Pool, planes, ref work, Math.Max(1, 16384 / Math.Max(plane, 1)));
            return;
        }

        // General broadcasting.
        Span<float> f = ctx.Scratch<float>(x.Length);
        TensorPrimitives.ConvertTruncating(src, f);
        Broadcast.Binary<float, float, MulOp<float>>(f, x.Dims, scale.Span<float>(), scale.Dims, dst, shape);
        if (bias is not null)
        {
            Broadcast.Binary<float, float, AddOp<float>>(dst, shape, bias.Span<float>(), bias.Dims, dst, shape);
        }

        Clip(dst);
    }

    private static bool PerChannel(TensorValue t, TensorValue x, int channels)
    {
        if (t.Length == 1)
        {
            return true;
        }

        if (t.Length != channels)
        {
            return false;
        }

        // The channel dimension must line up with x's axis 1 ([M], [M,1,1], [1,M,1,1] for rank 4; [M] for rank 2).
        int lead = x.Rank - t.Rank;
        int axis = 1 - lead;
        return axis >= 0 && axis < t.Rank && t.Shape[axis] == channels;
    }

    private void Clip(Span<float> v) => Clip(v, _min, _max);

    private static void Clip(Span<float> v, float min, float max)
    {
        if (min != float.NegativeInfinity)
        {
            TensorPrimitives.Max(v, min, v);
        }

        if (max != float.PositiveInfinity)
        {
            TensorPrimitives.Min(v, max, v);
        }
    }

    /// <summary>Planes [start, end) of the per-channel path, for the intra-op pool.</summary>
    private struct PlaneWork : IParallelWork
    {
        public TensorValue X;
        public TensorValue Y;
        public TensorValue Scale;
        public TensorValue? Bias;
        public int Plane;
        public int Channels;
        public float Min;
        public float Max;

        public readonly void Run(int start, int end)
        {
            ReadOnlySpan<int> src = X.Span<int>();
            Span<float> dst = Y.Span<float>();
            ReadOnlySpan<float> s = Scale.Span<float>();
            ReadOnlySpan<float> b = Bias is null ? default : Bias.Span<float>();
            for (int p = start; p < end; p++)
            {
                int c = p % Channels;
                Span<float> o = dst.Slice(p * Plane, Plane);
                TensorPrimitives.ConvertTruncating(src.Slice(p * Plane, Plane), o);
                Affine.Apply(o, s.Length == 1 ? s[0] : s[c], b.IsEmpty ? 0f : (b.Length == 1 ? b[0] : b[c]), o);
                Clip(o, Min, Max);
            }
        }
    }
}
