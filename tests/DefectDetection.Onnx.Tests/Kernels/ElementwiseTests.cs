using DefectDetection.Onnx.Tests.Helpers;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class ElementwiseTests
{
    private static OnnxSession Binary(string op, TensorElementType type, long[] a, long[] b, long[] y, long opset = 17)
        => new GraphBuilder(opset).Input("a", type, a).Input("b", type, b).Node(op, ["a", "b"], ["y"]).Output("y", op is "Equal" or "Greater" or "Less" ? TensorElementType.Bool : type, y).Session();

    [Fact]
    public void AddBroadcastsTrailingVector()
    {
        using OnnxSession s = Binary("Add", TensorElementType.Float32, [2, 3], [3], [2, 3]);
        float[] y = s.RunFloats(("a", new OnnxTensor<float>([1, 2, 3, 4, 5, 6], [2, 3])), ("b", new OnnxTensor<float>([10, 20, 30], [3])));
        Assert.Equal([11f, 22, 33, 14, 25, 36], y);
    }

    [Fact]
    public void MulBroadcastsColumnByRowIntoOuterProduct()
    {
        using OnnxSession s = Binary("Mul", TensorElementType.Float32, [2, 1], [1, 3], [2, 3]);
        float[] y = s.RunFloats(("a", new OnnxTensor<float>([2, 3], [2, 1])), ("b", new OnnxTensor<float>([1, 10, 100], [1, 3])));
        Assert.Equal([2f, 20, 200, 3, 30, 300], y);
    }

    [Theory]
    [InlineData("Sub")]
    [InlineData("Div")]
    [InlineData("Add")]
    [InlineData("Mul")]
    [InlineData("Pow")]
    public void GeneralBroadcastMatchesNaiveIndexing(string op)
    {
        int[] sa = [2, 3, 1, 5], sb = [3, 4, 1];
        int[] so = [2, 3, 4, 5];
        var rng = new Random(7);
        float[] a = Enumerable.Range(0, 30).Select(_ => (float)(rng.NextDouble() + 0.5)).ToArray();
        float[] b = Enumerable.Range(0, 12).Select(_ => (float)(rng.NextDouble() + 0.5)).ToArray();
        using OnnxSession s = Binary(op, TensorElementType.Float32, [2, 3, 1, 5], [3, 4, 1], [2, 3, 4, 5]);
        float[] y = s.RunFloats(("a", new OnnxTensor<float>(a, sa)), ("b", new OnnxTensor<float>(b, sb)));
        int k = 0;
        for (int i0 = 0; i0 < 2; i0++)
        {
            for (int i1 = 0; i1 < 3; i1++)
            {
                for (int i2 = 0; i2 < 4; i2++)
                {
                    for (int i3 = 0; i3 < 5; i3++)
                    {
                        float va = a[(((i0 * 3) + i1) * 5) + i3];
                        float vb = b[(i1 * 4) + i2];
                        float e = op switch { "Sub" => va - vb, "Div" => va / vb, "Add" => va + vb, "Mul" => va * vb, _ => MathF.Pow(va, vb) };
                        Assert.Equal(e, y[k++], 5);
                    }
                }
            }
        }

        Assert.Equal(so.Aggregate(1, (p, d) => p * d), k);
    }

    [Fact]
    public void IntegerDivTruncatesTowardZero()
    {
        using OnnxSession s = Binary("Div", TensorElementType.Int32, [4], [1], [4]);
        int[] y = s.RunOne(("a", new OnnxTensor<int>([7, -7, 9, -1], [4])), ("b", new OnnxTensor<int>([2], [1]))).As<int>().ToArray();
        Assert.Equal([3, -3, 4, 0], y);
    }

    [Fact]
    public void IncompatibleShapesFailWithDomainException()
    {
        using OnnxSession s = Binary("Add", TensorElementType.Float32, [-1, 3], [-1, 3], [-1, 3]);
        var e = Assert.Throws<OnnxModelException>(() => s.RunFloats(("a", new OnnxTensor<float>([2, 3])), ("b", new OnnxTensor<float>([4, 3]))));
        Assert.Contains("broadcast", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EqualAndWhereSelectWithBroadcasting()
    {
        using OnnxSession s = new GraphBuilder()
            .Input("a", TensorElementType.Int64, 3).Input("b", TensorElementType.Int64, 1)
            .Input("x", TensorElementType.Float32, 2, 3).Input("z", TensorElementType.Float32, 1)
            .Node("Equal", ["a", "b"], ["c"]).Node("Where", ["c", "x", "z"], ["y"])
            .Output("y", TensorElementType.Float32, 2, 3).Session();
        float[] y = s.RunFloats(("a", new OnnxTensor<long>([1, 2, 1], [3])), ("b", new OnnxTensor<long>([1], [1])),
            ("x", new OnnxTensor<float>([1, 2, 3, 4, 5, 6], [2, 3])), ("z", new OnnxTensor<float>([-1], [1])));
        Assert.Equal([1f, -1, 3, 4, -1, 6], y);
    }

    [Fact]
    public void PowWithIntegerExponentTensor()
    {
        using OnnxSession s = new GraphBuilder().Input("a", TensorElementType.Float32, 3).Input("b", TensorElementType.Int64, 1)
            .Node("Pow", ["a", "b"], ["y"]).Output("y", TensorElementType.Float32, 3).Session();
        Assert.Equal([4f, 9, 0.25f], s.RunFloats(("a", new OnnxTensor<float>([2, -3, 0.5f], [3])), ("b", new OnnxTensor<long>([2], [1]))));
    }

    [Theory]
    [InlineData(0.5f, 0.5204998778f)]
    [InlineData(1f, 0.8427007929f)]
    [InlineData(-2f, -0.9953222650f)]
    [InlineData(3.5f, 0.9999992569f)]
    [InlineData(0f, 0f)]
    public void ErfMatchesTabulatedValues(float x, float expected)
    {
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 1).Node("Erf", ["x"], ["y"]).Output("y", TensorElementType.Float32, 1).Session();
        Assert.Equal(expected, s.RunFloats(("x", new OnnxTensor<float>([x], [1])))[0], 6);
    }

    [Fact]
    public void ClipInputFormAndAttributeForm()
    {
        using OnnxSession s13 = new GraphBuilder(13).Input("x", TensorElementType.Float32, 4).Initializer("lo", [0f], []).Initializer("hi", [6f], [])
            .Node("Clip", ["x", "lo", "hi"], ["y"]).Output("y", TensorElementType.Float32, 4).Session();
        Assert.Equal([0f, 3, 6, 6], s13.RunFloats(("x", new OnnxTensor<float>([-1, 3, 6, 9], [4]))));
        using OnnxSession s6 = new GraphBuilder(7).Input("x", TensorElementType.Float32, 4)
            .Node("Clip", ["x"], ["y"], ("min", -1f), ("max", 1f)).Output("y", TensorElementType.Float32, 4).Session();
        Assert.Equal([-1f, 0.5f, 1, 1], s6.RunFloats(("x", new OnnxTensor<float>([-5, 0.5f, 1, 9], [4]))));
    }

    [Fact]
    public void ActivationsMatchTheirDefinitions()
    {
        float[] x = [-3, -0.5f, 0, 0.5f, 3];
        (string Op, Func<float, float> F)[] cases =
        [
            ("Relu", v => MathF.Max(v, 0)),
            ("LeakyRelu", v => v >= 0 ? v : 0.01f * v),
            ("Sigmoid", v => 1 / (1 + MathF.Exp(-v))),
            ("HardSigmoid", v => Math.Clamp((0.2f * v) + 0.5f, 0, 1)),
            ("HardSwish", v => v * Math.Clamp((v / 6) + 0.5f, 0, 1)),
            ("Tanh", MathF.Tanh),
            ("Abs", MathF.Abs),
            ("Neg", v => -v),
            ("Exp", MathF.Exp),
        ];
        foreach ((string op, Func<float, float> f) in cases)
        {
            using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 5).Node(op, ["x"], ["y"]).Output("y", TensorElementType.Float32, 5).Session();
            float[] y = s.RunFloats(("x", new OnnxTensor<float>(x, [5])));
            for (int i = 0; i < x.Length; i++)
            {
                Assert.True(MathF.Abs(f(x[i]) - y[i]) < 1e-5f, $"{op}({x[i]}) = {y[i]}, expected {f(x[i])}");
            }
        }
    }

    [Fact]
    public void SoftmaxAxisSemanticsDifferBeforeAndAfterOpset13()
    {
        float[] x = [1, 2, 3, 4, 5, 6];
        using OnnxSession s11 = new GraphBuilder(11).Input("x", TensorElementType.Float32, 1, 2, 3).Node("Softmax", ["x"], ["y"], ("axis", 1)).Output("y", TensorElementType.Float32, 1, 2, 3).Session();
        using OnnxSession s13 = new GraphBuilder(13).Input("x", TensorElementType.Float32, 1, 2, 3).Node("Softmax", ["x"], ["y"], ("axis", 1)).Output("y", TensorElementType.Float32, 1, 2, 3).Session();
        float[] a = s11.RunFloats(("x", new OnnxTensor<float>(x, [1, 2, 3])));
        float[] b = s13.RunFloats(("x", new OnnxTensor<float>(x, [1, 2, 3])));

        // Opset 11: one softmax over all 6 values; opset 13: over the axis of size 2 (pairs 1/4, 2/5, 3/6).
        double sum = x.Sum(v => Math.Exp(v));
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(Math.Exp(x[i]) / sum, a[i], 5);
        }

        double pair = 1 / (1 + Math.Exp(3));
        Assert.Equal(pair, b[0], 5);
        Assert.Equal(1 - pair, b[3], 5);
    }
}
