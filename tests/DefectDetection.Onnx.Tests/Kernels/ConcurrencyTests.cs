using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Tests.Kernels;

/// <summary>One kernel instance and one pool used by several threads at once gives the same results as one thread.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task SharedKernelsAndPoolAreThreadSafe()
    {
        var rng = new Random(61);
        using var pool = new IntraOpThreadPool(2);
        var chunked = new Conv2dShape(3, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);       // 96x96: pixel chunks
        var small = new Conv2dShape(16, 24, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);       // whole-plane im2col
        var dw = new Conv2dShape(8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
        var convs = new[] { (chunked, 96), (small, 20), (dw, 33) }.Select(c =>
        {
            var conv = new Conv2dFloat(c.Item1, KernelReference.RandomFloats(rng, c.Item1.OutChannels * c.Item1.WeightsPerOutputChannel), [], ActivationParams.Relu);
            float[] x = KernelReference.RandomFloats(rng, c.Item1.InChannels * c.Item2 * c.Item2);
            float[] expected = new float[c.Item1.OutChannels * c.Item1.OutputHeight(c.Item2) * c.Item1.OutputWidth(c.Item2)];
            conv.Run(x, 1, c.Item2, c.Item2, expected, new float[conv.ScratchFloats(1, c.Item2, c.Item2)], null);
            return (Conv: conv, X: x, H: c.Item2, Expected: expected);
        }).ToArray();
        byte[] qa = new byte[40 * 300];
        rng.NextBytes(qa);
        sbyte[] qb = Array.ConvertAll(Enumerable.Range(0, 300 * 50).Select(_ => (byte)rng.Next(256)).ToArray(), v => (sbyte)v);
        var packedQ = QGemm.PackB(qb, 300, 50, [3]);
        int[] expectedQ = new int[40 * 50];
        QGemm.Multiply(40, qa, 300, 9, packedQ, expectedQ, 50);

        var tasks = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int r = 0; r < 30; r++)
            {
                foreach (var c in convs)
                {
                    float[] y = new float[c.Expected.Length];
                    c.Conv.Run(c.X, 1, c.H, c.H, y, new float[c.Conv.ScratchFloats(1, c.H, c.H)], (r + t) % 2 == 0 ? pool : null);
                    Assert.Equal(c.Expected, y);
                }

                int[] q = new int[40 * 50];
                QGemm.Multiply(40, qa, 300, 9, packedQ, q, 50, pool);
                Assert.Equal(expectedQ, q);
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(120));
    }
}
