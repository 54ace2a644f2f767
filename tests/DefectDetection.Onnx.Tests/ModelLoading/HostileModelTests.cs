using DefectDetection.Onnx.Tests.Helpers;

namespace DefectDetection.Onnx.Tests.ModelLoading;

/// <summary>
/// Models whose values cannot be represented or break the ONNX rules: refused with the node, operator, attribute
/// and value named (at load for attributes and graph structure, when shapes are computed for tensor values).
/// </summary>
public sealed class HostileModelTests
{
    private const long Beyond32Bits = (1L << 32) + 1;

    [Fact]
    public void Int64AttributeBeyond32BitsIsRefusedAtLoadNotTruncated()
    {
        // Flatten axis 2^32+1 used to act as axis 1.
        var e = Assert.Throws<OnnxModelException>(() => new GraphBuilder().Input("x", TensorElementType.Float32, 2, 3, 4)
            .Node("Flatten", ["x"], ["y"], ("axis", Beyond32Bits)).Output("y", TensorElementType.Float32).Build());
        AssertNames(e, "Flatten_0", "Flatten", "'axis'", "4294967297");
    }

    [Fact]
    public void Int64IntsAttributeBeyond32BitsIsRefusedAtLoadWithItsPosition()
    {
        // Pad before opset 11 takes the pads as an attribute; 2^32+1 used to act as 1.
        var e = Assert.Throws<OnnxModelException>(() => new GraphBuilder(opset: 10).Input("x", TensorElementType.Float32, 3)
            .Node("Pad", ["x"], ["y"], ("pads", new long[] { 0, Beyond32Bits })).Output("y", TensorElementType.Float32).Build());
        AssertNames(e, "Pad_0", "Pad", "'pads'[1]", "4294967297");

        var conv = Assert.Throws<OnnxModelException>(() => new GraphBuilder().Input("x", TensorElementType.Float32, 1, 1, 4, 4)
            .Initializer("w", new float[9], 1, 1, 3, 3).Node("Conv", ["x", "w"], ["y"], ("strides", new long[] { 1, -Beyond32Bits }))
            .Output("y", TensorElementType.Float32).Build());
        AssertNames(conv, "Conv_0", "Conv", "'strides'[1]", "-4294967297");
    }

    [Fact]
    public void Int64TensorValueBeyond32BitsIsRefusedWhenTheShapeIsComputed()
    {
        // Pad 13+ takes the pads as an int64 tensor; [0, 2^32+1] used to pad by 1.
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 3).Input("p", TensorElementType.Int64, 2)
            .Node("Pad", ["x", "p"], ["y"]).Output("y", TensorElementType.Float32).Session();
        var e = Assert.Throws<OnnxModelException>(() => s.Run(new Dictionary<string, OnnxTensor>
        {
            ["x"] = new OnnxTensor<float>([1, 2, 3], [3]),
            ["p"] = new OnnxTensor<long>([0, Beyond32Bits], [2]),
        }));
        AssertNames(e, "Pad_0", "Pad", "pads[1]", "4294967297");
        Assert.Equal([1f, 2, 3, 0], s.RunFloats(("x", new OnnxTensor<float>([1, 2, 3], [3])), ("p", new OnnxTensor<long>([0, 1], [2]))));

        // Tile: a repeat count beyond 32 bits.
        using OnnxSession tile = new GraphBuilder().Input("x", TensorElementType.Float32, 1).Input("r", TensorElementType.Int64, 1)
            .Node("Tile", ["x", "r"], ["y"]).Output("y", TensorElementType.Float32).Session();
        var t = Assert.Throws<OnnxModelException>(() => tile.RunOne(("x", new OnnxTensor<float>([1], [1])), ("r", new OnnxTensor<long>([Beyond32Bits], [1]))));
        AssertNames(t, "Tile_0", "Tile", "repeats[0]", "4294967297");
    }

    [Fact]
    public void RangeOverTheInt64ExtremesIsCorrectOrRefusedNeverEmpty()
    {
        using OnnxSession s = new GraphBuilder().Input("start", TensorElementType.Int64).Input("limit", TensorElementType.Int64)
            .Input("delta", TensorElementType.Int64).Node("Range", ["start", "limit", "delta"], ["y"]).Output("y", TensorElementType.Int64).Session();
        long[] Run(long start, long limit, long delta) => s.RunOne(
            ("start", new OnnxTensor<long>([start], [])), ("limit", new OnnxTensor<long>([limit], [])), ("delta", new OnnxTensor<long>([delta], []))).As<long>().ToArray();

        // 2^64 - 1 elements: refused by name (the span used to wrap to -1, giving an empty range).
        var e = Assert.Throws<OnnxModelException>(() => Run(long.MinValue, long.MaxValue, 1));
        AssertNames(e, "Range_0", "Range", "18446744073709551615 elements");
        var down = Assert.Throws<OnnxModelException>(() => Run(long.MaxValue, long.MinValue, -1));
        AssertNames(down, "Range_0", "Range", "18446744073709551615 elements");

        // Representable ranges across the extremes are computed exactly.
        Assert.Equal([long.MinValue, -(1L << 62), 0, 1L << 62], Run(long.MinValue, long.MaxValue, 1L << 62));
        Assert.Equal([long.MinValue, -1, long.MaxValue - 1], Run(long.MinValue, long.MaxValue, long.MaxValue));
        Assert.Equal([long.MaxValue, 0, -long.MaxValue], Run(long.MaxValue, long.MinValue, -long.MaxValue));
    }

    [Fact]
    public void TransposePermThatIsNotAPermutationIsRefusedAtLoad()
    {
        var e = Assert.Throws<OnnxModelException>(() => new GraphBuilder().Input("x", TensorElementType.Float32, 2, 3)
            .Node("Transpose", ["x"], ["y"], ("perm", new long[] { 0, 0 })).Output("y", TensorElementType.Float32).Build());
        AssertNames(e, "Transpose_0", "Transpose", "'perm'", "[0,0]");
        Assert.Throws<OnnxModelException>(() => new GraphBuilder().Input("x", TensorElementType.Float32, 2, 3)
            .Node("Transpose", ["x"], ["y"], ("perm", new long[] { 0, 2 })).Output("y", TensorElementType.Float32).Build());

        using OnnxSession ok = new GraphBuilder().Input("x", TensorElementType.Float32, 2, 3)
            .Node("Transpose", ["x"], ["y"], ("perm", new long[] { 1, 0 })).Output("y", TensorElementType.Float32).Session();
        Assert.Equal([1f, 4, 2, 5, 3, 6], ok.RunFloats(("x", new OnnxTensor<float>([1, 2, 3, 4, 5, 6], [2, 3]))));
    }

    [Fact]
    public void TwoNodesWritingTheSameTensorAreRefusedAtLoad()
    {
        var e = Assert.Throws<OnnxModelException>(() => new GraphBuilder().Input("x", TensorElementType.Float32, 2)
            .Node("Relu", ["x"], ["y"]).Node("Neg", ["x"], ["y"]).Output("y", TensorElementType.Float32).Build());
        AssertNames(e, "Neg_1", "Neg", "'y'", "Relu_0");

        var input = Assert.Throws<OnnxModelException>(() => new GraphBuilder().Input("x", TensorElementType.Float32, 2)
            .Node("Relu", ["x"], ["x"]).Output("x", TensorElementType.Float32).Build());
        AssertNames(input, "Relu_0", "'x'", "graph input");
    }

    [Fact(Timeout = 600_000)]
    public async Task A200000NodeChainLoadsAndRuns()
    {
        // Not a speed assertion: the timeout only guards against a hang (this used to take minutes).
        await Task.Run(() =>
        {
            const int Nodes = 200_000;
            using var session = new OnnxSession(OnnxModel.Load(LongChain.Build(Nodes)), new OnnxSessionOptions { IntraOpThreads = 1 });
            float[] x = [1, -2, 3, 0];
            Assert.Equal(x.Select(v => LongChain.Expected(v, Nodes)), session.RunFloats(("x", new OnnxTensor<float>(x, [4]))));
        });
    }

    internal static void AssertNames(OnnxModelException e, params string[] parts)
    {
        foreach (string part in parts)
        {
            Assert.Contains(part, e.Message, StringComparison.Ordinal);
        }
    }
}
