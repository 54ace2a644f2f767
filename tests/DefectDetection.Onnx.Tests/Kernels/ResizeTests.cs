using DefectDetection.Onnx.Tests.Helpers;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class ResizeTests
{
    private static float[] Resize(float[] x, long[] shape, float[] scales, params (string Name, object Value)[] attrs)
    {
        using OnnxSession s = new GraphBuilder(13).Input("x", TensorElementType.Float32, shape).Initializer("roi", Array.Empty<float>(), 0)
            .Initializer("scales", scales, scales.Length).Node("Resize", ["x", "roi", "scales"], ["y"], attrs).Output("y", TensorElementType.Float32).Session();
        return s.RunFloats(("x", new OnnxTensor<float>(x, shape.Select(d => (int)d).ToArray())));
    }

    [Fact]
    public void NearestAsymmetricFloorUpsample()
    {
        float[] y = Resize([1, 2, 3, 4], [1, 1, 2, 2], [1, 1, 2, 2], ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"));
        Assert.Equal([1f, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], y);
    }

    [Fact]
    public void NearestHalfPixelRoundPreferFloorDownsample()
    {
        // ONNX example resize_downsample_scales_nearest: 2x4 at scale 0.6 -> 1x2 = [1, 3].
        float[] y = Resize([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 4], [1, 1, 0.6f, 0.6f], ("mode", "nearest"));
        Assert.Equal([1f, 3], y);
    }

    [Theory]
    [InlineData("round_prefer_ceil", new float[] { 1, 2, 2, 3, 3, 3 })]
    [InlineData("round_prefer_floor", new float[] { 1, 1, 2, 2, 3, 3 })]
    [InlineData("floor", new float[] { 1, 1, 2, 2, 3, 3 })]
    [InlineData("ceil", new float[] { 1, 2, 2, 3, 3, 3 })]
    public void NearestModesOnTies(string mode, float[] expected)
    {
        // asymmetric, 3 -> 6: x = o / 2 = 0, 0.5, 1, 1.5, 2, 2.5 (ties at every odd o; index 3 clamps to 2).
        float[] y = Resize([1, 2, 3], [1, 1, 1, 3], [1, 1, 1, 2], ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", mode));
        Assert.Equal(expected, y);
    }

    [Theory]
    [InlineData("floor", new float[] { 1, 1, 1, 2, 2, 3 })]
    [InlineData("ceil", new float[] { 1, 2, 2, 3, 3, 3 })]
    [InlineData("round_prefer_floor", new float[] { 1, 1, 2, 2, 3, 3 })]
    public void NearestModesOnAlignCorners(string mode, float[] expected)
    {
        // align_corners, 3 -> 6: x = o * 2 / 5 = 0, 0.4, 0.8, 1.2, 1.6, 2.0.
        float[] y = Resize([1, 2, 3], [1, 1, 1, 3], [1, 1, 1, 2], ("mode", "nearest"), ("coordinate_transformation_mode", "align_corners"), ("nearest_mode", mode));
        Assert.Equal(expected, y);
    }

    [Fact]
    public void LinearHalfPixel()
    {
        // ONNX example resize_upsample_scales_linear.
        float[] y = Resize([1, 2, 3, 4], [1, 1, 2, 2], [1, 1, 2, 2], ("mode", "linear"));
        float[] e = [1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4];
        for (int i = 0; i < e.Length; i++)
        {
            Assert.Equal(e[i], y[i], 5);
        }
    }

    [Fact]
    public void LinearAlignCorners()
    {
        // ONNX example resize_upsample_scales_linear_align_corners.
        float[] y = Resize([1, 2, 3, 4], [1, 1, 2, 2], [1, 1, 2, 2], ("mode", "linear"), ("coordinate_transformation_mode", "align_corners"));
        float t = 1f / 3;
        float[] e = [1, 1 + t, 2 - t, 2, 1 + (2 * t), 2, 2 + t, 3 - t, 2 + t, 3 - t, 3, 3 + t, 3, 3 + t, 4 - t, 4];
        for (int i = 0; i < e.Length; i++)
        {
            Assert.Equal(e[i], y[i], 5);
        }
    }

    [Fact]
    public void PytorchHalfPixelAndTfHalfPixelForNn()
    {
        float[] p = Resize([1, 2], [1, 1, 1, 2], [1, 1, 1, 2], ("mode", "linear"), ("coordinate_transformation_mode", "pytorch_half_pixel"));
        Assert.Equal([1f, 1.25f, 1.75f, 2], p);

        // tf_half_pixel_for_nn: x = (o + 0.5) / 2 = 0.25, 0.75, 1.25, 1.75 -> round_prefer_floor 0, 1, 1, 2 (clamped to 1).
        float[] t = Resize([1, 2], [1, 1, 1, 2], [1, 1, 1, 2], ("mode", "nearest"), ("coordinate_transformation_mode", "tf_half_pixel_for_nn"));
        Assert.Equal([1f, 2, 2, 2], t);
    }

    [Fact]
    public void UpsampleOpset9Nearest()
    {
        using OnnxSession s = new GraphBuilder(9).Input("x", TensorElementType.Float32, 1, 1, 1, 2).Initializer("scales", new float[] { 1, 1, 2, 3 }, 4)
            .Node("Upsample", ["x", "scales"], ["y"]).Output("y", TensorElementType.Float32).Session();
        OnnxTensor y = s.RunOne(("x", new OnnxTensor<float>([5, 7], [1, 1, 1, 2])));
        Assert.Equal([1, 1, 2, 6], y.Shape);
        Assert.Equal([5f, 5, 5, 7, 7, 7, 5, 5, 5, 7, 7, 7], y.As<float>().ToArray());
    }

    [Fact]
    public void CubicMatchesTheOnnxExample()
    {
        // ONNX example resize_upsample_scales_cubic (a = -0.75, half_pixel): first output row.
        float[] x = Enumerable.Range(1, 16).Select(i => (float)i).ToArray();
        float[] y = Resize(x, [1, 1, 4, 4], [1, 1, 2, 2], ("mode", "cubic"));
        float[] e = [0.47265625f, 0.76953125f, 1.24609375f, 1.875f, 2.28125f, 2.91015625f, 3.38671875f, 3.68359375f];
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(e[i], y[i], 5);
        }
    }

    [Fact]
    public void CubicWithExcludeOutsideKeepsConstantsConstant()
    {
        float[] y = Resize(Enumerable.Repeat(3f, 9).ToArray(), [1, 1, 3, 3], [1, 1, 2, 2], ("mode", "cubic"), ("exclude_outside", 1), ("cubic_coeff_a", -0.5f));
        Assert.All(y, v => Assert.Equal(3f, v, 5));
    }
}
