using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class Conv2dInt8Tests
{
    public static TheoryData<int> Widths => KernelReference.WidthData();

    /// <summary>
    /// Depthwise 3x3 stride 1 pad 1 on narrow planes (the flat-plane kernel for widths up to 16 at 512 bits, the row
    /// kernel otherwise): every height 1..9 and width 1..18, batch 2, zero points, u8 and s8 output, ReLU6-style range.
    /// </summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void NarrowDepthwiseMatchesReference(int width)
    {
        using var pool = new IntraOpThreadPool(2);
        var rng = new Random(77 + width);
        var shape = new Conv2dShape(5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
        for (int h = 1; h <= 9; h++)
        {
            for (int w = 1; w <= 18; w++)
            {
                Int8DepthwiseTests.Check(shape, rng, 2, h, w, variant: (h * 19) + w, pool: (w & 1) == 0 ? pool : null, vectorBits: width);
            }
        }
    }

    /// <summary>
    /// Depthwise 3x3 stride 2 (the phase-plane kernel for outputs at least 16 wide at 512 bits, the row kernel
    /// otherwise): widths 30..70 (odd and even, a multiple of 32 and not), pads 1/1 and 1/0, heights 3..6, batch 2.
    /// </summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void Stride2DepthwiseMatchesReference(int width)
    {
        using var pool = new IntraOpThreadPool(2);
        var rng = new Random(91 + width);
        foreach (int pad in new[] { 1, 0 })
        {
            var shape = new Conv2dShape(3, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, pad, pad);
            for (int h = 3; h <= 6; h++)
            {
                for (int w = 30; w <= 70; w += (w is >= 31 and <= 34) || w >= 62 ? 1 : 5)
                {
                    Int8DepthwiseTests.Check(shape, rng, 2, h, w, variant: (h * 71) + w + pad, pool: (w & 1) == 0 ? pool : null, vectorBits: width);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void ConvolutionMatchesReference(int width)
    {
        using var pool = new IntraOpThreadPool(2);
        var rng = new Random(21 + width);
        int i = 0;
        foreach (var c in Conv2dFloatTests.Cases)
        {
            var shape = new Conv2dShape(c.C, c.M, c.G, c.Kh, c.Kw, c.S, c.S, c.D, c.D, c.Pt, c.Pl, c.Pb, c.Pr);
            var (w, x, xZero, wZero, bias, expected32) = KernelReference.RandomInt8Conv(rng, shape, c.N, c.H, c.W, i);

            // int32 output
            var conv32 = new Conv2dInt8(shape, w, wZero, bias ?? [], xZero, null, vectorBits: width);
            int[] y32 = new int[expected32.Length + 1];
            byte[] scratch = new byte[conv32.ScratchBytes(c.N, c.H, c.W)];
            conv32.Run(x, c.N, c.H, c.W, y32, scratch, (i & 1) == 0 ? pool : null);
            for (int j = 0; j < expected32.Length; j++)
            {
                Assert.True(expected32[j] == y32[j], $"int32 case {i} {c} at {j}: {expected32[j]} != {y32[j]}");
            }

            // requantized output, per-channel or per-tensor, u8 or s8, optional ReLU6-style range
            bool signedOut = (i & 1) == 1, perChannel = (i & 2) == 0;
            float[] scales = perChannel ? Enumerable.Range(0, c.M).Select(m => m % 3 == 0 ? 0.5f : (float)(rng.NextDouble() * 0.002)).ToArray()
                                        : [(float)(rng.NextDouble() * 0.002)];
            int zp = signedOut ? -128 + rng.Next(0, 30) : rng.Next(0, 30);
            int? min = (i % 4) == 1 ? zp : null;
            int? max = (i % 4) == 1 ? zp + 60 : null;
            var rq = new Requantization(scales, zp, signedOut, min, max);
            var conv = new Conv2dInt8(shape, w, wZero, bias ?? [], xZero, rq, vectorBits: width);
            byte[] y = new byte[expected32.Length + 1];
            y[^1] = 0xA5;
            conv.Run(x, c.N, c.H, c.W, y, scratch, (i & 2) == 0 ? pool : null);
            KernelReference.AssertRequantized(expected32, y, c.N, c.M, scales, perChannel, zp, min, max, signedOut, $"requant case {i} {c}");
            i++;
        }
    }

    [Fact]
    public void QuantizedRunWithoutRequantizationThrows()
    {
        var shape = new Conv2dShape(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);
        var conv = new Conv2dInt8(shape, new sbyte[1], [0], [], 0, null);
        Assert.Throws<InvalidOperationException>(() => conv.Run(new byte[4], 1, 2, 2, new byte[4], [], null));
        Assert.Throws<ArgumentException>(() => new Conv2dInt8(shape, new sbyte[2], [0], [], 0, null));
        Assert.Throws<ArgumentException>(() => new Conv2dInt8(shape, new sbyte[1], [0, 0], [], 0, null));
    }
}
