using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class Conv2dFloatTests
{
    public static TheoryData<int> Widths => KernelReference.WidthData();

    // (C, M, group, kH, kW, stride, dilation, pads t/l/b/r, inH, inW, batch)
    internal static readonly (int C, int M, int G, int Kh, int Kw, int S, int D, int Pt, int Pl, int Pb, int Pr, int H, int W, int N)[] Cases =
    [
        (3, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 9, 11, 1),     // general 3x3 same
        (4, 5, 1, 3, 3, 2, 1, 1, 1, 1, 1, 13, 10, 2),    // stride 2, batch 2
        (16, 19, 1, 1, 1, 1, 1, 0, 0, 0, 0, 7, 9, 2),    // pointwise
        (6, 9, 1, 1, 1, 2, 1, 0, 0, 0, 0, 8, 8, 1),      // 1x1 stride 2 (im2col)
        (8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 17, 19, 2),    // depthwise s1
        (8, 8, 8, 3, 3, 2, 1, 1, 1, 1, 1, 16, 15, 1),    // depthwise s2
        (5, 5, 5, 3, 3, 2, 1, 0, 0, 1, 1, 11, 12, 1),    // depthwise s2 asymmetric pads
        (4, 4, 4, 5, 5, 1, 2, 4, 4, 4, 4, 9, 10, 1),     // depthwise 5x5 dilation 2
        (6, 12, 3, 3, 3, 1, 1, 1, 1, 1, 1, 6, 7, 1),     // grouped
        (4, 6, 2, 2, 3, 1, 2, 0, 1, 2, 0, 8, 9, 1),      // grouped, dilation, odd pads
        (3, 7, 1, 5, 5, 3, 1, 2, 2, 2, 2, 23, 21, 1),    // stride 3
        (2, 3, 1, 3, 3, 1, 1, 3, 3, 3, 3, 2, 2, 1),      // pads larger than the input
        (64, 33, 1, 3, 3, 1, 1, 1, 1, 1, 1, 12, 12, 1),  // K > 256 (several K blocks)
        (1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 3),      // trivial
        (3, 16, 1, 3, 3, 2, 1, 1, 1, 1, 1, 32, 32, 1),   // stem
        (6, 6, 6, 1, 1, 1, 1, 0, 0, 0, 0, 4, 5, 1),      // depthwise 1x1
        (4, 4, 4, 3, 3, 2, 1, 1, 1, 1, 1, 9, 70, 1),     // depthwise s2, wide rows (vector path)
        (2, 2, 2, 3, 3, 2, 1, 0, 0, 0, 0, 7, 67, 1),     // depthwise s2, no pad, odd width
        (2, 2, 2, 3, 3, 2, 1, 1, 1, 1, 1, 6, 66, 2),     // depthwise s2, even width
        (3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 5, 53, 2),     // depthwise s1, wide rows
        (3, 3, 3, 3, 3, 1, 1, 0, 2, 2, 0, 4, 41, 1),     // depthwise s1, asymmetric pads
        (2, 3, 1, 3, 3, 2, 1, 1, 1, 1, 1, 5, 77, 1),     // stride 2 im2col, wide rows (vector gather)
        (3, 4, 1, 3, 3, 2, 1, 0, 0, 0, 0, 4, 64, 2),     // stride 2 im2col, no pad
        (3, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1, 95, 90, 1),    // large plane: im2col in pixel chunks (chunk ends mid-row)
        (64, 8, 1, 3, 3, 2, 1, 1, 1, 1, 1, 50, 47, 2),   // large K: small chunks, stride 2, batch 2
        (4, 6, 2, 3, 3, 1, 2, 2, 2, 2, 2, 66, 70, 1),    // grouped + dilated, chunked
        (5, 9, 1, 3, 3, 1, 1, 0, 0, 2, 2, 7, 6, 1),      // stride 1, right/bottom pads only (implicit GEMM row wrap)
        (7, 40, 1, 3, 3, 1, 1, 1, 1, 1, 1, 7, 7, 2),     // small plane, M not a multiple of 8, batch 2
        (3, 4, 1, 3, 3, 1, 2, 2, 1, 2, 3, 9, 8, 1),      // dilation 2, right pad > left pad
        (33, 17, 1, 1, 1, 1, 1, 0, 0, 0, 0, 9, 11, 1),   // pointwise, plane 99: whole panels in place + packed tail
        (9, 16, 1, 1, 1, 1, 1, 0, 0, 0, 0, 8, 4, 1),     // pointwise, plane exactly 32
        (3, 5, 1, 3, 3, 2, 2, 1, 2, 2, 1, 13, 15, 1),    // stride 2 + dilation 2, asymmetric pads (phase planes)
        (5, 8, 1, 7, 7, 2, 1, 3, 3, 3, 3, 21, 20, 1),    // 7x7 stride 2 stem, odd/even sizes
        (4, 10, 2, 3, 3, 3, 1, 1, 0, 0, 1, 16, 17, 2),   // grouped, stride 3, batch 2
        (6, 7, 1, 5, 5, 2, 1, 2, 2, 2, 2, 9, 75, 1),     // 5x5 stride 2: phase planes, rows wider than a 32-value deinterleave
        (2, 5, 1, 7, 7, 2, 1, 3, 3, 3, 3, 9, 75, 2),     // 7x7 stride 2, odd left pad, batch 2
        (3, 5, 1, 5, 5, 2, 2, 3, 4, 4, 3, 15, 40, 1),    // 5x5 stride 2 dilation 2, asymmetric pads
        (20, 64, 1, 3, 3, 2, 1, 1, 1, 1, 1, 14, 13, 2),  // small plane (7x7), stride 2: transposed GEMM, batch 2
        (70, 48, 1, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1),    // plane exactly 64, K = 630 (several K blocks): transposed GEMM
        (9, 35, 1, 3, 3, 1, 1, 0, 0, 0, 0, 3, 3, 1),     // 1-pixel plane, M not a multiple of 32: transposed GEMM
        (6, 32, 1, 3, 3, 1, 2, 2, 1, 2, 3, 7, 8, 2),     // dilation 2, asymmetric pads, batch 2: transposed GEMM
        (16, 40, 1, 3, 3, 2, 1, 1, 1, 1, 1, 20, 22, 2),  // stride 2, 10x11 plane: transposed GEMM, batch 2
    ];

    [Theory]
    [MemberData(nameof(Widths))]
    public void ConvolutionMatchesReference(int width)
    {
        using var pool = new IntraOpThreadPool(2);
        var rng = new Random(3 + width);
        var acts = new[] { ActivationParams.None, ActivationParams.Relu, ActivationParams.Clip(0, 6), new ActivationParams(FusedActivation.HardSwish), new ActivationParams(FusedActivation.Silu) };
        int i = 0;
        foreach (var c in Cases)
        {
            var shape = new Conv2dShape(c.C, c.M, c.G, c.Kh, c.Kw, c.S, c.S, c.D, c.D, c.Pt, c.Pl, c.Pb, c.Pr);
            float[] w = KernelReference.RandomFloats(rng, c.M * (c.C / c.G) * c.Kh * c.Kw);
            float[]? bias = (i % 3) == 2 ? null : KernelReference.RandomFloats(rng, c.M);
            float[] x = KernelReference.RandomFloats(rng, c.N * c.C * c.H * c.W, 3f);
            var act = acts[i % acts.Length];
            var conv = new Conv2dFloat(shape, w, bias ?? [], act, width);
            var (expected, mag) = KernelReference.Conv(shape, x, c.N, c.H, c.W, w, bias);
            for (int j = 0; j < expected.Length; j++)
            {
                expected[j] = KernelReference.Activate(expected[j], act);
            }

            float[] y = new float[expected.Length + 3];
            y.AsSpan().Fill(float.NaN);
            float[] scratch = new float[conv.ScratchFloats(c.N, c.H, c.W)];
            scratch.AsSpan().Fill(float.NaN);
            conv.Run(x, c.N, c.H, c.W, y, scratch, (i & 1) == 0 ? pool : null);
            KernelReference.AssertClose(expected, mag, y, expected.Length, $"case {i} {c}");
            Assert.True(float.IsNaN(y[^1]), "wrote past the output");
            i++;
        }
    }

    [Fact]
    public void InvalidArgumentsThrowArgumentException()
    {
        var shape = new Conv2dShape(2, 2, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0);
        Assert.Throws<ArgumentException>(() => new Conv2dFloat(shape, new float[17], [], default));
        Assert.Throws<ArgumentException>(() => new Conv2dFloat(shape with { Group = 3 }, new float[36], [], default));
        var conv = new Conv2dFloat(shape, new float[36], [], default);
        Assert.Throws<ArgumentException>(() => conv.Run(new float[2 * 2 * 2], 1, 2, 2, new float[8], new float[100], null)); // input smaller than kernel
        Assert.Throws<ArgumentException>(() => conv.Run(new float[2 * 4 * 4], 1, 4, 4, new float[7], new float[100], null));
        Assert.Throws<ArgumentException>(() => conv.Run(new float[2 * 4 * 4], 1, 4, 4, new float[8], new float[1], null));
    }
}
