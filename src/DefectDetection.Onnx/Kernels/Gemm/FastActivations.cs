using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// Vectorized LeakyRelu, Sigmoid, HardSwish and SiLU. Sigmoid uses a Cephes-style exp (range reduction by ln 2 and a
/// degree-5 polynomial, about 2 ulp) with the argument clamped to [-87, 87], where exp stays a normal float.
/// Steps down Vector512 -> Vector256 -> scalar (MathF.Exp).
/// </summary>
internal static class FastActivations
{
    private const float ExpClamp = 87f;

    public static void Apply(FusedActivation kind, float alpha, Span<float> values)
    {
        // One instantiation per activation (see IConstant): no per-vector switch, no PGO cross-talk between kinds.
        switch (kind)
        {
            case FusedActivation.LeakyRelu:
                Apply<KindLeakyRelu>(alpha, values);
                break;
            case FusedActivation.Sigmoid:
                Apply<KindSigmoid>(alpha, values);
                break;
            case FusedActivation.HardSwish:
                Apply<KindHardSwish>(alpha, values);
                break;
            case FusedActivation.Silu:
                Apply<KindSilu>(alpha, values);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private struct KindLeakyRelu : IConstant
    {
        public static int Value => (int)FusedActivation.LeakyRelu;
    }

    private struct KindSigmoid : IConstant
    {
        public static int Value => (int)FusedActivation.Sigmoid;
    }

    private struct KindHardSwish : IConstant
    {
        public static int Value => (int)FusedActivation.HardSwish;
    }

    private struct KindSilu : IConstant
    {
        public static int Value => (int)FusedActivation.Silu;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Apply<TKind>(float alpha, Span<float> values)
        where TKind : struct, IConstant
    {
        var kind = (FusedActivation)TKind.Value;
        ref float start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(values);
        int n = values.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                ref float p = ref Unsafe.Add(ref start, i);
                Vector512.StoreUnsafe(Apply512(kind, alpha, Vector512.LoadUnsafe(ref p)), ref p);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                ref float p = ref Unsafe.Add(ref start, i);
                Vector256.StoreUnsafe(Apply256(kind, alpha, Vector256.LoadUnsafe(ref p)), ref p);
            }
        }

        for (; i < n; i++)
        {
            values[i] = ApplyScalar(kind, alpha, values[i]);
        }
    }

    public static float ApplyScalar(FusedActivation kind, float alpha, float v) => kind switch
    {
        FusedActivation.LeakyRelu => v >= 0 ? v : alpha * v,
        FusedActivation.Sigmoid => 1f / (1f + MathF.Exp(-Math.Clamp(v, -ExpClamp, ExpClamp))),
        FusedActivation.HardSwish => v * Math.Clamp((v * (1f / 6f)) + 0.5f, 0f, 1f),
        FusedActivation.Silu => v / (1f + MathF.Exp(-Math.Clamp(v, -ExpClamp, ExpClamp))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>SiLU of one vector: v * sigmoid(v).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Silu512(Vector512<float> v) => v * Reciprocal512(Vector512<float>.One + Exp512(-v));

    /// <summary>Sigmoid of one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid512(Vector512<float> v) => Reciprocal512(Vector512<float>.One + Exp512(-v));

    /// <summary>Any activation but Tanh on one vector (the GEMM epilogue).</summary>
    public static Vector512<float> Activate512(in ActivationParams act, Vector512<float> v) => act.Kind switch
    {
        FusedActivation.None => v,
        FusedActivation.Relu => Vector512.Max(v, Vector512<float>.Zero),
        FusedActivation.Clip => Vector512.Min(Vector512.Max(v, Vector512.Create(act.A)), Vector512.Create(act.B)),
        FusedActivation.HardSigmoid => Vector512.Min(Vector512.Max(Vector512.FusedMultiplyAdd(v, Vector512.Create(act.A), Vector512.Create(act.B)), Vector512<float>.Zero), Vector512<float>.One),
        FusedActivation.LeakyRelu or FusedActivation.Sigmoid or FusedActivation.HardSwish or FusedActivation.Silu => Apply512(act.Kind, act.A, v),
        _ => throw new ArgumentOutOfRangeException(nameof(act), act.Kind, "No vector form for this activation."),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Apply512(FusedActivation kind, float alpha, Vector512<float> v)
    {
        switch (kind)
        {
            case FusedActivation.LeakyRelu:
                return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(v, Vector512<float>.Zero), v, v * alpha);
            case FusedActivation.HardSwish:
                return v * Vector512.Min(Vector512.Max(Vector512.FusedMultiplyAdd(v, Vector512.Create(1f / 6f), Vector512.Create(0.5f)), Vector512<float>.Zero), Vector512<float>.One);
            case FusedActivation.Sigmoid:
                return Reciprocal512(Vector512<float>.One + Exp512(-v));
            default: // Silu
                return v * Reciprocal512(Vector512<float>.One + Exp512(-v));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Apply256(FusedActivation kind, float alpha, Vector256<float> v)
    {
        switch (kind)
        {
            case FusedActivation.LeakyRelu:
                return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), v, v * alpha);
            case FusedActivation.HardSwish:
                return v * Vector256.Min(Vector256.Max((v * (1f / 6f)) + Vector256.Create(0.5f), Vector256<float>.Zero), Vector256<float>.One);
            case FusedActivation.Sigmoid:
                return Vector256<float>.One / (Vector256<float>.One + Exp256(-v));
            default: // Silu
                return v / (Vector256<float>.One + Exp256(-v));
        }
    }

    // 1 / d for d >= 1: the 14-bit hardware estimate refined by one Newton step (about 1 ulp); plain division elsewhere.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reciprocal512(Vector512<float> d)
    {
        if (Avx512F.IsSupported)
        {
            Vector512<float> r = Avx512F.Reciprocal14(d);
            Vector512<float> e = Vector512.FusedMultiplyAdd(-d, r, Vector512<float>.One);
            return Vector512.FusedMultiplyAdd(r, e, r);
        }

        return Vector512<float>.One / d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp512(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-ExpClamp)), Vector512.Create(ExpClamp));
        Vector512<float> n = Vector512.Round(x * 1.44269504088896341f);
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        Vector512<float> p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        if (Avx512F.IsSupported)
        {
            // 1 + r + p r^2 by Horner, then y * 2^n in one instruction (n is within [-126, 126] after the clamp).
            p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
            p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
            return Avx512F.Scale(p, n);
        }

        Vector512<float> y = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        Vector512<int> pow2 = (Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23;
        return y * pow2.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp256(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-ExpClamp)), Vector256.Create(ExpClamp));
        Vector256<float> n = Vector256.Round(x * 1.44269504088896341f);
        Vector256<float> r = x - (n * 0.693359375f);
        r += n * 2.12194440e-4f;
        Vector256<float> p = Vector256.Create(1.9875691500e-4f);
        p = (p * r) + Vector256.Create(1.3981999507e-3f);
        p = (p * r) + Vector256.Create(8.3334519073e-3f);
        p = (p * r) + Vector256.Create(4.1665795894e-2f);
        p = (p * r) + Vector256.Create(1.6666665459e-1f);
        p = (p * r) + Vector256.Create(5.0000001201e-1f);
        Vector256<float> y = (p * (r * r)) + r + Vector256<float>.One;
        Vector256<int> pow2 = (Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23;
        return y * pow2.AsSingle();
    }
}
