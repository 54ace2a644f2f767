using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class QGemmTests
{
    private static readonly int[] Sizes = [1, 2, 3, 5, 8, 13, 31, 33, 67];

    public static TheoryData<int> Widths => KernelReference.WidthData();

    private static long Dot(byte[] a, int lda, int aZero, int m, int K, Func<int, int> b, int bZero)
    {
        long sum = 0;
        for (int k = 0; k < K; k++)
        {
            sum += (long)(a[(m * lda) + k] - aZero) * (b(k) - bZero);
        }

        return sum;
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void U8S8AndU8U8MatchReference(int width)
    {
        using var pool = new IntraOpThreadPool(2);
        var rng = new Random(5 + width);
        int i = 0;
        foreach (int M in Sizes)
        {
            foreach (int N in Sizes)
            {
                int K = Sizes[(M * 3 + N) % Sizes.Length] + (i % 2 == 0 ? 0 : 600); // several K blocks, odd K
                int lda = K + (i % 3), ldb = N + (i % 2), ldc = N + 1;
                byte[] a = new byte[M * lda];
                rng.NextBytes(a);
                byte[] bu = new byte[K * ldb];
                rng.NextBytes(bu);
                sbyte[] bs = Array.ConvertAll(bu, v => (sbyte)v);
                byte aZero = (byte)rng.Next(256);
                int[] zs = (i % 2) == 0 ? [rng.Next(-128, 128)] : Enumerable.Range(0, N).Select(_ => rng.Next(-128, 128)).ToArray();
                int[] zu = (i % 2) == 0 ? [rng.Next(256)] : Enumerable.Range(0, N).Select(_ => rng.Next(256)).ToArray();
                int[] cs = new int[M * ldc];
                int[] cu = new int[M * ldc];
                var p = (i % 3) == 0 ? null : pool;
                QGemm.Multiply(M, N, K, a, lda, aZero, bs, ldb, zs, cs, ldc, p, width);
                QGemm.Multiply(M, N, K, a, lda, aZero, bu, ldb, zu, cu, ldc, p, width);
                for (int m = 0; m < M; m++)
                {
                    for (int n = 0; n < N; n++)
                    {
                        long es = Dot(a, lda, aZero, m, K, k => bs[(k * ldb) + n], zs.Length == 1 ? zs[0] : zs[n]);
                        long eu = Dot(a, lda, aZero, m, K, k => bu[(k * ldb) + n], zu.Length == 1 ? zu[0] : zu[n]);
                        Assert.True(es == cs[(m * ldc) + n], $"u8s8 M={M} N={N} K={K} ({m},{n}): {es} != {cs[(m * ldc) + n]}");
                        Assert.True(eu == cu[(m * ldc) + n], $"u8u8 M={M} N={N} K={K} ({m},{n}): {eu} != {cu[(m * ldc) + n]}");
                    }
                }

                i++;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void PackedWithRequantizationMatchesReference(int width)
    {
        using var pool = new IntraOpThreadPool(2);
        var rng = new Random(9 + width);
        int i = 0;
        foreach (int M in new[] { 1, 3, 17, 40 })
        {
            foreach (int N in new[] { 1, 7, 16, 35, 100 })
            {
                foreach (int K in new[] { 1, 4, 27, 129 })
                {
                    bool signedOut = (i & 1) == 1, perColumn = (i & 2) == 2, unsignedB = (i % 5) == 0;
                    byte[] a = new byte[M * K];
                    rng.NextBytes(a);
                    byte[] braw = new byte[K * N];
                    rng.NextBytes(braw);
                    byte aZero = (byte)rng.Next(256);
                    int[] bz = perColumn ? Enumerable.Range(0, N).Select(_ => rng.Next(unsignedB ? 0 : -128, unsignedB ? 256 : 128)).ToArray()
                                         : [unsignedB ? rng.Next(256) : rng.Next(-128, 128)];
                    var packed = unsignedB ? QGemm.PackB(braw, K, N, bz, width) : QGemm.PackB(Array.ConvertAll(braw, v => (sbyte)v), K, N, bz, width);
                    int[] bias = (i % 3) == 0 ? [] : Enumerable.Range(0, N).Select(_ => rng.Next(-5000, 5000)).ToArray();
                    // Scale 0.5 produces exact .5 ties, which must round to even.
                    float[] scales = perColumn ? Enumerable.Range(0, N).Select(n => n % 4 == 0 ? 0.5f : (float)(rng.NextDouble() * 0.01)).ToArray()
                                               : [(i % 4) == 0 ? 0.5f : 0.003f];
                    int zp = signedOut ? rng.Next(-20, 20) : rng.Next(0, 40);
                    int? min = (i % 7) == 3 ? zp : null;
                    int? max = (i % 7) == 3 ? zp + 50 : null; // ReLU6-style clamp inside the type range
                    var rq = new Requantization(scales, zp, signedOut, min, max);
                    byte[] c = new byte[M * N];
                    QGemm.Multiply(M, a, K, aZero, packed, bias, rq, c, N, (i & 4) == 0 ? pool : null);
                    int[] c32 = new int[M * N];
                    QGemm.Multiply(M, a, K, aZero, packed, c32, N, pool);
                    for (int m = 0; m < M; m++)
                    {
                        for (int n = 0; n < N; n++)
                        {
                            int z = bz.Length == 1 ? bz[0] : bz[n];
                            long acc = Dot(a, K, aZero, m, K, k => unsignedB ? braw[(k * N) + n] : (sbyte)braw[(k * N) + n], z);
                            Assert.Equal(acc, c32[(m * N) + n]);
                            acc += bias.Length > 0 ? bias[n] : 0;
                            int expected = KernelReference.Requantize((int)acc, scales.Length == 1 ? scales[0] : scales[n], zp,
                                min ?? (signedOut ? -128 : 0), max ?? (signedOut ? 127 : 255));
                            int actual = signedOut ? (sbyte)c[(m * N) + n] : c[(m * N) + n];
                            Assert.True(expected == actual, $"M={M} N={N} K={K} case {i} ({m},{n}) acc {acc}: expected {expected}, got {actual}");
                        }
                    }

                    i++;
                }
            }
        }
    }

    [Fact]
    public void RequantizationRoundsHalfToEvenAndSaturates()
    {
        var rq = new Requantization([0.5f], 10, false);
        Assert.Equal(10, rq.Apply(1, 0));      // 0.5 -> 0
        Assert.Equal(12, rq.Apply(3, 0));      // 1.5 -> 2
        Assert.Equal(12, rq.Apply(5, 0));      // 2.5 -> 2
        Assert.Equal(10, rq.Apply(-1, 0));     // -0.5 -> 0
        Assert.Equal(8, rq.Apply(-3, 0));      // -1.5 -> -2
        Assert.Equal(255, rq.Apply(1000, 0));
        Assert.Equal(0, rq.Apply(-1000, 0));
        var relu6 = new Requantization([1f], -128, true, -128, -122);
        Assert.Equal(-122, relu6.Apply(7, 0));
        Assert.Equal(-128, relu6.Apply(-3, 0));
    }

    [Fact]
    public void BadArgumentsThrowArgumentException()
    {
        Assert.Throws<ArgumentException>(() => QGemm.Multiply(2, 2, 2, new byte[3], 2, 0, new sbyte[4], 2, [0], new int[4], 2));
        Assert.Throws<ArgumentException>(() => QGemm.Multiply(2, 2, 2, new byte[4], 2, 0, new sbyte[4], 2, [0, 0, 0], new int[4], 2));
        Assert.Throws<ArgumentException>(() => new Requantization([], 0, false));
        Assert.Throws<ArgumentException>(() => new Requantization([1f], 300, false));
    }
}
