using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Tests.Kernels;

/// <summary>
/// Int8 GEMM convolutions against the scalar reference: full and edge tiles of the fused requantizing kernel (with
/// and without the VBMI narrowing), K over one block, odd K and M, batches convolved as one GEMM (batch packing) and
/// image by image, zero points 0 and not, per-channel and per-tensor scales, u8 and s8 output, clamped ranges.
/// </summary>
public sealed class Conv2dInt8PointwiseTests
{
    private static readonly (int C, int M, int K, int S, int H, int W, int N)[] Cases =
    [
        (16, 96, 1, 1, 7, 7, 3),      // 7 x 7 planes, batch packed: tiles straddle images
        (37, 24, 1, 1, 5, 9, 2),      // odd K
        (24, 19, 1, 1, 14, 14, 4),    // M not a multiple of 8
        (1100, 16, 1, 1, 3, 5, 2),    // K over one block
        (160, 40, 1, 1, 7, 7, 1),     // batch 1, edge columns
        (8, 32, 1, 1, 40, 40, 2),     // large plane: image by image
        (3, 32, 3, 2, 31, 29, 2),     // stem-like 3x3 stride 2
        (64, 64, 1, 1, 1, 1, 5),      // 1 x 1 planes
    ];

    public static TheoryData<int, bool> Variants()
    {
        var data = new TheoryData<int, bool>();
        foreach (int w in KernelReference.Widths())
        {
            data.Add(w, true);
        }

        data.Add(512, false);
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void MatchesReference(int width, bool fastPaths)
    {
        using var pool = new IntraOpThreadPool(2);
        Int8KernelPaths paths = fastPaths ? Int8KernelPaths.All : Int8KernelPaths.None;
        var rng = new Random(5 + width);
        for (int i = 0; i < Cases.Length * 2; i++)
        {
            var c = Cases[i % Cases.Length];
            int pad = c.K / 2;
            var shape = new Conv2dShape(c.C, c.M, 1, c.K, c.K, c.S, c.S, 1, 1, pad, pad, pad, pad);
            var (w, x, xZero, wZero, bias, expected32) = KernelReference.RandomInt8Conv(rng, shape, c.N, c.H, c.W, i);

            bool signedOut = (i & 1) == 1, perChannel = (i & 2) == 0;
            float[] scales = perChannel ? Enumerable.Range(0, c.M).Select(m => m % 5 == 0 ? 0.3f : (float)(rng.NextDouble() * 0.004)).ToArray()
                                        : [(float)(rng.NextDouble() * 0.004)];
            int zp = signedOut ? -128 + rng.Next(0, 30) : rng.Next(0, 30);
            int? min = (i % 4) == 1 ? zp : null;
            int? max = (i % 4) == 1 ? zp + 60 : null;
            var conv = new Conv2dInt8(shape, w, wZero, bias ?? [], xZero, new Requantization(scales, zp, signedOut, min, max), paths, width);
            byte[] scratch = new byte[conv.ScratchBytes(c.N, c.H, c.W)];
            byte[] y = new byte[expected32.Length + 1];
            y[^1] = 0xA5;
            conv.Run(x, c.N, c.H, c.W, y, scratch, (i & 4) == 0 ? pool : null);
            KernelReference.AssertRequantized(expected32, y, c.N, c.M, scales, perChannel, zp, min, max, signedOut, $"case {i} {c}");
        }
    }
}
