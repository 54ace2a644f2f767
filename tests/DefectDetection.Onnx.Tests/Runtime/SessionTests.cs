using DefectDetection.Onnx.Tests.Helpers;
using DefectDetection.Onnx.Tests.ModelLoading;

namespace DefectDetection.Onnx.Tests.Runtime;

public sealed class SessionTests
{
    private static OnnxTensor<float> RandomInput(int batch, int seed)
    {
        var rng = new Random(seed);
        return new OnnxTensor<float>(Enumerable.Range(0, batch * 2 * 16).Select(_ => (float)(rng.NextDouble() * 2) - 1).ToArray(), [batch, 2, 4, 4]);
    }

    /// <summary>Plain reference for SmallConvModel: 3x3 conv, pad 1, bias, ReLU.</summary>
    private static float[] Reference(OnnxModel m, OnnxTensor<float> x)
    {
        float[] w = m.Graph.Initializers["w"].As<float>().Data, b = m.Graph.Initializers["b"].As<float>().Data;
        int n = x.Dimensions[0];
        var y = new float[n * 3 * 16];
        for (int bi = 0; bi < n; bi++)
        {
            for (int o = 0; o < 3; o++)
            {
                for (int oy = 0; oy < 4; oy++)
                {
                    for (int ox = 0; ox < 4; ox++)
                    {
                        float s = b[o];
                        for (int c = 0; c < 2; c++)
                        {
                            for (int ky = 0; ky < 3; ky++)
                            {
                                for (int kx = 0; kx < 3; kx++)
                                {
                                    int iy = oy + ky - 1, ix = ox + kx - 1;
                                    if (iy is >= 0 and < 4 && ix is >= 0 and < 4)
                                    {
                                        s += x.Data[(((bi * 2) + c) * 16) + (iy * 4) + ix] * w[(((o * 2) + c) * 9) + (ky * 3) + kx];
                                    }
                                }
                            }
                        }

                        y[(((bi * 3) + o) * 16) + (oy * 4) + ox] = Math.Max(s, 0);
                    }
                }
            }
        }

        return y;
    }

    [Fact]
    public void DynamicBatchIsResolvedPerCallAndPlansAreReused()
    {
        OnnxModel m = ModelLoadingTests.SmallConvModel().Build();
        using var s = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 1 });
        foreach (int batch in new[] { 1, 3, 1, 2, 3 })
        {
            OnnxTensor<float> x = RandomInput(batch, batch * 10);
            OnnxTensor y = s.RunOne(("x", x));
            Assert.Equal([batch, 3, 4, 4], y.Shape);
            float[] e = Reference(m, x);
            float[] got = y.As<float>().ToArray();
            for (int i = 0; i < e.Length; i++)
            {
                Assert.Equal(e[i], got[i], 4);
            }
        }
    }

    [Fact]
    public void SteadyStateRunAllocatesOnlyTheOutputs()
    {
        // A small graph touching several kernels: Conv (+ReLU), Add with broadcast, Reshape, Transpose, Softmax, QDQ.
        var b = ModelLoadingTests.SmallConvModel();
        b.Initializer("k", new float[] { 1, 2, 3 }, 3, 1, 1).Initializer("shape", new long[] { 0, 3, 16 }, 3)
            .Node("Add", ["y", "k"], ["a"]).Node("Reshape", ["a", "shape"], ["r"]).Node("Transpose", ["r"], ["t"], ("perm", new long[] { 0, 2, 1 }))
            .Node("Softmax", ["t"], ["sm"]).Initializer("qs", new float[] { 0.01f }, []).Initializer("qz", new byte[] { 3 }, [])
            .Node("QuantizeLinear", ["sm", "qs", "qz"], ["q"]).Node("DequantizeLinear", ["q", "qs", "qz"], ["out"])
            .Output("out", TensorElementType.Float32);
        using var s = new OnnxSession(b.Build(), new OnnxSessionOptions { IntraOpThreads = 1 });
        var feeds = new Dictionary<string, OnnxTensor> { ["x"] = RandomInput(2, 1) };
        for (int i = 0; i < 5; i++)
        {
            s.Run(feeds, ["out"]);
        }

        const int Runs = 200;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Runs; i++)
        {
            s.Run(feeds, ["out"]);
        }

        long perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / Runs;
        long outputBytes = (2 * 16 * 3 * sizeof(float)) + 64;

        // Outputs (array + tensor + result dictionary) and a small constant for the call's bookkeeping.
        Assert.True(perRun <= outputBytes + 1024, $"{perRun} bytes per Run (outputs {outputBytes})");
    }

    [Fact]
    public void ConcurrentRunsGiveTheSameResultsAsSequentialOnes()
    {
        OnnxModel m = ModelLoadingTests.SmallConvModel().Build();
        using var s = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 2 });
        OnnxTensor<float>[] inputs = Enumerable.Range(0, 8).Select(i => RandomInput(1 + (i % 3), i)).ToArray();
        float[][] expected = inputs.Select(x => Reference(m, x)).ToArray();
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            int k = i % inputs.Length;
            float[] y = s.RunFloats(("x", inputs[k]));
            for (int j = 0; j < y.Length; j++)
            {
                if (MathF.Abs(y[j] - expected[k][j]) > 1e-4f)
                {
                    errors.Add($"run {i} element {j}: {y[j]} vs {expected[k][j]}");
                    break;
                }
            }
        });
        Assert.Empty(errors);
    }

    [Fact]
    public void CancellationStopsBetweenOperators()
    {
        using var s = new OnnxSession(ModelLoadingTests.SmallConvModel().Build(), new OnnxSessionOptions { IntraOpThreads = 1 });
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => s.Run(new Dictionary<string, OnnxTensor> { ["x"] = RandomInput(1, 0) }, null, cts.Token));
    }

    [Fact]
    public void InputsAreValidated()
    {
        using var s = new OnnxSession(ModelLoadingTests.SmallConvModel().Build(), new OnnxSessionOptions { IntraOpThreads = 1 });
        Assert.Throws<OnnxModelException>(() => s.Run(new Dictionary<string, OnnxTensor>()));
        Assert.Throws<OnnxModelException>(() => s.Run(new Dictionary<string, OnnxTensor> { ["x"] = new OnnxTensor<int>([1, 2, 4, 4]) }));
        Assert.Throws<OnnxModelException>(() => s.Run(new Dictionary<string, OnnxTensor> { ["x"] = new OnnxTensor<float>([1, 5, 4, 4]) }));
        Assert.Throws<OnnxModelException>(() => s.Run(new Dictionary<string, OnnxTensor> { ["x"] = RandomInput(1, 0) }, ["nope"]));
    }

    [Fact]
    public void ExtraOutputsExposeIntermediatesAndBlockFusionAcrossThem()
    {
        OnnxModel m = ModelLoadingTests.SmallConvModel().Build();
        using var fused = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 1 });
        Assert.Equal(1, fused.AppliedRewrites.GetValueOrDefault("ActivationFusion"));
        using var s = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 1, ExtraOutputs = ["c"] });
        Assert.False(s.AppliedRewrites.ContainsKey("ActivationFusion"));
        var r = s.Run(new Dictionary<string, OnnxTensor> { ["x"] = RandomInput(1, 4) });
        float[] c = r["c"].As<float>().ToArray(), y = r["y"].As<float>().ToArray();
        Assert.Contains(c, v => v < 0);
        for (int i = 0; i < c.Length; i++)
        {
            Assert.Equal(Math.Max(c[i], 0), y[i]);
        }
    }

    [Fact]
    public void HostileShapesEndInTheDomainException()
    {
        using OnnxSession s = new GraphBuilder().Input("s", TensorElementType.Int64, 3).Node("ConstantOfShape", ["s"], ["y"]).Output("y", TensorElementType.Float32).Session();
        Assert.Throws<OnnxModelException>(() => s.RunOne(("s", new OnnxTensor<long>([100000, 100000, 100000], [3]))));
        Assert.Throws<OnnxModelException>(() => s.RunOne(("s", new OnnxTensor<long>([-1, 2, 3], [3]))));
        using OnnxSession g = new GraphBuilder().Input("x", TensorElementType.Float32, 3).Input("i", TensorElementType.Int64, 1)
            .Node("Gather", ["x", "i"], ["y"]).Output("y", TensorElementType.Float32).Session();
        Assert.Throws<OnnxModelException>(() => g.RunOne(("x", new OnnxTensor<float>([3])), ("i", new OnnxTensor<long>([7], [1]))));
    }

    [Fact]
    public void ExtraOutputsGetInferredElementTypes()
    {
        OnnxModel m = new GraphBuilder().Input("x", TensorElementType.Float32, 2, 3).Node("Shape", ["x"], ["s"]).Node("ArgMax", ["x"], ["a"])
            .Initializer("qs", new float[] { 0.1f }, []).Initializer("qz", new sbyte[] { 0 }, []).Node("QuantizeLinear", ["x", "qs", "qz"], ["q"])
            .Node("Relu", ["x"], ["y"]).Output("y", TensorElementType.Float32).Build();
        using var s = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 1, ExtraOutputs = ["s", "a", "q"] });
        Assert.Equal([TensorElementType.Float32, TensorElementType.Int64, TensorElementType.Int64, TensorElementType.Int8], s.Outputs.Select(o => o.ElementType));
        var r = s.Run(new Dictionary<string, OnnxTensor> { ["x"] = new OnnxTensor<float>([2, 3]) });
        Assert.Equal(s.Outputs.Select(o => o.ElementType), s.Outputs.Select(o => r[o.Name].ElementType));
    }
}
