using DefectDetection.Onnx.Runtime;
using DefectDetection.Onnx.Tests.Helpers;
using DefectDetection.Onnx.Tests.ModelLoading;
using DefectDetection.Onnx.Tests.Models;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Runtime;

/// <summary>
/// Batch parallelism: a split run (slices of the batch side by side on the threads) must give what the unsplit run
/// (<see cref="BatchParallelism.Off"/>, same threads) and per-item runs give; graphs that mix items must not be split.
/// </summary>
public sealed class BatchSplitTests(ITestOutputHelper output)
{
    private static OnnxTensor<float> Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var t = new OnnxTensor<float>(shape);
        for (int i = 0; i < t.Length; i++)
        {
            t.Span[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return t;
    }

    private static float[] Weights(int seed, int n)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
    }

    /// <summary>
    /// x [N,2,6,6] -> Conv 3x3 (+Relu, fused) -> Add [3,1,1] -> MaxPool 2x2 -> tap "p" -> Reshape [0,-1] -> Gemm (transB)
    /// -> Softmax -> "y"; and "g" = GlobalAveragePool(p) -> Flatten -> Mul [1,3].
    /// </summary>
    private static GraphBuilder Separable() => new GraphBuilder().Input("x", TensorElementType.Float32, -1, 2, 6, 6)
        .Initializer("w", Weights(1, 3 * 2 * 9), 3, 2, 3, 3).Initializer("b", new float[] { 0.1f, -0.2f, 0.3f }, 3)
        .Node("Conv", ["x", "w", "b"], ["c"], ("pads", new long[] { 1, 1, 1, 1 })).Node("Relu", ["c"], ["r"])
        .Initializer("k", new float[] { 0.5f, -0.25f, 1 }, 3, 1, 1).Node("Add", ["r", "k"], ["a"])
        .Node("MaxPool", ["a"], ["p"], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
        .Initializer("shape", new long[] { 0, -1 }, 2).Node("Reshape", ["p", "shape"], ["f"])
        .Initializer("gw", Weights(2, 5 * 27), 5, 27).Initializer("gb", Weights(3, 5), 5)
        .Node("Gemm", ["f", "gw", "gb"], ["l"], ("transB", 1L)).Node("Softmax", ["l"], ["y"])
        .Node("GlobalAveragePool", ["p"], ["gp"]).Node("Flatten", ["gp"], ["fl"])
        .Initializer("m", new float[] { 2, 3, 4 }, 1, 3).Node("Mul", ["fl", "m"], ["g"])
        .Output("y", TensorElementType.Float32, -1, 5).Output("g", TensorElementType.Float32, -1, 3);

    private static OnnxSession Session(OnnxModel m, int threads, BatchParallelism mode, params string[] taps)
    {
        var s = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = threads, BatchParallelism = mode, ExtraOutputs = taps });

        // Odd splits too (3 items on 2 threads): the default leaves out splits that keep the threads less than 80% busy.
        s.Core.MinSplitEfficiency = 0;
        return s;
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-6f * Math.Max(1, MathF.Abs(expected[i])), $"{what}[{i}]: {actual[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(2, 2, false)]
    [InlineData(3, 2, false)]
    [InlineData(5, 2, false)]
    [InlineData(3, 3, false)]
    [InlineData(5, 3, false)]
    [InlineData(5, 2, true)]
    [InlineData(11, 2, true)]
    [InlineData(7, 3, true)]
    public void SplitRunsMatchTheUnsplitRunAndPerItemRuns(int batch, int threads, bool oneItemSlices)
    {
        OnnxModel m = Separable().Build();
        using OnnxSession split = Session(m, threads, BatchParallelism.Auto, "p");
        if (oneItemSlices)
        {
            // A budget no item fits: one item per slice, more slices than threads (handed out dynamically).
            split.Core.SliceBudgetBytes = 1;
        }

        using OnnxSession whole = Session(m, threads, BatchParallelism.Off, "p");
        using OnnxSession single = Session(m, 1, BatchParallelism.Auto, "p");
        OnnxTensor<float> x = Random(batch, batch, 2, 6, 6);
        for (int run = 0; run < 3; run++)
        {
            // Run 0 plans the slices; later runs reuse the plans and pooled frames.
            var got = split.Run(new Dictionary<string, OnnxTensor> { ["x"] = x });
            var want = whole.Run(new Dictionary<string, OnnxTensor> { ["x"] = x });
            foreach (string name in new[] { "y", "g", "p" })
            {
                Assert.Equal(want[name].Shape, got[name].Shape);
                AssertClose(want[name].As<float>().Data, got[name].As<float>().Data, $"{name} run {run}");
            }
        }

        BatchSplitPlan? plan = split.Core.SplitFor([batch, 2, 6, 6]);
        Assert.NotNull(plan);
        Assert.True(plan.Separable, plan.Reason);
        Assert.Equal(oneItemSlices ? batch : threads, plan.SliceCount);
        Assert.Equal(batch, plan.Counts.Sum());
        Assert.Equal(plan.Counts.Select((c, i) => plan.Counts.Take(i).Sum()), plan.Starts);
        Assert.Null(whole.Core.SplitFor([batch, 2, 6, 6]));

        // Each item alone (batch 1, one thread): the split run's item rows.
        float[] y = split.RunFloats(("x", x));
        for (int i = 0; i < batch; i++)
        {
            var item = new OnnxTensor<float>(x.Data.AsSpan(i * 72, 72).ToArray(), [1, 2, 6, 6]);
            AssertClose(single.RunFloats(("x", item)), y.AsSpan(i * 5, 5).ToArray(), $"item {i}");
        }
    }

    /// <summary>x [N,4,6] through every other whitelisted shape and axis operator, each result an output.</summary>
    private static GraphBuilder ManyOperators()
    {
        var b = new GraphBuilder().Input("x", TensorElementType.Float32, -1, 4, 6)
            .Initializer("one", new long[] { 1 }, 1).Initializer("two", new long[] { 2 }, 1).Initializer("three", new long[] { 3 }, 1)
            .Initializer("split", new long[] { 3, 5 }, 2).Initializer("expand", new long[] { 1, 3, 1, 1 }, 4)
            .Initializer("repeats", new long[] { 1, 2, 1 }, 3).Initializer("pads", new long[] { 0, 1, 2, 0, 1, 0 }, 6)
            .Initializer("gamma", Weights(6, 6), 6).Initializer("beta", Weights(7, 6), 6).Initializer("mw", Weights(8, 30), 6, 5)
            .Initializer("gw", Weights(9, 72), 24, 3).Initializer("idx", new long[] { 2, 0 }, 2).Initializer("scales", new float[] { 1, 1, 2, 2 }, 4)
            .Initializer("zero", new float[] { 0 }).Initializer("target", new long[] { -1, 24 }, 2)
            .Initializer("qs", new float[] { 0.01f }).Initializer("qz", new byte[] { 128 })
            .Node("Transpose", ["x"], ["t"], ("perm", new long[] { 0, 2, 1 }))
            .Node("Concat", ["x", "t2"], ["c"], ("axis", 1L)).Node("Neg", ["x"], ["t2"])
            .Node("Split", ["c", "split"], ["s1", "s2"], ("axis", 1L))
            .Node("Slice", ["x", "one", "three", "one"], ["sl"])
            .Node("Unsqueeze", ["x", "one"], ["u"]).Node("Squeeze", ["u", "one"], ["sq"])
            .Node("Expand", ["u", "expand"], ["e"]).Node("Tile", ["x", "repeats"], ["ti"]).Node("Pad", ["x", "pads"], ["p"])
            .Node("ReduceMean", ["x"], ["rm"], ("axes", new long[] { 2 })).Node("ArgMax", ["x"], ["am"], ("axis", 2L))
            .Node("TopK", ["x", "two"], ["tk", "tki"])
            .Node("LayerNormalization", ["x", "gamma", "beta"], ["ln"]).Node("MatMul", ["x", "mw"], ["mm"])
            .Node("Gather", ["x", "idx"], ["g"], ("axis", 2L)).Node("Resize", ["u", "", "scales"], ["r"])
            .Node("Softmax", ["x"], ["sm"], ("axis", 1L)).Node("Flatten", ["x"], ["fl"]).Node("Gemm", ["fl", "gw"], ["gm"])
            .Node("Greater", ["x", "zero"], ["pos"]).Node("Where", ["pos", "x", "zero"], ["w"]).Node("Reshape", ["x", "target"], ["rs"])
            .Node("QuantizeLinear", ["x", "qs", "qz"], ["q"]).Node("DequantizeLinear", ["q", "qs", "qz"], ["dq"])
            .Node("GatherElements", ["x", "am"], ["ge"], ("axis", 2L));
        foreach (string o in ManyOutputs)
        {
            b.Output(o, o is "am" or "tki" ? TensorElementType.Int64 : o == "pos" ? TensorElementType.Bool : o == "q" ? TensorElementType.UInt8 : TensorElementType.Float32);
        }

        return b;
    }

    private static readonly string[] ManyOutputs =
        ["t", "c", "s1", "s2", "sl", "sq", "e", "ti", "p", "rm", "am", "tk", "tki", "ln", "mm", "g", "r", "sm", "gm", "pos", "w", "rs", "q", "dq", "ge"];

    [Theory]
    [InlineData(5, 2, false)]
    [InlineData(5, 3, true)]
    public void EveryWhitelistedOperatorSplitsExactly(int batch, int threads, bool oneItemSlices)
    {
        OnnxModel m = ManyOperators().Build();
        using OnnxSession split = Session(m, threads, BatchParallelism.Auto);
        using OnnxSession whole = Session(m, threads, BatchParallelism.Off);
        if (oneItemSlices)
        {
            split.Core.SliceBudgetBytes = 1;
        }

        OnnxTensor<float> x = Random(batch, batch, 4, 6);
        for (int run = 0; run < 2; run++)
        {
            var got = split.Run(new Dictionary<string, OnnxTensor> { ["x"] = x });
            var want = whole.Run(new Dictionary<string, OnnxTensor> { ["x"] = x });
            BatchSplitPlan? plan = split.Core.SplitFor([batch, 4, 6]);
            Assert.True(plan?.Separable, plan?.Reason);
            foreach (string name in ManyOutputs)
            {
                Assert.Equal(want[name].Shape, got[name].Shape);
                Assert.Equal(want[name].ElementType, got[name].ElementType);
                if (want[name] is OnnxTensor<float> wf)
                {
                    AssertClose(wf.Data, got[name].As<float>().Data, name);
                }
                else
                {
                    Assert.True(want[name].ByteSpan().SequenceEqual(got[name].ByteSpan()), name);
                }
            }
        }
    }

    [Fact]
    public void FewerItemsThanThreadsOrUnevenSplitsByDefaultRunWhole()
    {
        OnnxModel m = Separable().Build();
        using var s = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 3 });
        s.RunOne(("x", Random(1, 2, 2, 6, 6)));
        Assert.Null(s.Core.SplitFor([2, 2, 6, 6]));
        s.RunOne(("x", Random(1, 4, 2, 6, 6)));
        Assert.Null(s.Core.SplitFor([4, 2, 6, 6]));
        s.RunOne(("x", Random(1, 6, 2, 6, 6)));
        Assert.True(s.Core.SplitFor([6, 2, 6, 6])?.Separable);
        using var one = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 1 });
        one.RunOne(("x", Random(1, 6, 2, 6, 6)));
        Assert.Null(one.Core.SplitFor([6, 2, 6, 6]));
    }

    public static TheoryData<string, string> NonSeparable => new()
    {
        { "Reshape [1,-1]", "reshape1" },
        { "Reshape with the batch as a literal", "reshape4" },
        { "ReduceSum over axis 0", "reduce0" },
        { "Softmax over axis 0", "softmax0" },
        { "Transpose moving axis 0", "transpose" },
        { "Add of a [N,...] constant", "addbatch" },
        { "Shape of a batched value", "shape" },
    };

    private static GraphBuilder NonSeparableGraph(string kind)
    {
        var b = new GraphBuilder().Input("x", TensorElementType.Float32, -1, 3);
        return kind switch
        {
            "reshape1" => b.Initializer("s", new long[] { 1, -1 }, 2).Node("Reshape", ["x", "s"], ["y"]),
            "reshape4" => b.Initializer("s", new long[] { 4, -1 }, 2).Node("Reshape", ["x", "s"], ["y"]),
            "reduce0" => b.Initializer("a", new long[] { 0 }, 1).Node("ReduceSum", ["x", "a"], ["y"]),
            "softmax0" => b.Node("Softmax", ["x"], ["y"], ("axis", 0L)),
            "transpose" => b.Node("Transpose", ["x"], ["y"], ("perm", new long[] { 1, 0 })),
            "addbatch" => b.Initializer("k", Weights(5, 12), 4, 3).Node("Add", ["x", "k"], ["y"]),
            _ => b.Node("Shape", ["x"], ["s"]).Node("Cast", ["s"], ["sf"], ("to", (long)TensorElementType.Float32))
                .Node("ReduceSum", ["sf"], ["t"]).Node("Mul", ["x", "t"], ["y"]),
        };
    }

    [Theory]
    [MemberData(nameof(NonSeparable))]
    public void GraphsThatMixItemsAreNotSplit(string description, string kind)
    {
        OnnxModel m = NonSeparableGraph(kind).Output("y", TensorElementType.Float32).Build();
        using OnnxSession whole = Session(m, 2, BatchParallelism.Off);
        OnnxTensor<float> x = Random(3, 4, 3);
        OnnxTensor want = whole.RunOne(("x", x));

        // One-item slices too: there dimension 0 of every value is 1, so only the operator rules can tell.
        foreach (long budget in new[] { 1L << 20, 1 })
        {
            using OnnxSession s = Session(m, 2, BatchParallelism.Auto);
            s.Core.SliceBudgetBytes = budget;
            OnnxTensor got = s.RunOne(("x", x));
            Assert.Equal(want.Shape, got.Shape);
            Assert.Equal(want.As<float>().Data, got.As<float>().Data);
            BatchSplitPlan? plan = s.Core.SplitFor([4, 3]);
            Assert.NotNull(plan);
            Assert.False(plan.Separable, description);
            output.WriteLine($"{description}: {plan.Reason}");
        }
    }

    [Fact]
    public void TapsThatAreNotPerItemPreventTheSplit()
    {
        // "s" = ReduceSum over axis 1 is per item; "t" = ReduceSum over axis 0 of it is not (and only a tap).
        OnnxModel m = new GraphBuilder().Input("x", TensorElementType.Float32, -1, 3).Initializer("a1", new long[] { 1 }, 1)
            .Initializer("a0", new long[] { 0 }, 1).Node("ReduceSum", ["x", "a1"], ["s"]).Node("ReduceSum", ["s", "a0"], ["t"])
            .Node("Relu", ["x"], ["y"]).Output("y", TensorElementType.Float32).Build();
        using OnnxSession plain = Session(m, 2, BatchParallelism.Auto, "s");
        plain.RunOne(("x", Random(1, 4, 3)));
        Assert.True(plain.Core.SplitFor([4, 3])?.Separable);
        using OnnxSession tapped = Session(m, 2, BatchParallelism.Auto, "s", "t");
        OnnxTensor<float> x = Random(1, 4, 3);
        var r = tapped.Run(new Dictionary<string, OnnxTensor> { ["x"] = x });
        Assert.False(tapped.Core.SplitFor([4, 3])?.Separable);
        Assert.Equal([1, 1], r["t"].Shape);
        Assert.Equal(x.Data.Sum(), r["t"].As<float>().Data[0], 5);
        Assert.Equal([4, 1], r["s"].Shape);
    }

    [Fact]
    public void GatherOfBatchedIndicesIsSplitAndReportsBadIndicesWithTheNode()
    {
        float[] table = Weights(4, 10);
        OnnxModel m = new GraphBuilder().Input("i", TensorElementType.Int64, -1, 3).Initializer("t", table, 5, 2)
            .Node("Gather", ["t", "i"], ["y"]).Output("y", TensorElementType.Float32).Build();
        using OnnxSession s = Session(m, 2, BatchParallelism.Auto);
        var idx = new OnnxTensor<long>([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 4], [4, 3]);
        float[] y = s.RunFloats(("i", idx));
        Assert.True(s.Core.SplitFor([4, 3])?.Separable);
        for (int k = 0; k < 12; k++)
        {
            Assert.Equal(table[(idx.Data[k] * 2) + 0], y[(k * 2) + 0]);
            Assert.Equal(table[(idx.Data[k] * 2) + 1], y[(k * 2) + 1]);
        }

        idx.Data[10] = 7; // in the second slice: fails on a worker thread or the caller, either way with the node
        var e = Assert.Throws<OnnxModelException>(() => s.RunOne(("i", idx)));
        Assert.Equal("Gather", e.OpType);
        Assert.Equal("Gather_0", e.NodeName);

        // The session stays usable.
        idx.Data[10] = 4;
        Assert.Equal(y, s.RunFloats(("i", idx)));
    }

    [Fact]
    public void CancellationStopsASplitRun()
    {
        using OnnxSession s = Session(Separable().Build(), 2, BatchParallelism.Auto);
        OnnxTensor<float> x = Random(1, 4, 2, 6, 6);
        s.RunOne(("x", x));
        Assert.True(s.Core.SplitFor([4, 2, 6, 6])?.Separable);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => s.Run(new Dictionary<string, OnnxTensor> { ["x"] = x }, null, cts.Token));
    }

    [Fact]
    public void SteadyStateSplitRunAllocatesLittleMoreThanTheOutputs()
    {
        using OnnxSession s = Session(Separable().Build(), 2, BatchParallelism.Auto);
        var feeds = new Dictionary<string, OnnxTensor> { ["x"] = Random(1, 8, 2, 6, 6) };
        for (int i = 0; i < 5; i++)
        {
            s.Run(feeds);
        }

        const int Runs = 100;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Runs; i++)
        {
            s.Run(feeds);
        }

        long perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / Runs;
        long outputBytes = (8 * 5 * sizeof(float)) + (8 * 3 * sizeof(float)) + 128;
        Assert.True(perRun <= outputBytes + 1536, $"{perRun} bytes per Run (outputs {outputBytes})");
    }

    [Fact]
    public void ConcurrentSplitRunsGiveTheUnsplitResults()
    {
        OnnxModel m = Separable().Build();
        using OnnxSession s = Session(m, 2, BatchParallelism.Auto);
        using OnnxSession whole = Session(m, 2, BatchParallelism.Off);
        OnnxTensor<float>[] inputs = Enumerable.Range(0, 6).Select(i => Random(i, 2 + (i % 3), 2, 6, 6)).ToArray();
        float[][] expected = inputs.Select(x => whole.RunFloats(("x", x))).ToArray();
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 48, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            int k = i % inputs.Length;
            float[] y = s.RunFloats(("x", inputs[k]));
            for (int j = 0; j < y.Length; j++)
            {
                if (MathF.Abs(y[j] - expected[k][j]) > 1e-6f)
                {
                    errors.Add($"run {i} element {j}: {y[j]} vs {expected[k][j]}");
                    break;
                }
            }
        });
        Assert.Empty(errors);
    }

    [SharedFact]
    public void MobileNetV2Int8SplitIsBitExact()
    {
        const int Batch = 4;
        string[] samples = ["goldfish", "macaw", "tabby_cat", "samoyed"];
        var input = new OnnxTensor<float>([Batch, 3, 224, 224]);
        for (int i = 0; i < Batch; i++)
        {
            ModelData.ReadF32("models", "mobilenetv2-int8", "samples", samples[i] + ".input.f32").CopyTo(input.Span[(i * 3 * 224 * 224)..]);
        }

        foreach (string model in new[] { "mobilenetv2-int8-qdq", "mobilenetv2-int8-dynamic" })
        {
            OnnxModel m = OnnxModel.Load(SharedData.PathOf("models", "mobilenetv2-int8", model + ".onnx"));
            using var split = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 2 });
            using var whole = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 2, BatchParallelism = BatchParallelism.Off });
            var feeds = new Dictionary<string, OnnxTensor> { ["input"] = input };
            float[] want = whole.Run(feeds)["output"].As<float>().Data;
            for (int run = 0; run < 2; run++)
            {
                Assert.Equal(want, split.Run(feeds)["output"].As<float>().Data);
            }

            BatchSplitPlan? plan = split.Core.SplitFor([Batch, 3, 224, 224]);
            output.WriteLine($"{model}: {(plan?.Separable == true ? $"split in {plan.SliceCount}" : plan?.Reason)}");

            // The QDQ graph is separable; the dynamic one is not (DynamicQuantizeLinear scales by the whole batch).
            Assert.Equal(model.EndsWith("qdq", StringComparison.Ordinal), plan?.Separable);
        }
    }
}
