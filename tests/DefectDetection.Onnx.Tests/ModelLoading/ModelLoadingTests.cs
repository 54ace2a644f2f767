using DefectDetection.Onnx.Model.Proto;
using DefectDetection.Onnx.Tests.Helpers;
using DefectDetection.Testing;
using Google.Protobuf;

namespace DefectDetection.Onnx.Tests.ModelLoading;

public sealed class ModelLoadingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "onnx-tests-" + Guid.NewGuid().ToString("N"));

    public ModelLoadingTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void GarbageBytesGiveDomainException()
    {
        var e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x12 }));
        Assert.Contains("not a valid ONNX protobuf", e.Message, StringComparison.Ordinal);
        Assert.Throws<OnnxModelException>(() => OnnxModel.Load(ReadOnlySpan<byte>.Empty));
    }

    [SharedFact]
    public void EveryTruncationOfARealModelGivesDomainException()
    {
        byte[] bytes = File.ReadAllBytes(SharedData.PathOf("models", "yolox-nano", "yolox-nano.onnx"));
        foreach (int length in new[] { 1, 7, 100, 1000, bytes.Length / 3, bytes.Length / 2, bytes.Length - 10, bytes.Length - 1 })
        {
            Assert.Throws<OnnxModelException>(() => new OnnxSession(OnnxModel.Load(bytes.AsSpan(0, length))));
        }
    }

    [Fact]
    public void BitFlipsNeverEscapeAsOtherExceptions()
    {
        byte[] good = SmallConvModel().ToBytes();
        var rng = new Random(11);
        for (int i = 0; i < 300; i++)
        {
            byte[] bad = (byte[])good.Clone();
            bad[rng.Next(bad.Length)] ^= (byte)(1 << rng.Next(8));
            try
            {
                using var s = new OnnxSession(OnnxModel.Load(bad), new OnnxSessionOptions { IntraOpThreads = 1 });
                s.Run(new Dictionary<string, OnnxTensor> { ["x"] = new OnnxTensor<float>([1, 2, 4, 4]) });
            }
            catch (OnnxModelException)
            {
            }
        }
    }

    [Fact]
    public void UnsupportedOperatorsAndAttributesAreAllReportedAtOnce()
    {
        OnnxModel m = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 1, 4, 4)
            .Node("FancyOp", ["x"], ["a"]).NodeIn("my.domain", "Other", ["a"], ["b"])
            .Node("Resize", ["b", "", "s"], ["c"], ("mode", "area")).Initializer("s", new float[] { 1, 1, 2, 2 }, 4)
            .Output("c", TensorElementType.Float32).Build();
        Assert.Equal(3, m.UnsupportedOperators.Count);
        var e = Assert.Throws<OnnxModelException>(() => new OnnxSession(m));
        Assert.Equal(3, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.Contains("FancyOp", StringComparison.Ordinal) && p.Contains("FancyOp_0", StringComparison.Ordinal) && p.Contains("opset 17", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("my.domain", StringComparison.Ordinal) && p.Contains("Other", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("Resize", StringComparison.Ordinal) && p.Contains("area", StringComparison.Ordinal));
    }

    [Fact]
    public void ModelMetadataIsExposed()
    {
        OnnxModel m = SmallConvModel().Build();
        Assert.Equal(8, m.IrVersion);
        Assert.Equal(17, m.Opsets[""]);
        Assert.Single(m.Inputs);
        Assert.Equal("x", m.Inputs[0].Name);
        Assert.True(m.Inputs[0].Shape[0].IsDynamic);
        Assert.Equal(1, m.OperatorCounts["Conv"]);
        Assert.Contains("c", m.NodeOutputNames);
        Assert.Empty(m.UnsupportedOperators);
    }

    [Fact]
    public void OpsetOutsideRangeIsRejected()
    {
        Assert.Throws<OnnxModelException>(() => new GraphBuilder(opset: 22).Input("x", TensorElementType.Float32, 1).Node("Relu", ["x"], ["y"]).Output("y", TensorElementType.Float32, 1).Build());
        Assert.Throws<OnnxModelException>(() => new GraphBuilder(opset: 6).Input("x", TensorElementType.Float32, 1).Node("Relu", ["x"], ["y"]).Output("y", TensorElementType.Float32, 1).Build());
    }

    [Fact]
    public void ExternalDataIsReadRelativeToTheModel()
    {
        float[] w = [1, 2, 3, 4];
        byte[] raw = System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()).ToArray();
        File.WriteAllBytes(Path.Combine(_dir, "weights.bin"), [.. new byte[16], .. raw]);
        string path = WriteExternalModel("weights.bin", offset: 16, length: raw.Length);
        using var s = new OnnxSession(path, new OnnxSessionOptions { IntraOpThreads = 1 });
        float[] y = s.RunFloats(("x", new OnnxTensor<float>([1, 1, 1, 1], [4])));
        Assert.Equal([2f, 3, 4, 5], y);
    }

    [Theory]
    [InlineData("../escape.bin", 0, 16)]
    [InlineData("/etc/passwd", 0, 16)]
    [InlineData("weights.bin", 8, 16)]
    [InlineData("missing.bin", 0, 16)]
    [InlineData("weights.bin", 0, 12)]
    public void BadExternalDataGivesDomainException(string location, long offset, long length)
    {
        File.WriteAllBytes(Path.Combine(_dir, "weights.bin"), new byte[16]);
        string path = WriteExternalModel(location, offset, length);
        Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
    }

    [Fact]
    public void ExternalDataThroughALinkLeadingOutOfTheFolderIsRefused()
    {
        string outside = Directory.CreateDirectory(Path.Combine(_dir, "outside")).FullName;
        string modelDir = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        File.WriteAllBytes(Path.Combine(outside, "secret.bin"), new byte[16]);

        // A file link and a folder link inside the model's folder, both leading outside it.
        File.CreateSymbolicLink(Path.Combine(modelDir, "weights.bin"), Path.Combine(outside, "secret.bin"));
        Directory.CreateSymbolicLink(Path.Combine(modelDir, "data"), "../outside");
        foreach (string location in new[] { "weights.bin", "data/secret.bin" })
        {
            string path = WriteExternalModel(location, 0, 16, modelDir);
            var e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
            Assert.Contains($"external data location '{location}' escapes the model's folder", e.Message, StringComparison.Ordinal);
            Assert.Contains(Path.Combine(outside, "secret.bin"), e.Message, StringComparison.Ordinal);
        }

        // A link that stays inside the folder is followed.
        File.WriteAllBytes(Path.Combine(modelDir, "real.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes<float>([1, 2, 3, 4]).ToArray());
        File.CreateSymbolicLink(Path.Combine(modelDir, "alias.bin"), "real.bin");
        using var s = new OnnxSession(WriteExternalModel("alias.bin", 0, 16, modelDir), new OnnxSessionOptions { IntraOpThreads = 1 });
        Assert.Equal([1f, 2, 3, 4], s.RunFloats(("x", new OnnxTensor<float>(new float[4], [4]))));
    }

    [Fact]
    public void EveryErrorAboutAModelFileNamesTheFileOnce()
    {
        string path = Path.Combine(_dir, "bad-perm.onnx");
        File.WriteAllBytes(path, new GraphBuilder().Input("x", TensorElementType.Float32, 2, 2)
            .Node("Transpose", ["x"], ["y"], ("perm", new long[] { 0, 0 })).Output("y", TensorElementType.Float32).ToBytes());
        var load = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
        Assert.StartsWith($"Model file '{path}': ", load.Message, StringComparison.Ordinal);
        Assert.Equal(path, load.ModelPath);
        Assert.Equal("Transpose_0", load.NodeName);

        string truncated = Path.Combine(_dir, "truncated.onnx");
        File.WriteAllBytes(truncated, SmallConvModel().ToBytes()[..40]);
        Assert.StartsWith($"Model file '{truncated}': ", Assert.Throws<OnnxModelException>(() => OnnxModel.Load(truncated)).Message, StringComparison.Ordinal);
        string missing = Path.Combine(_dir, "missing.onnx");
        Assert.StartsWith($"Model file '{missing}': ", Assert.Throws<OnnxModelException>(() => OnnxModel.Load(missing)).Message, StringComparison.Ordinal);

        // Session creation (unsupported operators, all listed) and runs name it too, once.
        string unsupported = Path.Combine(_dir, "unsupported.onnx");
        File.WriteAllBytes(unsupported, new GraphBuilder().Input("x", TensorElementType.Float32, 2).Node("FancyOp", ["x"], ["y"]).Output("y", TensorElementType.Float32).ToBytes());
        var session = Assert.Throws<OnnxModelException>(() => new OnnxSession(unsupported));
        Assert.StartsWith($"Model file '{unsupported}': ", session.Message, StringComparison.Ordinal);
        Assert.Single(session.Problems);
        Assert.Equal(1, CountOf(session.Message, unsupported));

        string good = Path.Combine(_dir, "good.onnx");
        File.WriteAllBytes(good, SmallConvModel().ToBytes());
        using var s = new OnnxSession(good, new OnnxSessionOptions { IntraOpThreads = 1 });
        var run = Assert.Throws<OnnxModelException>(() => s.Run(new Dictionary<string, OnnxTensor>()));
        Assert.Equal($"Model file '{good}': Input 'x' is missing.", run.Message);

        // From memory there is no file to name.
        Assert.Null(Assert.Throws<OnnxModelException>(() => OnnxModel.Load(File.ReadAllBytes(path))).ModelPath);
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    [Fact]
    public void Float16InitializersBecomeFloat32()
    {
        Half[] h = [(Half)1.5f, (Half)(-2f), (Half)0.25f];
        OnnxModel m = new GraphBuilder().Input("x", TensorElementType.Float32, 3).Initializer("h", h, 3).Node("Add", ["x", "h"], ["y"]).Output("y", TensorElementType.Float32, 3).Build();
        Assert.Equal(TensorElementType.Float32, m.Graph.Initializers["h"].ElementType);
        using var s = new OnnxSession(m, new OnnxSessionOptions { IntraOpThreads = 1 });
        Assert.Equal([2.5f, -1, 1.25f], s.RunFloats(("x", new OnnxTensor<float>([1, 1, 1], [3]))));
    }

    [Fact]
    public void TypedFieldsAreDecoded()
    {
        var b = new GraphBuilder().Input("x", TensorElementType.Int64, 2);
        var t = new TensorProto { Name = "k", DataType = (int)TensorElementType.Int64 };
        t.Dims.Add(2);
        t.Int64Data.AddRange([5, -6]);
        b.Proto.Graph.Initializer.Add(t);
        using OnnxSession s = b.Node("Add", ["x", "k"], ["y"]).Output("y", TensorElementType.Int64, 2).Session();
        Assert.Equal([6L, -4], s.RunOne(("x", new OnnxTensor<long>([1, 2], [2]))).As<long>().ToArray());
    }

    internal static GraphBuilder SmallConvModel()
    {
        var rng = new Random(2);
        float[] w = Enumerable.Range(0, 3 * 2 * 3 * 3).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        return new GraphBuilder().Input("x", TensorElementType.Float32, -1, 2, 4, 4)
            .Initializer("w", w, 3, 2, 3, 3).Initializer("b", new float[] { 0.1f, -0.2f, 0.3f }, 3)
            .Node("Conv", ["x", "w", "b"], ["c"], ("pads", new long[] { 1, 1, 1, 1 })).Node("Relu", ["c"], ["y"])
            .Output("y", TensorElementType.Float32, -1, 3, 4, 4);
    }

    private string WriteExternalModel(string location, long offset, long length, string? folder = null)
    {
        var b = new GraphBuilder().Input("x", TensorElementType.Float32, 4);
        var t = new TensorProto { Name = "w", DataType = (int)TensorElementType.Float32, DataLocation = TensorProto.Types.DataLocation.External };
        t.Dims.Add(4);
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        b.Proto.Graph.Initializer.Add(t);
        b.Node("Add", ["x", "w"], ["y"]).Output("y", TensorElementType.Float32, 4);
        string path = Path.Combine(folder ?? _dir, "model.onnx");
        File.WriteAllBytes(path, b.ToBytes());
        return path;
    }
}
