using System.Numerics;
using System.Numerics.Tensors;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Elementwise;

/// <summary>Float unary operators through TensorPrimitives: Sqrt, Exp, Log, Neg, Abs, Reciprocal, Erf, Relu, LeakyRelu,
/// Sigmoid, HardSigmoid, HardSwish, Tanh, Floor, Ceil, Round, Softplus, Elu, Selu, Celu, Not, Sin, Cos, Atan, Sign,
/// Softsign, ThresholdedRelu, Mish, Gelu (exact and tanh).</summary>
internal sealed class UnaryKernel : OpKernel
{
    private readonly string _op;
    private readonly float _alpha;
    private readonly float _beta;

    public UnaryKernel(GraphNode node)
        : base(node)
    {
        _op = node.OpType;
        _alpha = node.GetFloat("alpha", node.OpType switch { "LeakyRelu" => 0.01f, "HardSigmoid" => 0.2f, "Elu" or "Celu" or "ThresholdedRelu" => 1f, "Selu" => 1.67326319217681884765625f, _ => 0f });
        _beta = node.GetFloat("beta", 0.5f);
        if (node.OpType == "Selu")
        {
            _beta = node.GetFloat("gamma", 1.05070102214813232421875f);
        }

        if (node.OpType == "Gelu")
        {
            string approximate = node.GetString("approximate", "none");
            _op = approximate switch
            {
                "none" => "Gelu",
                "tanh" => "GeluTanh",
                _ => throw new UnsupportedNodeException($"Gelu approximate '{approximate}' is not supported"),
            };
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue y = ctx.OutputLike(0, x);
        if (x.Type == TensorElementType.Float32)
        {
            Apply(x.Span<float>(), y.Span<float>());
            return;
        }

        switch (x.Type)
        {
            case TensorElementType.Int32: Integer<int>(x.Span<int>(), y.Span<int>()); break;
            case TensorElementType.Int64: Integer<long>(x.Span<long>(), y.Span<long>()); break;
            case TensorElementType.Double when _op is "Neg" or "Abs" or "Sqrt" or "Exp" or "Log":
                {
                    ReadOnlySpan<double> s = x.Span<double>();
                    Span<double> d = y.Span<double>();
                    switch (_op)
                    {
                        case "Neg": TensorPrimitives.Negate(s, d); break;
                        case "Abs": TensorPrimitives.Abs(s, d); break;
                        case "Sqrt": TensorPrimitives.Sqrt(s, d); break;
                        case "Exp": TensorPrimitives.Exp(s, d); break;
                        default: TensorPrimitives.Log(s, d); break;
                    }

                    break;
                }

            case TensorElementType.Bool when _op == "Not":
                {
                    ReadOnlySpan<bool> s = x.Span<bool>();
                    Span<bool> d = y.Span<bool>();
                    for (int i = 0; i < d.Length; i++)
                    {
                        d[i] = !s[i];
                    }

                    break;
                }

            default: throw Error($"Element type {x.Type} is not supported.");
        }
    }

    public void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        switch (_op)
        {
            case "Sqrt": TensorPrimitives.Sqrt(x, y); break;
            case "Exp": TensorPrimitives.Exp(x, y); break;
            case "Log": TensorPrimitives.Log(x, y); break;
            case "Neg": TensorPrimitives.Negate(x, y); break;
            case "Abs": TensorPrimitives.Abs(x, y); break;
            case "Reciprocal": TensorPrimitives.Divide(1f, x, y); break;
            case "Relu": TensorPrimitives.Max(x, 0f, y); break;
            case "Sigmoid": TensorPrimitives.Sigmoid(x, y); break;
            case "Tanh": TensorPrimitives.Tanh(x, y); break;
            case "Floor": TensorPrimitives.Floor(x, y); break;
            case "Ceil": TensorPrimitives.Ceiling(x, y); break;
            case "Round": TensorPrimitives.Round(x, MidpointRounding.ToEven, y); break;
            case "Sin": TensorPrimitives.Sin(x, y); break;
            case "Cos": TensorPrimitives.Cos(x, y); break;
            case "Atan": TensorPrimitives.Atan(x, y); break;
            case "Sign":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = v > 0 ? 1f : v < 0 ? -1f : v;
                }

                break;
            case "Softsign":
                TensorPrimitives.Abs(x, y);
                TensorPrimitives.Add(y, 1f, y);
                TensorPrimitives.Divide(x, y, y);
                break;
            case "ThresholdedRelu":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = v > _alpha ? v : 0f;
                }

                break;
            case "Mish":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = v * MathF.Tanh(v > 20 ? v : MathF.Log(1 + MathF.Exp(v)));
                }

                break;
            case "Celu":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = MathF.Max(0f, v) + MathF.Min(0f, _alpha * (MathF.Exp(v / _alpha) - 1));
                }

                break;
            case "Gelu":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = 0.5f * v * (1f + Erf(v * 0.70710678118654752f));
                }

                break;
            case "GeluTanh":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = 0.5f * v * (1f + MathF.Tanh(0.7978845608028654f * (v + (0.044715f * v * v * v))));
                }

                break;
            case "Softplus":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = v > 20 ? v : MathF.Log(1 + MathF.Exp(v));
                }

                break;
            case "LeakyRelu":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = v >= 0 ? v : v * _alpha;
                }

                break;
            case "Elu":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = v >= 0 ? v : _alpha * (MathF.Exp(v) - 1);
                }

                break;
            case "Selu":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = _beta * (v > 0 ? v : _alpha * (MathF.Exp(v) - 1));
                }

                break;
            case "HardSigmoid":
                Affine.Apply(x, _alpha, _beta, y);
                TensorPrimitives.Max(y, 0f, y);
                TensorPrimitives.Min(y, 1f, y);
                break;
            case "HardSwish":
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = v * Math.Clamp((v / 6f) + 0.5f, 0f, 1f);
                }

                break;
            case "Erf":
                for (int i = 0; i < y.Length; i++)
                {
                    y[i] = Erf(x[i]);
                }

                break;
            default: throw Error("Float input is not supported.");
        }
    }

    /// <summary>erf(x): Maclaurin series below 0.5, Abramowitz and Stegun 7.1.26 above (absolute error below 2e-7).</summary>
    internal static float Erf(float xf)
    {
        double x = xf;
        double ax = Math.Abs(x);
        if (ax < 0.5)
        {
            double x2 = x * x;
            double series = 1 - (x2 / 3) + (x2 * x2 / 10) - (x2 * x2 * x2 / 42) + (x2 * x2 * x2 * x2 / 216) - (x2 * x2 * x2 * x2 * x2 / 1320) + (x2 * x2 * x2 * x2 * x2 * x2 / 9360);
            return (float)(1.1283791670955126 * x * series);
        }

        double t = 1 / (1 + (0.3275911 * ax));
        double poly = t * (0.254829592 + (t * (-0.284496736 + (t * (1.421413741 + (t * (-1.453152027 + (t * 1.061405429))))))));
        double e = 1 - (poly * Math.Exp(-ax * ax));
        return (float)(x < 0 ? -e : e);
    }

    private void Integer<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, INumber<T>, ISignedNumber<T>
    {
        switch (_op)
        {
            case "Neg": TensorPrimitives.Negate(x, y); break;
            case "Abs": TensorPrimitives.Abs(x, y); break;
            case "Relu": TensorPrimitives.Max(x, T.Zero, y); break;
            case "Sign":
                for (int i = 0; i < y.Length; i++)
                {
                    y[i] = T.CreateTruncating(T.Sign(x[i]));
                }

                break;
            default: throw Error("Integer input is not supported.");
        }
    }
}

/// <summary>Clip with min/max attributes (opset &lt; 11) or optional inputs (opset 11+).</summary>
internal sealed class ClipKernel : OpKernel
{
    private readonly float _min;
    private readonly float _max;

    public ClipKernel(GraphNode node)
        : base(node)
    {
        _min = node.GetFloat("min", float.MinValue);
        _max = node.GetFloat("max", float.MaxValue);
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue y = ctx.OutputLike(0, x);
        TensorValue? minV = ctx.OptionalInput(1);
        TensorValue? maxV = ctx.OptionalInput(2);
        switch (x.Type)
        {
            case TensorElementType.Float32:
                {
                    float lo = minV is null ? _min : minV.GetFloat(0);
                    float hi = maxV is null ? _max : maxV.GetFloat(0);
                    TensorPrimitives.Max(x.Span<float>(), lo, y.Span<float>());
                    TensorPrimitives.Min(y.Span<float>(), hi, y.Span<float>());
                    break;
                }

            case TensorElementType.Int32: Integer<int>(x, y, minV, maxV); break;
            case TensorElementType.Int64: Integer<long>(x, y, minV, maxV); break;
            case TensorElementType.UInt8: Integer<byte>(x, y, minV, maxV); break;
            case TensorElementType.Int8: Integer<sbyte>(x, y, minV, maxV); break;
            default: throw Error($"Element type {x.Type} is not supported.");
        }
    }

    private static void Integer<T>(TensorValue x, TensorValue y, TensorValue? minV, TensorValue? maxV)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        T lo = minV is null ? T.MinValue : minV.Span<T>()[0];
        T hi = maxV is null ? T.MaxValue : maxV.Span<T>()[0];
        TensorPrimitives.Max(x.Span<T>(), lo, y.Span<T>());
        TensorPrimitives.Min(y.Span<T>(), hi, y.Span<T>());
    }
}

/// <summary>Identity and Dropout (inference: a copy; the optional mask output is all true).</summary>
internal sealed class IdentityKernel(GraphNode node) : OpKernel(node)
{
    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue y = ctx.OutputLike(0, x);
        x.Bytes().CopyTo(y.Bytes());
        if (ctx.OutputCount > 1 && ctx.WantsOutput(1))
        {
            TensorValue mask = ctx.Output(1, TensorElementType.Bool, x.Dims);
            mask.Span<bool>().Fill(true);
        }
    }
}

/// <summary>Cast between numeric types and bool (float to integer truncates toward zero, as in C casts).</summary>
internal sealed class CastKernel : OpKernel
{
    private readonly TensorElementType _to;

    public CastKernel(GraphNode node)
        : base(node)
    {
        _to = (TensorElementType)node.GetInt32("to", 1);
        if (_to == TensorElementType.String || !Enum.IsDefined(_to))
        {
            throw new UnsupportedNodeException($"Cast to element type {(int)_to} is not supported");
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue y = ctx.Output(0, _to, x.Dims);
        switch (x.Type)
        {
            case TensorElementType.Float32: From<float>(x, y); break;
            case TensorElementType.Int32: From<int>(x, y); break;
            case TensorElementType.Int64: From<long>(x, y); break;
            case TensorElementType.UInt8: From<byte>(x, y); break;
            case TensorElementType.Int8: From<sbyte>(x, y); break;
            case TensorElementType.Double: From<double>(x, y); break;
            case TensorElementType.Float16: From<Half>(x, y); break;
            case TensorElementType.Int16: From<short>(x, y); break;
            case TensorElementType.UInt16: From<ushort>(x, y); break;
            case TensorElementType.UInt32: From<uint>(x, y); break;
            case TensorElementType.UInt64: From<ulong>(x, y); break;
            case TensorElementType.Bool: From<byte>(x, y, fromBool: true); break;
            default: throw Error($"Cast from {x.Type} is not supported.");
        }
    }

    private void From<TFrom>(TensorValue x, TensorValue y, bool fromBool = false)
        where TFrom : unmanaged, INumberBase<TFrom>
    {
        ReadOnlySpan<TFrom> s = fromBool ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, TFrom>(x.Span<byte>()) : x.Span<TFrom>();
        switch (_to)
        {
            case TensorElementType.Float32: TensorPrimitives.ConvertTruncating(s, y.Span<float>()); break;
            case TensorElementType.Int32: TensorPrimitives.ConvertTruncating(s, y.Span<int>()); break;
            case TensorElementType.Int64: TensorPrimitives.ConvertTruncating(s, y.Span<long>()); break;
            case TensorElementType.UInt8: TensorPrimitives.ConvertTruncating(s, y.Span<byte>()); break;
            case TensorElementType.Int8: TensorPrimitives.ConvertTruncating(s, y.Span<sbyte>()); break;
            case TensorElementType.Double: TensorPrimitives.ConvertTruncating(s, y.Span<double>()); break;
            case TensorElementType.Float16: TensorPrimitives.ConvertTruncating(s, y.Span<Half>()); break;
            case TensorElementType.Int16: TensorPrimitives.ConvertTruncating(s, y.Span<short>()); break;
            case TensorElementType.UInt16: TensorPrimitives.ConvertTruncating(s, y.Span<ushort>()); break;
            case TensorElementType.UInt32: TensorPrimitives.ConvertTruncating(s, y.Span<uint>()); break;
            case TensorElementType.UInt64: TensorPrimitives.ConvertTruncating(s, y.Span<ulong>()); break;
            case TensorElementType.Bool:
                {
                    Span<bool> d = y.Span<bool>();
                    for (int i = 0; i < d.Length; i++)
                    {
                        d[i] = s[i] != TFrom.Zero;
                    }

                    break;
                }

            default: throw Error($"Cast to {_to} is not supported.");
        }
    }
}
