using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Onnx.Tests.Kernels;

/// <summary>Every length 0..257 through the vector loops (main body, tails, partial tiles).</summary>
public sealed unsafe class VectorLengthTests
{
    public static TheoryData<int> Widths => KernelReference.WidthData();

    [Theory]
    [MemberData(nameof(Widths))]
    public void SgemmAllColumnCounts(int width)
    {
        var rng = new Random(31);
        const int M = 3, K = 5;
        float[] a = KernelReference.RandomFloats(rng, M * K);
        for (int n = 0; n <= 257; n++)
        {
            float[] b = KernelReference.RandomFloats(rng, K * n);
            float[] c = new float[M * n];
            Sgemm.Multiply(false, false, M, n, K, 1f, a, K, b, n, 0f, c, n, vectorBits: width);
            var (expected, mag) = KernelReference.Gemm(false, false, M, n, K, 1f, a, K, b, n, 0f, new float[M * n], n);
            KernelReference.AssertClose(expected, mag, c, M * n, $"N={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void QGemmAllColumnCounts(int width)
    {
        var rng = new Random(37);
        const int M = 2, K = 3;
        byte[] a = new byte[M * K];
        rng.NextBytes(a);
        for (int n = 0; n <= 257; n++)
        {
            byte[] b = new byte[K * n];
            rng.NextBytes(b);
            int[] c = new int[M * n];
            QGemm.Multiply(M, n, K, a, K, 7, b, n, [200], c, n, vectorBits: width);
            for (int m = 0; m < M; m++)
            {
                for (int j = 0; j < n; j++)
                {
                    int e = 0;
                    for (int k = 0; k < K; k++)
                    {
                        e += (a[(m * K) + k] - 7) * (b[(k * n) + j] - 200);
                    }

                    Assert.Equal(e, c[(m * n) + j]);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void RequantizeAllLengths(int width)
    {
        var rng = new Random(41);
        for (int n = 0; n <= 257; n++)
        {
            int[] acc = Enumerable.Range(0, n).Select(_ => rng.Next(-70000, 70000)).ToArray();
            int[] biasCol = Enumerable.Range(0, n).Select(_ => rng.Next(-3000, 3000)).ToArray();
            float[] scaleCol = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? 0.5f : (float)(rng.NextDouble() * 0.01)).ToArray();
            byte[] u8 = new byte[n + 1];
            byte[] s8 = new byte[n + 1];
            u8[n] = s8[n] = 0x5A;
            fixed (int* pa = acc)
            fixed (int* pb = biasCol)
            fixed (float* ps = scaleCol)
            fixed (byte* pu = u8)
            fixed (byte* pq = s8)
            {
                var copy = (int[])acc.Clone();
                fixed (int* pc = copy)
                {
                    QGemm.RequantizeRow(pc, n, 5, pb, 0f, ps, 3, 0, 255, pu, width);
                }

                QGemm.RequantizeRow(pa, n, -7, null, 0.0071f, null, -5, -128, 100, pq, width);
            }

            for (int i = 0; i < n; i++)
            {
                Assert.Equal(KernelReference.Requantize(acc[i] + 5 + biasCol[i], scaleCol[i], 3, 0, 255), u8[i]);
                Assert.Equal(KernelReference.Requantize(acc[i] - 7, 0.0071f, -5, -128, 100), (sbyte)s8[i]);
            }

            Assert.Equal(0x5A, u8[n]);
            Assert.Equal(0x5A, s8[n]);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void DepthwiseAllRowWidths(int width)
    {
        var rng = new Random(43);
        for (int inW = 1; inW <= 80; inW++)
        {
            foreach (int stride in new[] { 1, 2 })
            {
                var shape = new Conv2dShape(2, 2, 2, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1);
                float[] w = KernelReference.RandomFloats(rng, 18);
                float[] bias = KernelReference.RandomFloats(rng, 2);
                float[] x = KernelReference.RandomFloats(rng, 2 * 3 * inW);
                var conv = new Conv2dFloat(shape, w, bias, default, width);
                var (expected, mag) = KernelReference.Conv(shape, x, 1, 3, inW, w, bias);
                float[] y = new float[expected.Length];
                conv.Run(x, 1, 3, inW, y, [], null);
                KernelReference.AssertClose(expected, mag, y, y.Length, $"inW={inW} stride={stride}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Int8DepthwiseAllRowWidths(int width)
    {
        var rng = new Random(47);
        for (int inW = 1; inW <= 40; inW++)
        {
            foreach (int stride in new[] { 1, 2 })
            {
                var shape = new Conv2dShape(3, 3, 3, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1);
                byte[] wb = new byte[27];
                rng.NextBytes(wb);
                sbyte[] w = Array.ConvertAll(wb, v => (sbyte)v);
                byte[] x = new byte[3 * 4 * inW];
                rng.NextBytes(x);
                int[] bias = [rng.Next(-2000, 2000), rng.Next(-2000, 2000), rng.Next(-2000, 2000)];
                int[] wz = [3, -5, 0];
                float[] scales = [0.5f, 0.0021f, 0.013f];
                var rq = new Requantization(scales, 7, false, 2, 250);
                var conv = new Conv2dInt8(shape, w, wz, bias, 11, rq, vectorBits: width);
                int[] acc = KernelReference.ConvInteger(shape, x, 11, 1, 4, inW, w, wz, bias);
                byte[] y = new byte[acc.Length];
                conv.Run(x, 1, 4, inW, y, [], null);
                int plane = acc.Length / 3;
                for (int i = 0; i < acc.Length; i++)
                {
                    int e = KernelReference.Requantize(acc[i], scales[i / plane], 7, 2, 250);
                    Assert.True(e == y[i], $"inW={inW} stride={stride} at {i}: expected {e}, got {y[i]}");
                }
            }
        }
    }

    [Fact]
    public void ActivationsAllLengths()
    {
        var rng = new Random(53);
        var acts = new[]
        {
            new ActivationParams(FusedActivation.LeakyRelu, 0.01f), new ActivationParams(FusedActivation.Sigmoid),
            new ActivationParams(FusedActivation.HardSwish), new ActivationParams(FusedActivation.Silu),
            new ActivationParams(FusedActivation.HardSigmoid, 0.2f, 0.5f), ActivationParams.Clip(-1, 2),
        };
        for (int n = 0; n <= 257; n++)
        {
            float[] x = Enumerable.Range(0, n).Select(i => i % 17 == 3 ? (i % 2 == 0 ? 100f : -100f) : (float)((rng.NextDouble() * 40) - 20)).ToArray();
            foreach (var act in acts)
            {
                float[] y = (float[])x.Clone();
                act.Apply(y);
                for (int i = 0; i < n; i++)
                {
                    float e = KernelReference.Activate(x[i], act);
                    Assert.True(Math.Abs(e - y[i]) <= 1e-6 + (3e-6 * Math.Abs(e)), $"{act.Kind} n={n} x={x[i]}: expected {e}, got {y[i]}");
                }
            }
        }
    }
}
