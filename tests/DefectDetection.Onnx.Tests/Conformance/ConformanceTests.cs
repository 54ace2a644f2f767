namespace DefectDetection.Onnx.Tests.Conformance;

/// <summary>
/// Runs every conformance case (one small model per operator and attribute combination, see tools/README.md) and
/// compares each output with ONNX Runtime 1.30's CPU output within the case's tolerance: once with the default
/// session (all rewrites on, two intra-op threads) and once with every rewrite switched off on one thread.
/// </summary>
public sealed class ConformanceTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (string name in FixtureCase.Names())
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesOnnxRuntime(string name) =>
        Check(name, new OnnxSessionOptions { IntraOpThreads = 2 });

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesOnnxRuntimeWithoutRewrites(string name) =>
        Check(name, new OnnxSessionOptions
        {
            IntraOpThreads = 1,
            EnableConstantFolding = false,
            EnableConvBatchNormFusion = false,
            EnableActivationFusion = false,
            EnableQdqFusion = false,
        });

    [Fact]
    public void EveryCaseIsCompleteAndTheSetStaysSmall()
    {
        string[] names = FixtureCase.Names().ToArray();
        Assert.True(names.Length >= 300, $"only {names.Length} conformance cases under {FixtureCase.Root}");
        long bytes = 0;
        foreach (string name in names)
        {
            FixtureCase c = FixtureCase.Load(name);
            Assert.True(File.Exists(c.ModelPath), $"{name}: model.onnx missing");
            Assert.NotEmpty(c.ReadExpected());
            _ = c.ReadInputs();
            bytes += Directory.GetFiles(c.Folder).Sum(f => new FileInfo(f).Length);
        }

        Assert.True(bytes < 3_000_000, $"conformance fixtures hold {bytes} bytes; keep them under 3 MB");
    }

    private static void Check(string name, OnnxSessionOptions options)
    {
        FixtureCase c = FixtureCase.Load(name);
        List<(string Name, OnnxTensor OnnxTensor)> expected = c.ReadExpected();
        Dictionary<string, OnnxTensor> inputs = c.ReadInputs();
        OnnxModel model = OnnxModel.Load(c.ModelPath);
        using var session = new OnnxSession(model, options);
        IReadOnlyDictionary<string, OnnxTensor> outputs = session.Run(inputs, expected.Select(e => e.Name).ToArray());
        var failures = new List<string>();
        foreach ((string output, OnnxTensor want) in expected)
        {
            if (!outputs.TryGetValue(output, out OnnxTensor? got))
            {
                failures.Add($"{output}: missing");
                continue;
            }

            string? problem = TensorComparer.Compare(want, got, c.AbsTolerance, c.RelTolerance, c.StepTolerance);
            if (problem is not null)
            {
                failures.Add($"{output}: {problem}");
            }
        }

        Assert.True(failures.Count == 0, $"{name}: {string.Join(" | ", failures)}");
    }
}
