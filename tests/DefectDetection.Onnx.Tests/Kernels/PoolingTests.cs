using DefectDetection.Onnx.Tests.Helpers;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class PoolingTests
{
    private static float[] Range(int n) => Enumerable.Range(0, n).Select(i => (float)i).ToArray();

    [Fact]
    public void MaxPoolCeilModeAddsPartialWindow()
    {
        // 5x5 values 0..24, kernel 2, stride 2: floor -> 2x2, ceil -> 3x3 (last window covers row/col 4 only).
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 1, 5, 5)
            .Node("MaxPool", ["x"], ["y"], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("ceil_mode", 1))
            .Output("y", TensorElementType.Float32, 1, 1, 3, 3).Session();
        OnnxTensor y = s.RunOne(("x", new OnnxTensor<float>(Range(25), [1, 1, 5, 5])));
        Assert.Equal([1, 1, 3, 3], y.Shape);
        Assert.Equal([6f, 8, 9, 16, 18, 19, 21, 23, 24], y.As<float>().ToArray());
    }

    [Fact]
    public void MaxPoolWithPadsAndStrideOneMatchesNaive()
    {
        var rng = new Random(5);
        float[] x = Enumerable.Range(0, 2 * 7 * 6).Select(_ => (float)rng.NextDouble()).ToArray();
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 2, 7, 6)
            .Node("MaxPool", ["x"], ["y"], ("kernel_shape", new long[] { 5, 5 }), ("pads", new long[] { 2, 2, 2, 2 }))
            .Output("y", TensorElementType.Float32, 1, 2, 7, 6).Session();
        float[] y = s.RunFloats(("x", new OnnxTensor<float>(x, [1, 2, 7, 6])));
        for (int c = 0; c < 2; c++)
        {
            for (int oy = 0; oy < 7; oy++)
            {
                for (int ox = 0; ox < 6; ox++)
                {
                    float m = float.NegativeInfinity;
                    for (int iy = Math.Max(0, oy - 2); iy <= Math.Min(6, oy + 2); iy++)
                    {
                        for (int ix = Math.Max(0, ox - 2); ix <= Math.Min(5, ox + 2); ix++)
                        {
                            m = Math.Max(m, x[(((c * 7) + iy) * 6) + ix]);
                        }
                    }

                    Assert.Equal(m, y[(((c * 7) + oy) * 6) + ox]);
                }
            }
        }
    }

    [Theory]
    [InlineData(0, new float[] { 1, 1, 1, 1, 1, 1, 1, 1, 1 })]
    [InlineData(1, new float[] { 4f / 9, 6f / 9, 4f / 9, 6f / 9, 1, 6f / 9, 4f / 9, 6f / 9, 4f / 9 })]
    public void AveragePoolCountIncludePad(int countIncludePad, float[] expected)
    {
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 1, 3, 3)
            .Node("AveragePool", ["x"], ["y"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }), ("count_include_pad", countIncludePad))
            .Output("y", TensorElementType.Float32, 1, 1, 3, 3).Session();
        float[] y = s.RunFloats(("x", new OnnxTensor<float>(Enumerable.Repeat(1f, 9).ToArray(), [1, 1, 3, 3])));
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(expected[i], y[i], 6);
        }
    }

    [Fact]
    public void AveragePoolCeilModeAveragesOnlyTheValidPart()
    {
        // 4x4 values 0..15, kernel 3, stride 2, ceil: 2x2; the last window holds rows/cols 2..3 only.
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 1, 4, 4)
            .Node("AveragePool", ["x"], ["y"], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("ceil_mode", 1))
            .Output("y", TensorElementType.Float32, 1, 1, 2, 2).Session();
        float[] y = s.RunFloats(("x", new OnnxTensor<float>(Range(16), [1, 1, 4, 4])));

        // Windows: rows 0-2 x cols 0-2 -> mean 5; rows 0-2 x cols 2-3 -> (2+3+6+7+10+11)/6 = 6.5;
        // rows 2-3 x cols 0-2 -> (8+9+10+12+13+14)/6 = 11; rows 2-3 x cols 2-3 -> (10+11+14+15)/4 = 12.5.
        Assert.Equal([5f, 6.5f, 11, 12.5f], y);
    }

    [Fact]
    public void GlobalPools()
    {
        using OnnxSession a = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 2, 2, 2).Node("GlobalAveragePool", ["x"], ["y"]).Output("y", TensorElementType.Float32, 1, 2, 1, 1).Session();
        using OnnxSession m = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 2, 2, 2).Node("GlobalMaxPool", ["x"], ["y"]).Output("y", TensorElementType.Float32, 1, 2, 1, 1).Session();
        var x = new OnnxTensor<float>(Range(8), [1, 2, 2, 2]);
        Assert.Equal([1.5f, 5.5f], a.RunFloats(("x", x)));
        Assert.Equal([3f, 7f], m.RunFloats(("x", x)));
    }
}
