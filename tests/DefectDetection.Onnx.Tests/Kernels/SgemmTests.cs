using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class SgemmTests
{
    private static readonly int[] Sizes = [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 47, 64, 67];

    public static TheoryData<int> Widths => KernelReference.WidthData();

    [Theory]
    [MemberData(nameof(Widths))]
    public void MultiplyMatchesReferenceForOddShapes(int width)
    {
        var rng = new Random(width + 1);
        using var pool = new IntraOpThreadPool(2);
        int cases = 0;
        foreach (int M in Sizes)
        {
            foreach (int N in Sizes)
            {
                int K = Sizes[(M + N) % Sizes.Length];
                bool ta = ((M + K) & 1) == 0, tb = ((N + K) % 3) == 0;
                float alpha = (cases % 3) == 0 ? 1f : 0.5f;
                float beta = (cases % 4) switch { 0 => 0f, 1 => 1f, 2 => -0.75f, _ => 0f };
                int lda = (ta ? M : K) + (cases % 2), ldb = (tb ? K : N) + (cases % 3), ldc = N + (cases % 2);
                float[] a = KernelReference.RandomFloats(rng, ((ta ? K : M) * lda) + 1);
                float[] b = KernelReference.RandomFloats(rng, ((tb ? N : K) * ldb) + 1);
                float[] c = KernelReference.RandomFloats(rng, M * ldc);
                if (beta == 0)
                {
                    c.AsSpan().Fill(float.NaN); // must not be read
                }

                var (expected, mag) = KernelReference.Gemm(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
                if (beta == 0)
                {
                    for (int i = 0; i < expected.Length; i++)
                    {
                        if ((i % ldc) >= N)
                        {
                            expected[i] = float.NaN; // padding columns untouched
                        }
                    }
                }

                Sgemm.Multiply(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, (cases & 1) == 0 ? pool : null, width);
                for (int m = 0; m < M; m++)
                {
                    for (int n = 0; n < N; n++)
                    {
                        int i = (m * ldc) + n;
                        double tol = 1e-5 + (2e-5 * mag[i]);
                        Assert.True(Math.Abs(expected[i] - c[i]) <= tol,
                            $"M={M} N={N} K={K} ta={ta} tb={tb} at ({m},{n}): expected {expected[i]}, got {c[i]}");
                    }

                    for (int n = N; n < ldc; n++)
                    {
                        Assert.Equal(BitConverter.SingleToInt32Bits(expected[(m * ldc) + n]), BitConverter.SingleToInt32Bits(c[(m * ldc) + n]));
                    }
                }

                cases++;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void LargeMultiplyWithSeveralKBlocksMatchesReference(int width)
    {
        var rng = new Random(7);
        using var pool = new IntraOpThreadPool(3);
        const int M = 150, N = 290, K = 600;
        float[] a = KernelReference.RandomFloats(rng, M * K);
        float[] b = KernelReference.RandomFloats(rng, K * N);
        float[] c = KernelReference.RandomFloats(rng, M * N);
        var (expected, mag) = KernelReference.Gemm(false, false, M, N, K, 1f, a, K, b, N, 0.5f, c, N);
        Sgemm.Multiply(false, false, M, N, K, 1f, a, K, b, N, 0.5f, c, N, pool, width);
        KernelReference.AssertClose(expected, mag, c, M * N, "150x290x600");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void PackedBWithBiasAndActivationMatchesReference(int width)
    {
        var rng = new Random(11 + width);
        using var pool = new IntraOpThreadPool(2);
        var acts = new[]
        {
            ActivationParams.None, ActivationParams.Relu, ActivationParams.Clip(-0.25f, 0.5f),
            new ActivationParams(FusedActivation.LeakyRelu, 0.1f), new ActivationParams(FusedActivation.Sigmoid),
            new ActivationParams(FusedActivation.HardSigmoid, 0.2f, 0.5f), new ActivationParams(FusedActivation.HardSwish),
            new ActivationParams(FusedActivation.Tanh), new ActivationParams(FusedActivation.Silu),
        };
        int i = 0;
        foreach (int M in new[] { 1, 4, 13, 67 })
        {
            foreach (int N in new[] { 1, 10, 33, 65 })
            {
                foreach (int K in new[] { 1, 9, 64, 300 })
                {
                    bool tb = (i & 1) == 1;
                    float alpha = (i % 3) == 0 ? 2f : 1f;
                    var act = acts[i % acts.Length];
                    float[] a = KernelReference.RandomFloats(rng, M * K);
                    float[] b = KernelReference.RandomFloats(rng, K * N);
                    float[] bias = (i % 5) == 0 ? [] : KernelReference.RandomFloats(rng, N);
                    var packed = Sgemm.PackB(b, K, N, tb, alpha, width);
                    float[] c = new float[M * N];
                    Sgemm.Multiply(M, a, K, packed, c, N, bias, act, (i & 2) == 0 ? pool : null);
                    var (expected, mag) = KernelReference.Gemm(false, tb, M, N, K, alpha, a, K, b, tb ? K : N, 0f, new float[M * N], N);
                    for (int j = 0; j < expected.Length; j++)
                    {
                        float pre = expected[j] + (bias.Length > 0 ? bias[j % N] : 0f);
                        expected[j] = KernelReference.Activate(pre, act);
                        mag[j] += 1;
                    }

                    KernelReference.AssertClose(expected, mag, c, M * N, $"packed M={M} N={N} K={K} {act}");
                    i++;
                }
            }
        }
    }

    [Fact]
    public unsafe void ImplicitBWithRowBiasAndActivationMatchesReference()
    {
        // B read in place at data[offsets[k] + n] (the implicit-GEMM convolution path); 512-bit kernels only.
        if (KernelOptions.DetectVectorBits() < 512)
        {
            return;
        }

        var rng = new Random(29);
        using var pool = new IntraOpThreadPool(2);
        var acts = new[]
        {
            ActivationParams.None, ActivationParams.Relu, new ActivationParams(FusedActivation.Silu),
            new ActivationParams(FusedActivation.Sigmoid), new ActivationParams(FusedActivation.LeakyRelu, 0.1f),
            new ActivationParams(FusedActivation.Tanh),
        };
        int i = 0;
        foreach (int M in new[] { 1, 5, 8, 13, 33 })
        {
            foreach (int N in new[] { 1, 31, 32, 33, 70, 300 })
            {
                foreach (int K in new[] { 1, 7, 300 })
                {
                    var act = acts[i % acts.Length];
                    int span = 3 * N;
                    int[] offsets = new int[K];
                    for (int k = 0; k < K; k++)
                    {
                        offsets[k] = rng.Next(span);
                    }

                    float[] data = KernelReference.RandomFloats(rng, span + N + 32);
                    float[] b = new float[K * N];
                    for (int k = 0; k < K; k++)
                    {
                        Array.Copy(data, offsets[k], b, k * N, N);
                    }

                    float[] a = KernelReference.RandomFloats(rng, M * K);
                    float[]? bias = (i % 3) == 0 ? null : KernelReference.RandomFloats(rng, M);
                    int ldc = N + (i % 2);
                    float[] c = new float[M * ldc];
                    c.AsSpan().Fill(float.NaN);
                    fixed (float* pa0 = a)
                    {
                        float[] packedA = Sgemm.PackWholeA(Sgemm.Operand.Raw(pa0, K, false), M, K, 512);
                        fixed (float* pa = packedA)
                        fixed (float* d = data)
                        fixed (int* o = offsets)
                        fixed (float* pc = c)
                        fixed (float* pb = bias)
                        {
                            Sgemm.Run(M, N, K, 512, Sgemm.Operand.Prepacked(pa), Sgemm.Operand.Implicit(d, o), pc, ldc, 0f,
                                      bias is null ? null : pb, null, act, (i & 1) == 0 ? pool : null);
                        }
                    }

                    var (expected, mag) = KernelReference.Gemm(false, false, M, N, K, 1f, a, K, b, N, 0f, new float[M * N], N);
                    float[] actual = new float[M * N];
                    for (int m = 0; m < M; m++)
                    {
                        for (int n = 0; n < N; n++)
                        {
                            int j = (m * N) + n;
                            expected[j] = KernelReference.Activate(expected[j] + (bias is null ? 0f : bias[m]), act);
                            mag[j] += 1;
                            actual[j] = c[(m * ldc) + n];
                        }

                        for (int n = N; n < ldc; n++)
                        {
                            Assert.True(float.IsNaN(c[(m * ldc) + n]), "wrote a padding column");
                        }
                    }

                    KernelReference.AssertClose(expected, mag, actual, M * N, $"implicit M={M} N={N} K={K} {act}");
                    i++;
                }
            }
        }
    }

    [Fact]
    public void KZeroGivesBetaTimesC()
    {
        float[] c = [1, 2, 3, 4];
        Sgemm.Multiply(false, false, 2, 2, 0, 1f, [], 0, [], 2, 2f, c, 2);
        Assert.Equal(new float[] { 2, 4, 6, 8 }, c);
    }

    [Fact]
    public void TooSmallBuffersThrowArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Sgemm.Multiply(false, false, 2, 2, 2, 1f, new float[3], 2, new float[4], 2, 0f, new float[4], 2));
        Assert.Throws<ArgumentException>(() => Sgemm.Multiply(false, false, 2, 2, 2, 1f, new float[4], 2, new float[4], 2, 0f, new float[3], 2));
    }
}
