using DefectDetection.Onnx.Tests.Helpers;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class LayoutTests
{
    private static float[] Range(int n) => Enumerable.Range(0, n).Select(i => (float)i).ToArray();

    private static float[] Slice(float[] x, int[] shape, long[] starts, long[] ends, long[]? axes, long[]? steps, out int[] outShape)
    {
        var b = new GraphBuilder(13).Input("x", TensorElementType.Float32, shape.Select(d => (long)d).ToArray())
            .Initializer("starts", starts, starts.Length).Initializer("ends", ends, ends.Length);
        var inputs = new List<string> { "x", "starts", "ends" };
        if (axes is not null || steps is not null)
        {
            b.Initializer("axes", axes ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray(), starts.Length);
            inputs.Add("axes");
        }

        if (steps is not null)
        {
            b.Initializer("steps", steps, steps.Length);
            inputs.Add("steps");
        }

        using OnnxSession s = b.Node("Slice", [.. inputs], ["y"]).Output("y", TensorElementType.Float32).Session();
        OnnxTensor y = s.RunOne(("x", new OnnxTensor<float>(x, shape)));
        outShape = y.Shape;
        return y.As<float>().ToArray();
    }

    [Fact]
    public void SliceNegativeStepReverses()
    {
        float[] y = Slice(Range(10), [10], [-1], [long.MinValue], null, [-1], out int[] shape);
        Assert.Equal([10], shape);
        Assert.Equal(Range(10).Reverse().ToArray(), y);
    }

    [Fact]
    public void SliceNegativeStepWithStride3()
    {
        Assert.Equal([8f, 5, 2], Slice(Range(10), [10], [8], [1], null, [-3], out _));
        Assert.Equal([9f, 7], Slice(Range(10), [10], [20], [6], null, [-2], out _));
    }

    [Fact]
    public void SliceOnChosenAxesWithClampedEnds()
    {
        // 3x4 (0..11), axis 1 from 1 to "infinity" with step 2 -> columns 1 and 3.
        float[] y = Slice(Range(12), [3, 4], [1], [long.MaxValue], [1], [2], out int[] shape);
        Assert.Equal([3, 2], shape);
        Assert.Equal([1f, 3, 5, 7, 9, 11], y);
        float[] z = Slice(Range(12), [3, 4], [-2], [10], [-2], null, out shape);
        Assert.Equal([2, 4], shape);
        Assert.Equal(Range(12)[4..], z);
    }

    [Fact]
    public void ReshapeZeroAndMinusOneAndAllowZero()
    {
        using OnnxSession s = new GraphBuilder(14).Input("x", TensorElementType.Float32, 2, 3, 4).Initializer("shape", new long[] { 0, -1 }, 2)
            .Node("Reshape", ["x", "shape"], ["y"]).Output("y", TensorElementType.Float32).Session();
        Assert.Equal([2, 12], s.RunOne(("x", new OnnxTensor<float>(Range(24), [2, 3, 4]))).Shape);

        using OnnxSession z = new GraphBuilder(14).Input("x", TensorElementType.Float32, 0, 3).Initializer("shape", new long[] { 3, 0 }, 2)
            .Node("Reshape", ["x", "shape"], ["y"], ("allowzero", 1)).Output("y", TensorElementType.Float32).Session();
        Assert.Equal([3, 0], z.RunOne(("x", new OnnxTensor<float>([0, 3]))).Shape);
    }

    [Fact]
    public void TransposeWithPermutation()
    {
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 2, 3).Node("Transpose", ["x"], ["y"], ("perm", new long[] { 1, 0 }))
            .Output("y", TensorElementType.Float32, 3, 2).Session();
        Assert.Equal([0f, 3, 1, 4, 2, 5], s.RunFloats(("x", new OnnxTensor<float>(Range(6), [2, 3]))));
    }

    [Fact]
    public void BatchedLastTwoAxesTransposeMatchesIndexing()
    {
        float[] x = Range(2 * 37 * 45);
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 2, 37, 45).Node("Transpose", ["x"], ["y"], ("perm", new long[] { 0, 2, 1 }))
            .Output("y", TensorElementType.Float32, 2, 45, 37).Session();
        float[] y = s.RunFloats(("x", new OnnxTensor<float>(x, [2, 37, 45])));
        for (int b = 0; b < 2; b++)
        {
            for (int i = 0; i < 37; i++)
            {
                for (int j = 0; j < 45; j++)
                {
                    Assert.Equal(x[(((b * 37) + i) * 45) + j], y[(((b * 45) + j) * 37) + i]);
                }
            }
        }
    }

    [Fact]
    public void ConcatAndSplitRoundTrip()
    {
        using OnnxSession s = new GraphBuilder(13).Input("a", TensorElementType.Float32, 2, 1).Input("b", TensorElementType.Float32, 2, 2)
            .Node("Concat", ["a", "b"], ["c"], ("axis", 1)).Initializer("split", new long[] { 2, 1 }, 2)
            .Node("Split", ["c", "split"], ["p", "q"], ("axis", 1))
            .Output("c", TensorElementType.Float32, 2, 3).Output("p", TensorElementType.Float32, 2, 2).Output("q", TensorElementType.Float32, 2, 1).Session();
        var r = s.Run(new Dictionary<string, OnnxTensor> { ["a"] = new OnnxTensor<float>([1, 2], [2, 1]), ["b"] = new OnnxTensor<float>([3, 4, 5, 6], [2, 2]) });
        Assert.Equal([1f, 3, 4, 2, 5, 6], r["c"].As<float>().ToArray());
        Assert.Equal([1f, 3, 2, 5], r["p"].As<float>().ToArray());
        Assert.Equal([4f, 6], r["q"].As<float>().ToArray());
    }

    [Fact]
    public void GatherWithNegativeIndices()
    {
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 3, 2).Initializer("i", new long[] { -1, 0 }, 2)
            .Node("Gather", ["x", "i"], ["y"], ("axis", 0)).Output("y", TensorElementType.Float32, 2, 2).Session();
        Assert.Equal([4f, 5, 0, 1], s.RunFloats(("x", new OnnxTensor<float>(Range(6), [3, 2]))));
    }

    [Fact]
    public void UnsqueezeAttributeAndInputForms()
    {
        using OnnxSession a = new GraphBuilder(11).Input("x", TensorElementType.Float32, 3).Node("Unsqueeze", ["x"], ["y"], ("axes", new long[] { 0, -1 }))
            .Output("y", TensorElementType.Float32).Session();
        Assert.Equal([1, 3, 1], a.RunOne(("x", new OnnxTensor<float>([3]))).Shape);
        using OnnxSession b = new GraphBuilder(13).Input("x", TensorElementType.Float32, 3).Initializer("axes", new long[] { 1 }, 1)
            .Node("Unsqueeze", ["x", "axes"], ["y"]).Node("Squeeze", ["y"], ["z"]).Output("z", TensorElementType.Float32).Session();
        Assert.Equal([3], b.RunOne(("x", new OnnxTensor<float>([3]))).Shape);
    }

    [Fact]
    public void PadReflectAndEdge()
    {
        float[] x = [1, 2, 3];
        foreach ((string mode, float[] expected) in new[] { ("reflect", new float[] { 3, 2, 1, 2, 3, 2, 1 }), ("edge", new float[] { 1, 1, 1, 2, 3, 3, 3 }), ("constant", new float[] { 0, 0, 1, 2, 3, 0, 0 }) })
        {
            using OnnxSession s = new GraphBuilder(13).Input("x", TensorElementType.Float32, 3).Initializer("pads", new long[] { 2, 2 }, 2)
                .Node("Pad", ["x", "pads"], ["y"], ("mode", mode)).Output("y", TensorElementType.Float32, 7).Session();
            Assert.Equal(expected, s.RunFloats(("x", new OnnxTensor<float>(x, [3]))));
        }
    }

    [Fact]
    public void ExpandAndTile()
    {
        using OnnxSession e = new GraphBuilder().Input("x", TensorElementType.Float32, 3, 1).Initializer("s", new long[] { 2, 1, 2 }, 3)
            .Node("Expand", ["x", "s"], ["y"]).Output("y", TensorElementType.Float32).Session();
        OnnxTensor y = e.RunOne(("x", new OnnxTensor<float>([1, 2, 3], [3, 1])));
        Assert.Equal([2, 3, 2], y.Shape);
        Assert.Equal([1f, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3], y.As<float>().ToArray());
        using OnnxSession t = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 2).Initializer("r", new long[] { 2, 2 }, 2)
            .Node("Tile", ["x", "r"], ["y"]).Output("y", TensorElementType.Float32, 2, 4).Session();
        Assert.Equal([1f, 2, 1, 2, 1, 2, 1, 2], t.RunFloats(("x", new OnnxTensor<float>([1, 2], [1, 2]))));
    }
}
