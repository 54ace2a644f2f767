using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Tests.Kernels;

/// <summary>
/// The int8 depthwise 3x3 kernels (the row kernel from u8 rows, the flat and phase-plane kernels, the padded-plane
/// fallback) against the scalar ConvInteger reference plus requantization: every width 1..70 and height 1..9,
/// stride 1 and 2, several paddings, per-tensor and per-channel scales, zero zero points and others, u8 and s8 output.
/// </summary>
public sealed class Int8DepthwiseTests
{
    public static TheoryData<int> Widths => KernelReference.WidthData();

    [Theory]
    [MemberData(nameof(Widths))]
    public void AllPlaneSizesMatchReference(int width)
    {
        using var pool = new IntraOpThreadPool(2);
        var rng = new Random(1009 + width);
        foreach (int stride in new[] { 1, 2 })
        {
            foreach ((int top, int left, int bottom, int right) in new[] { (1, 1, 1, 1), (1, 1, 0, 0) })
            {
                for (int h = 1; h <= 9; h++)
                {
                    for (int w = 1; w <= 70; w++)
                    {
                        if ((stride == 1 && bottom == 0 && (w % 7) != 0) || h + top + bottom < 3 || w + left + right < 3)
                        {
                            continue; // the older kernel's shape: a few widths suffice; no output rows or columns
                        }

                        var shape = new Conv2dShape(3, 3, 3, 3, 3, stride, stride, 1, 1, top, left, bottom, right);
                        Check(shape, rng, 1 + ((h + w) % 2), h, w, variant: (h * 71) + w, pool: (w % 3) == 0 ? pool : null, vectorBits: width);
                    }
                }
            }
        }
    }

    /// <summary>Other paddings (the older kernels) and accumulator start values too large for exact float sums.</summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void OtherPaddingsAndLargeBiasMatchReference(int width)
    {
        var rng = new Random(2003 + width);
        foreach (int stride in new[] { 1, 2 })
        {
            foreach ((int top, int left, int bottom, int right) in new[] { (0, 0, 0, 0), (2, 1, 0, 2), (1, 0, 1, 1) })
            {
                foreach (int h in new[] { 3, 6 })
                {
                    for (int w = 3; w <= 40; w += 3)
                    {
                        var shape = new Conv2dShape(2, 2, 2, 3, 3, stride, stride, 1, 1, top, left, bottom, right);
                        Check(shape, rng, 1, h, w, variant: w, pool: null, vectorBits: width);
                    }
                }
            }
        }

        for (int w = 1; w <= 40; w += 13)
        {
            foreach (int stride in new[] { 1, 2 })
            {
                var shape = new Conv2dShape(2, 2, 2, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1);
                Check(shape, rng, 1, 5, w, variant: 3, pool: null, largeBias: true, vectorBits: width);
            }
        }
    }

    /// <summary>The stride-1 row kernel without the float row ring (the ring is the default above 16 columns).</summary>
    [Fact]
    public void RowKernelWithoutRingMatchesReference()
    {
        var rng = new Random(3001);
        for (int h = 1; h <= 9; h++)
        {
            for (int w = 15; w <= 70; w++)
            {
                Check(new Conv2dShape(3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), rng, 1 + (w % 2), h, w, variant: (h * 71) + w, pool: null,
                      paths: Int8KernelPaths.All & ~Int8KernelPaths.RowRing, vectorBits: 512);
            }
        }
    }

    /// <summary>
    /// One random depthwise case checked against the reference: weights, input, zero points, bias, scales, output
    /// type and clamp range drawn from <paramref name="rng"/>, the mix chosen by <paramref name="variant"/>, the
    /// kernel created with <paramref name="paths"/> and <paramref name="vectorBits"/>.
    /// </summary>
    internal static void Check(Conv2dShape shape, Random rng, int n, int h, int w, int variant, IntraOpThreadPool? pool, bool largeBias = false,
                               Int8KernelPaths paths = Int8KernelPaths.All, int? vectorBits = null)
    {
        int c = shape.OutChannels;
        byte[] wb = new byte[c * 9];
        rng.NextBytes(wb);
        sbyte[] weights = Array.ConvertAll(wb, v => (sbyte)v);
        byte[] x = new byte[n * c * h * w];
        rng.NextBytes(x);
        if ((variant % 5) == 0)
        {
            Array.Fill(x, (byte)255); // the extreme sums
            Array.Fill(weights, (sbyte)-128);
        }

        byte xZero = (variant % 4) == 0 ? (byte)0 : (byte)rng.Next(256);
        int[] wZero = (variant % 3) switch
        {
            0 => [0],
            1 => [rng.Next(-20, 20)],
            _ => Enumerable.Range(0, c).Select(_ => rng.Next(-127, 127)).ToArray(),
        };
        int[] bias = largeBias
            ? Enumerable.Range(0, c).Select(i => (i % 2 == 0 ? 1 : -1) * rng.Next(17_000_000, 40_000_000)).ToArray()
            : Enumerable.Range(0, c).Select(_ => rng.Next(-50000, 50000)).ToArray();
        bool perTensor = (variant % 2) == 0;
        float[] scales = Enumerable.Range(0, perTensor ? 1 : c).Select(_ => (float)(rng.NextDouble() * 0.004)).ToArray();
        bool signedOut = (variant % 7) < 3;
        int zp = signedOut ? rng.Next(-128, 0) : rng.Next(0, 128);
        int min = (variant % 6) == 1 ? zp : (signedOut ? -128 : 0), max = (variant % 6) == 1 ? Math.Min(zp + 90, signedOut ? 127 : 255) : (signedOut ? 127 : 255);
        var rq = new Requantization(scales, zp, signedOut, min, max);
        int[] acc = KernelReference.ConvInteger(shape, x, xZero, n, h, w, weights, wZero, bias);
        var conv = new Conv2dInt8(shape, weights, wZero, bias, xZero, rq, paths, vectorBits);
        byte[] y = new byte[acc.Length + 1];
        y[^1] = 0x5A;
        conv.Run(x, n, h, w, y, [], pool);
        KernelReference.AssertRequantized(acc, y, n, c, scales, !perTensor, zp, min, max, signedOut, $"{shape} n={n} h={h} w={w}", 0x5A);
    }
}
