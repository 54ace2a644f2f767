using DefectDetection.Onnx.Tests.Helpers;

namespace DefectDetection.Onnx.Tests.Optimizer;

/// <summary>Each rewrite gives the same outputs as the graph without it (and actually applies).</summary>
public sealed class RewriteTests
{
    private static float[] Rand(int n, int seed, float scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2) - 1) * scale).ToArray();
    }

    private static (float[] On, float[] Off, OnnxSession Session) Compare(OnnxModel m, OnnxSessionOptions on, OnnxSessionOptions off, OnnxTensor x, string rewrite)
    {
        var a = new OnnxSession(m, on);
        using var b = new OnnxSession(m, off);
        Assert.True(a.AppliedRewrites.GetValueOrDefault(rewrite) > 0, $"{rewrite} did not apply");
        Assert.False(b.AppliedRewrites.ContainsKey(rewrite));
        var feeds = new Dictionary<string, OnnxTensor> { [m.Inputs[0].Name] = x };
        return (a.Run(feeds)[m.Outputs[0].Name].As<float>().ToArray(), b.Run(feeds)[m.Outputs[0].Name].As<float>().ToArray(), a);
    }

    private static void AssertClose(float[] a, float[] b, float tol)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(MathF.Abs(a[i] - b[i]) <= tol * (1 + MathF.Abs(b[i])), $"element {i}: {a[i]} vs {b[i]}");
        }
    }

    [Fact]
    public void ConvBatchNormFusion()
    {
        OnnxModel m = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 3, 6, 6)
            .Initializer("w", Rand(4 * 3 * 9, 1), 4, 3, 3, 3).Initializer("cb", Rand(4, 2), 4)
            .Initializer("s", new float[] { 1.5f, 0.5f, 2, 1 }, 4).Initializer("bb", Rand(4, 3), 4)
            .Initializer("mean", Rand(4, 4), 4).Initializer("var", new float[] { 0.5f, 1, 2, 0.1f }, 4)
            .Node("Conv", ["x", "w", "cb"], ["c"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("BatchNormalization", ["c", "s", "bb", "mean", "var"], ["y"], ("epsilon", 1e-3f))
            .Output("y", TensorElementType.Float32).Build();
        var x = new OnnxTensor<float>(Rand(108, 5), [1, 3, 6, 6]);
        (float[] on, float[] off, OnnxSession s) = Compare(m, new OnnxSessionOptions { IntraOpThreads = 1 }, new OnnxSessionOptions { IntraOpThreads = 1, EnableConvBatchNormFusion = false }, x, "ConvBatchNormFusion");
        s.Dispose();
        AssertClose(on, off, 1e-5f);
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("LeakyRelu")]
    [InlineData("Sigmoid")]
    [InlineData("HardSigmoid")]
    [InlineData("HardSwish")]
    [InlineData("Tanh")]
    [InlineData("Clip")]
    [InlineData("SiLU")]
    public void ActivationFusionOnConvAndGemm(string act)
    {
        foreach (bool gemm in new[] { false, true })
        {
            var b = new GraphBuilder(14).Input("x", TensorElementType.Float32, gemm ? [2, 8] : [1, 2, 5, 5]);
            if (gemm)
            {
                b.Initializer("w", Rand(8 * 6, 1, 2), 8, 6).Initializer("bias", Rand(6, 2), 6).Node("Gemm", ["x", "w", "bias"], ["c"]);
            }
            else
            {
                b.Initializer("w", Rand(3 * 2 * 9, 1, 2), 3, 2, 3, 3).Node("Conv", ["x", "w"], ["c"], ("strides", new long[] { 2, 2 }));
            }

            switch (act)
            {
                case "SiLU": b.Node("Sigmoid", ["c"], ["sg"]).Node("Mul", ["c", "sg"], ["y"]); break;
                case "Clip": b.Initializer("lo", new float[] { -0.5f }, []).Initializer("hi", new float[] { 0.7f }, []).Node("Clip", ["c", "lo", "hi"], ["y"]); break;
                default: b.Node(act, ["c"], ["y"]); break;
            }

            OnnxModel m = b.Output("y", TensorElementType.Float32).Build();
            var x = new OnnxTensor<float>(Rand(gemm ? 16 : 50, 7), gemm ? [2, 8] : [1, 2, 5, 5]);
            (float[] on, float[] off, OnnxSession s) = Compare(m, new OnnxSessionOptions { IntraOpThreads = 1 }, new OnnxSessionOptions { IntraOpThreads = 1, EnableActivationFusion = false }, x, "ActivationFusion");
            s.Dispose();
            AssertClose(on, off, 1e-5f);
        }
    }

    [Fact]
    public void ConstantFoldingRunsShapeArithmeticOnce()
    {
        // Reshape target computed from constants: Concat(Unsqueeze(Gather(Shape(c)))) where c is a constant.
        OnnxModel m = new GraphBuilder(13).Input("x", TensorElementType.Float32, 2, 6)
            .Initializer("c", new float[12], 3, 4).Initializer("i", new long[] { 1 }, 1).Initializer("minus1", new long[] { -1 }, 1)
            .Node("Shape", ["c"], ["sh"]).Node("Gather", ["sh", "i"], ["g"], ("axis", 0))
            .Node("Concat", ["minus1", "g"], ["target"], ("axis", 0)).Node("Reshape", ["x", "target"], ["y"])
            .Output("y", TensorElementType.Float32).Build();
        var x = new OnnxTensor<float>(Rand(12, 3), [2, 6]);
        (float[] on, float[] off, OnnxSession s) = Compare(m, new OnnxSessionOptions { IntraOpThreads = 1 }, new OnnxSessionOptions { IntraOpThreads = 1, EnableConstantFolding = false }, x, "ConstantFolding");
        Assert.Single(s.Core.Kernels);
        Assert.Equal([3, 4], s.RunOne(("x", x)).Shape);
        s.Dispose();
        Assert.Equal(off, on);
    }

    [Fact]
    public void QdqFusionOnConvAndAddMatchesTheFloatPathUpToRoundingTies()
    {
        const float xs = 0.02f, ys = 0.05f;
        var rng = new Random(9);
        sbyte[] wq = Enumerable.Range(0, 4 * 3 * 9).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();
        OnnxModel m = new GraphBuilder(13).Input("x", TensorElementType.Float32, 1, 3, 6, 6)
            .Initializer("xs", new[] { xs }, []).Initializer("xz", new byte[] { 128 }, [])
            .Initializer("wq", wq, 4, 3, 3, 3).Initializer("ws", new float[] { 0.01f, 0.02f, 0.005f, 0.015f }, 4).Initializer("wz", new sbyte[4], 4)
            .Initializer("bias", Rand(4, 3), 4).Initializer("ys", new[] { ys }, []).Initializer("yz", new byte[] { 100 }, [])
            .Node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]).Node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"])
            .Node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], ("axis", 0))
            .Node("Conv", ["xd", "wd", "bias"], ["c"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("QuantizeLinear", ["c", "ys", "yz"], ["cq"]).Node("DequantizeLinear", ["cq", "ys", "yz"], ["cd"])
            .Node("Add", ["cd", "cd"], ["s"]).Node("QuantizeLinear", ["s", "ys", "yz"], ["sq"]).Node("DequantizeLinear", ["sq", "ys", "yz"], ["y"])
            .Output("y", TensorElementType.Float32).Build();
        var x = new OnnxTensor<float>(Rand(108, 8, 2), [1, 3, 6, 6]);
        (float[] on, float[] off, OnnxSession s) = Compare(m, new OnnxSessionOptions { IntraOpThreads = 1 }, new OnnxSessionOptions { IntraOpThreads = 1, EnableQdqFusion = false }, x, "QdqFusion");
        Assert.Contains(s.Core.Kernels, k => k.Node.OpType == "QLinearConv");
        Assert.Contains(s.Core.Kernels, k => k.Node.OpType == "QLinearAdd");
        s.Dispose();
        int differing = 0;
        for (int i = 0; i < on.Length; i++)
        {
            float steps = MathF.Abs(on[i] - off[i]) / ys;
            // The conv output may differ by one step at a rounding tie; Add(cd, cd) doubles that.
            Assert.True(steps <= 2.001f, $"element {i}: {on[i]} vs {off[i]}");
            differing += steps > 0.5f ? 1 : 0;
        }

        Assert.True(differing <= on.Length / 20, $"{differing} of {on.Length} differ by a step");
    }

    [Fact]
    public void IntegerToFloatFusionOnDynamicQuantizedConv()
    {
        var rng = new Random(12);
        sbyte[] wq = Enumerable.Range(0, 4 * 2 * 9).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();
        OnnxModel m = new GraphBuilder(13).Input("x", TensorElementType.Float32, 1, 2, 5, 5)
            .Initializer("wq", wq, 4, 2, 3, 3).Initializer("wz", new sbyte[] { 0 }, []).Initializer("ws", new float[] { 0.01f }, [])
            .Initializer("bias", Rand(4, 13), 4, 1, 1).Initializer("lo", new float[] { 0f }, []).Initializer("hi", new float[] { 6f }, [])
            .Node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"])
            .Node("Mul", ["xs", "ws"], ["s"])
            .Node("ConvInteger", ["xq", "wq", "xz", "wz"], ["acc"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Cast", ["acc"], ["accf"], ("to", (long)TensorElementType.Float32))
            .Node("Mul", ["accf", "s"], ["scaled"]).Node("Add", ["scaled", "bias"], ["biased"]).Node("Clip", ["biased", "lo", "hi"], ["y"])
            .Output("y", TensorElementType.Float32).Build();
        var x = new OnnxTensor<float>(Rand(50, 14, 3), [1, 2, 5, 5]);
        (float[] on, float[] off, OnnxSession s) = Compare(m, new OnnxSessionOptions { IntraOpThreads = 1 }, new OnnxSessionOptions { IntraOpThreads = 1, EnableQdqFusion = false }, x, "IntegerToFloatFusion");
        Assert.Contains(s.Core.Kernels, k => k.Node.OpType == "IntegerToFloat");
        Assert.DoesNotContain(s.Core.Kernels, k => k.Node.OpType is "Cast" or "Clip");
        s.Dispose();
        AssertClose(on, off, 1e-6f);
        Assert.Contains(on, v => v == 0);
        Assert.Contains(on, v => v > 0);
    }
}
