using System.Runtime.InteropServices;
using System.Text.Json;
using DefectDetection.Cli;
using DefectDetection.Cli.Commands;
using DefectDetection.Testing;

namespace DefectDetection.Cli.Tests;

/// <summary>
/// <c>defect onnx info|run|bench</c> on the conformance fixtures (tests/DefectDetection.Onnx.Tests/Fixtures/conformance,
/// whose expected outputs come from ONNX Runtime) and on the shared MobileNetV2 model.
/// </summary>
public sealed class OnnxCommandTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(SharedData.RepoRoot, "tests", "DefectDetection.Onnx.Tests", "Fixtures", "conformance");

    private readonly string _dir = Directory.CreateTempSubdirectory("defect-onnx-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Case(string name, string file = "model.onnx") => Path.Combine(Fixtures, name, file);

    private static JsonElement CaseJson(string name, string file) => JsonDocument.Parse(File.ReadAllText(Case(name, file))).RootElement;

    [Fact]
    public void InfoJsonListsTheInputsOutputsAndOperatorsOfTheModel()
    {
        var (code, output, err) = Run("onnx", "info", Case("net_conv_bn_relu_residual"), "--json");
        Assert.True(code == 0, err);
        JsonElement info = JsonDocument.Parse(output).RootElement;
        JsonElement spec = CaseJson("net_conv_bn_relu_residual", "case.json");

        JsonElement input = Assert.Single(info.GetProperty("inputs").EnumerateArray());
        JsonElement specInput = spec.GetProperty("inputs")[0];
        Assert.Equal(specInput.GetProperty("name").GetString(), input.GetProperty("name").GetString());
        Assert.Equal("float32", input.GetProperty("type").GetString());
        Assert.Equal(specInput.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(13, info.GetProperty("opsets").GetProperty("ai.onnx").GetInt64());

        // The generator built: Conv, BN, Relu, Conv, BN, Add, Relu, MaxPool, GlobalAveragePool, Flatten, Gemm.
        JsonElement ops = info.GetProperty("operators");
        Assert.Equal(2, ops.GetProperty("Conv").GetInt32());
        Assert.Equal(2, ops.GetProperty("BatchNormalization").GetInt32());
        Assert.Equal(2, ops.GetProperty("Relu").GetInt32());
        Assert.Equal(1, ops.GetProperty("Gemm").GetInt32());
        Assert.Equal(11, info.GetProperty("node_count").GetInt32());
        Assert.Equal(spec.GetProperty("operators").EnumerateArray().Select(o => o.GetString()).Order(StringComparer.Ordinal),
            ops.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void InfoTextNamesTheInputAndOperators()
    {
        var (code, output, _) = Run("onnx", "info", Case("gemm_basic"));
        Assert.Equal(0, code);
        Assert.Contains("a  float32 [4,5]", output);
        Assert.Contains("Gemm", output);
        Assert.Contains("unsupported", output);
    }

    [Fact]
    public void BadModelsGiveExitCodeTwoAndAClearMessage()
    {
        var (code, _, err) = Run("onnx", "info", Path.Combine(_dir, "missing.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("not found", err, StringComparison.OrdinalIgnoreCase);

        string garbage = Path.Combine(_dir, "garbage.onnx");
        File.WriteAllBytes(garbage, [0xFF, 0xFF, 0xFF, 0x01, 0x02, 0x7F, 0x80]);
        (code, _, err) = Run("onnx", "info", garbage);
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err, StringComparison.Ordinal);
    }

    [Fact]
    public void RunWritesTheOutputThatOnnxRuntimeComputed()
    {
        // Relu is exact, so our output must equal ONNX Runtime's bit for bit.
        string output = Path.Combine(_dir, "relu.f32");
        JsonElement expected = CaseJson("unary_relu", "expected.json").GetProperty("outputs")[0];
        string outName = expected.GetProperty("name").GetString()!;
        var (code, stdout, err) = Run("onnx", "run", "--model", Case("unary_relu"), "--input", $"x={Case("unary_relu", "input.0.bin")}:2x3x5", "--output", $"{outName}={output}", "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains(outName, stdout);
        Assert.Equal(File.ReadAllBytes(Case("unary_relu", "expected.0.bin")), File.ReadAllBytes(output));
    }

    [Fact]
    public void RunTakesTheDeclaredShapeWhenNoneIsGiven()
    {
        string output = Path.Combine(_dir, "relu2.f32");
        string outName = CaseJson("unary_relu", "expected.json").GetProperty("outputs")[0].GetProperty("name").GetString()!;
        var (code, _, err) = Run("onnx", "run", "--model", Case("unary_relu"), "--input", Case("unary_relu", "input.0.bin"), "--output", $"{outName}={output}");
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(Case("unary_relu", "expected.0.bin")), File.ReadAllBytes(output));
    }

    [Fact]
    public void RunRejectsBadInputsWithExitCodeTwo()
    {
        string model = Case("unary_relu");
        string input = Case("unary_relu", "input.0.bin");
        (string[] Args, string Message)[] cases =
        [
            (["onnx", "run", "--input", $"x={input}"], "--model"),
            (["onnx", "run", "--model", model], "--input"),
            (["onnx", "run", "--model", model, "--input", $"nope={input}"], "no input named 'nope'"),
            (["onnx", "run", "--model", model, "--input", $"x={input}:2x3x4"], "fixes it to 5"),
            (["onnx", "run", "--model", model, "--input", $"x={Case("unary_relu", "case.json")}"], "bytes"),
            (["onnx", "run", "--model", model, "--input", $"x={input}", "--output", "missing"], "NAME=FILE"),
            (["onnx", "run", "--model", model, "--input", $"x={input}", "--output", $"nothing={_dir}/o.f32"], "no tensor named 'nothing'"),
            (["onnx", "run", "--model", model, "--input", $"x={input}", "--threads", "0"], "--threads"),
            (["onnx", "run", "--model", model, "--input", $"x={input}", "--surprise"], "--surprise"),
        ];
        foreach ((string[] args, string message) in cases)
        {
            var (code, _, err) = Run(args);
            Assert.True(code == 2, $"{string.Join(" ", args)} -> {code}: {err}");
            Assert.Contains(message, err);
        }
    }

    [Fact]
    public void BenchReportsConsistentTimingsAsJson()
    {
        var (code, output, err) = Run("onnx", "bench", "--model", Case("unary_relu"), "--batch", "2", "--threads", "1", "--warmup", "1", "--iterations", "5", "--json");
        Assert.True(code == 0, err);
        JsonElement r = JsonDocument.Parse(output).RootElement;
        double median = r.GetProperty("median_ms").GetDouble();
        Assert.Equal(2, r.GetProperty("batch").GetInt32());
        Assert.Equal(5, r.GetProperty("iterations").GetInt32());
        Assert.True(median > 0);
        Assert.True(r.GetProperty("min_ms").GetDouble() <= median + 1e-3);
        Assert.Equal(median / 2, r.GetProperty("ms_per_image").GetDouble(), 3);
        Assert.Equal(2000 / median, r.GetProperty("images_per_second").GetDouble(), 0.05 * 2000 / median);
    }

    [Fact]
    public void BenchStopsAtTheTimeLimit()
    {
        var (code, output, err) = Run("onnx", "bench", "--model", Case("softmax_1000_classes"), "--batch", "2", "--threads", "1", "--warmup", "100000", "--iterations", "1000000", "--max-time", "0.2", "--json");
        Assert.True(code == 0, err);
        int runs = JsonDocument.Parse(output).RootElement.GetProperty("iterations").GetInt32();
        Assert.InRange(runs, 1, 999_999);
    }

    [Fact]
    public void BenchRejectsBadSettingsWithExitCodeTwo()
    {
        (string[] Args, string Message)[] cases =
        [
            (["onnx", "bench"], "--model"),
            (["onnx", "bench", "--model", Case("unary_relu"), "--batch", "0"], "--batch"),
            (["onnx", "bench", "--model", Case("unary_relu"), "--iterations", "many"], "--iterations"),
            (["onnx", "bench", "--model", Case("unary_relu"), "--max-time", "-1"], "--max-time"),
            (["onnx", "bench", "--model", Case("conv_basic"), "--batch", "4"], "fixes the batch to 1"),
            (["onnx", "bench", "--model", Path.Combine(_dir, "none.onnx")], "not found"),
        ];
        foreach ((string[] args, string message) in cases)
        {
            var (code, _, err) = Run(args);
            Assert.True(code == 2, $"{string.Join(" ", args)} -> {code}: {err}");
            Assert.Contains(message, err);
        }
    }

    [Theory]
    [InlineData(2147483648L)] // 2^31: used to end in an OverflowException
    [InlineData(300_000_000L)] // fits in int but over the engine's cap: used to allocate 1.2 GB
    public void BenchAndRunRefuseAnInputOverTheEnginesElementCap(long dimension)
    {
        string model = Path.Combine(_dir, "huge-input.onnx");
        File.WriteAllBytes(model, ReluModel(1, dimension));
        string input = Path.Combine(_dir, "in.f32");
        File.WriteAllBytes(input, new byte[16]);
        foreach (string[] args in new[] { new[] { "onnx", "bench", "--model", model, "--threads", "1" }, ["onnx", "run", "--model", model, "--input", $"x={input}"] })
        {
            var (code, _, err) = Run(args);
            Assert.True(code == 2, $"{string.Join(" ", args)} -> {code}: {err}");
            Assert.Contains($"the input 'x' of shape [1,{dimension}] is too large", err, StringComparison.Ordinal);
            Assert.Contains($"at most {Onnx.OnnxSession.MaxTensorElements} elements", err, StringComparison.Ordinal);
        }

        // The same model at a size under the cap runs.
        File.WriteAllBytes(model, ReluModel(1, 4));
        var (ok, _, okErr) = Run("onnx", "bench", "--model", model, "--threads", "1", "--warmup", "0", "--iterations", "1");
        Assert.True(ok == 0, okErr);
    }

    /// <summary>A one-node Relu model with a fixed float32 input "x" and output "y", written in the protobuf wire format
    /// directly (the engine's ONNX classes are internal).</summary>
    private static byte[] ReluModel(params long[] shape)
    {
        static byte[] Message(Action<Google.Protobuf.CodedOutputStream> write)
        {
            using var stream = new MemoryStream();
            var output = new Google.Protobuf.CodedOutputStream(stream);
            write(output);
            output.Flush();
            return stream.ToArray();
        }

        static void Field(Google.Protobuf.CodedOutputStream o, int number, byte[] message)
        {
            o.WriteTag(number, Google.Protobuf.WireFormat.WireType.LengthDelimited);
            o.WriteBytes(Google.Protobuf.ByteString.CopyFrom(message));
        }

        static void Text(Google.Protobuf.CodedOutputStream o, int number, string text)
        {
            o.WriteTag(number, Google.Protobuf.WireFormat.WireType.LengthDelimited);
            o.WriteString(text);
        }

        byte[] dims = Message(o =>
        {
            foreach (long d in shape)
            {
                Field(o, 1, Message(dim => { dim.WriteTag(1, Google.Protobuf.WireFormat.WireType.Varint); dim.WriteInt64(d); }));
            }
        });
        byte[] tensorType = Message(o => { o.WriteTag(1, Google.Protobuf.WireFormat.WireType.Varint); o.WriteInt32(1); Field(o, 2, dims); });
        byte[] Value(string name) => Message(o => { Text(o, 1, name); Field(o, 2, Message(t => Field(t, 1, tensorType))); });
        byte[] node = Message(o => { Text(o, 1, "x"); Text(o, 2, "y"); Text(o, 3, "relu"); Text(o, 4, "Relu"); });
        byte[] graph = Message(o => { Field(o, 1, node); Text(o, 2, "g"); Field(o, 11, Value("x")); Field(o, 12, Value("y")); });
        byte[] opset = Message(o => { o.WriteTag(2, Google.Protobuf.WireFormat.WireType.Varint); o.WriteInt64(17); });
        return Message(o => { o.WriteTag(1, Google.Protobuf.WireFormat.WireType.Varint); o.WriteInt64(8); Field(o, 7, graph); Field(o, 8, opset); });
    }

    [Theory]
    [InlineData("x=in.f32:1x3x224x224", "x", "in.f32", new[] { 1, 3, 224, 224 })]
    [InlineData("in.f32", null, "in.f32", null)]
    [InlineData("images=C:\\data\\in.f32:1,3,416,416", "images", "C:\\data\\in.f32", new[] { 1, 3, 416, 416 })]
    [InlineData("x=/tmp/a:b.f32", "x", "/tmp/a:b.f32", null)]
    public void InputSpecsSplitIntoNameFileAndShape(string spec, string? name, string path, int[]? shape)
    {
        var parsed = OnnxTensorFiles.ParseInputSpec(spec);
        Assert.Equal(name, parsed.Name);
        Assert.Equal(path, parsed.Path);
        Assert.Equal(shape, parsed.Shape);
    }

    [Theory]
    [InlineData("=in.f32")]
    [InlineData("x=:1x3")]
    [InlineData("x=in.f32:1x0x3")]
    [InlineData("x=in.f32:99999x99999x99999")]
    public void BadInputSpecsAreRejected(string spec) =>
        Assert.Throws<ArgumentException>(() => OnnxTensorFiles.ParseInputSpec(spec));

    [Fact]
    public void TopKOrdersClassesAndGivesSoftmaxProbabilities()
    {
        float[] logits = [0.5f, 3f, -1f, 2f, 3f, 0f];
        var top = OnnxRunCommand.TopK(new Onnx.OnnxTensor<float>(logits, [1, 6]), 3);
        List<(int Class, float Score, float Probability)> row = Assert.Single(top);
        Assert.Equal([1, 4, 3], row.Select(e => e.Class));
        double denominator = logits.Sum(v => Math.Exp(v));
        Assert.Equal(Math.Exp(3) / denominator, row[0].Probability, 5);
        Assert.Equal(Math.Exp(2) / denominator, row[2].Probability, 5);
    }

    [Fact]
    public void ImageRunNormalisesPixelsLikeAHandBuiltTensor()
    {
        // A 6x6 RGB image at the model's own size (no resampling): the tensor must be (pixel/255 - mean) / std per
        // channel in planar order, so running the image equals running that tensor written by hand.
        const int Size = 6;
        float[] mean = [0.4f, 0.5f, 0.6f], std = [0.2f, 0.25f, 0.3f];
        using var image = Imaging.Image.Create(Size, Size, Imaging.PixelFormat.Rgb24);
        Span<byte> px = image.Pixels;
        for (int i = 0; i < px.Length; i++)
        {
            px[i] = (byte)((i * 37) + 11);
        }

        string png = Path.Combine(_dir, "six.png");
        Imaging.ImageCodecs.Save(image, png);
        var tensor = new float[3 * Size * Size];
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    tensor[(c * Size * Size) + (y * Size) + x] = ((image.GetRow(y)[(x * 3) + c] / 255f) - mean[c]) / std[c];
                }
            }
        }

        string raw = Path.Combine(_dir, "six.f32");
        File.WriteAllBytes(raw, MemoryMarshal.AsBytes(tensor.AsSpan()).ToArray());
        string model = Case("conv_dynamic_batch"); // input x [batch,3,6,6]
        string outName = CaseJson("conv_dynamic_batch", "expected.json").GetProperty("outputs")[0].GetProperty("name").GetString()!;
        string fromImage = Path.Combine(_dir, "a.f32"), fromTensor = Path.Combine(_dir, "b.f32");
        var (code, _, err) = Run("onnx", "run", "--model", model, "--image", png, "--size", "6", "--mean", "0.4,0.5,0.6", "--std", "0.2,0.25,0.3", "--output", $"{outName}={fromImage}", "--threads", "1");
        Assert.True(code == 0, err);
        (code, _, err) = Run("onnx", "run", "--model", model, "--input", $"x={raw}:1x3x6x6", "--output", $"{outName}={fromTensor}", "--threads", "1");
        Assert.True(code == 0, err);
        float[] a = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(fromImage)).ToArray();
        float[] b = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(fromTensor)).ToArray();
        Assert.Equal(b.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5f, $"[{i}] image {a[i]} tensor {b[i]}");
        }
    }

    [SharedTheory]
    [InlineData("goldfish")]
    [InlineData("macaw")]
    [InlineData("tabby_cat")]
    [InlineData("samoyed")]
    public void RunOnTheMobileNetReferenceInputMatchesOnnxRuntimeLogits(string sample)
    {
        string dir = SharedData.PathOf("models", "mobilenetv2-int8");
        string output = Path.Combine(_dir, "logits.f32");
        var (code, _, err) = Run("onnx", "run", "--model", Path.Combine(dir, "mobilenetv2-int8-qdq.onnx"),
            "--input", $"input={Path.Combine(dir, "samples", sample + ".input.f32")}:1x3x224x224", "--output", $"output={output}", "--threads", "2");
        Assert.True(code == 0, err);
        float[] got = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(output)).ToArray();
        float[] want = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "samples", sample + ".mobilenetv2-int8-qdq.logits.f32"))).ToArray();
        Assert.Equal(1000, got.Length);
        Assert.Equal(Array.IndexOf(want, want.Max()), Array.IndexOf(got, got.Max()));

        // The logits are quantized with a step of about 0.139 (ONNX Runtime ran the integer kernels its QDQ fusion
        // makes); ours may round a value one step differently, no more.
        double meanDiff = got.Zip(want).Average(p => Math.Abs(p.First - p.Second));
        double maxDiff = got.Zip(want).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(meanDiff < 0.02 && maxDiff < 0.14, $"|logit difference| mean {meanDiff}, max {maxDiff}");
    }

    [SharedFact]
    public void RunOnTheDynamicallyQuantizedMobileNetMatchesOnnxRuntimeLogits()
    {
        // Dynamic quantization has no fused requantization: the integer arithmetic is exact, so the logits match
        // ONNX Runtime's closely.
        string dir = SharedData.PathOf("models", "mobilenetv2-int8");
        string output = Path.Combine(_dir, "dyn.f32");
        var (code, _, err) = Run("onnx", "run", "--model", Path.Combine(dir, "mobilenetv2-int8-dynamic.onnx"),
            "--input", $"input={Path.Combine(dir, "samples", "macaw.input.f32")}:1x3x224x224", "--output", $"output={output}", "--threads", "2");
        Assert.True(code == 0, err);
        float[] got = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(output)).ToArray();
        float[] want = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "samples", "macaw.mobilenetv2-int8-dynamic.logits.f32"))).ToArray();
        Assert.Equal(1000, got.Length);
        double maxDiff = got.Zip(want).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(maxDiff < 1e-3, $"max |logit difference| {maxDiff}");
    }

    [SharedFact]
    public void RunOnTheYoloxReferenceInputMatchesOnnxRuntimeOutput()
    {
        string dir = SharedData.PathOf("models", "yolox-nano");
        string output = Path.Combine(_dir, "yolox.f32");
        var (code, _, err) = Run("onnx", "run", "--model", Path.Combine(dir, "yolox-nano.onnx"),
            "--input", Path.Combine(dir, "samples", "coco-000000000285.input.f32"), "--output", $"output={output}", "--threads", "2");
        Assert.True(code == 0, err);
        float[] got = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(output)).ToArray();
        float[] want = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "samples", "coco-000000000285.output.f32"))).ToArray();
        Assert.Equal(1 * 3549 * 85, got.Length);
        Assert.Equal(want.Length, got.Length);
        double worst = 0;
        for (int i = 0; i < got.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(got[i] - want[i]) / (1e-3 + (1e-3 * Math.Abs(want[i]))));
        }

        Assert.True(worst <= 1, $"an output differs from ONNX Runtime's by {worst:F2} x (1e-3 + 1e-3*|want|)");
    }

    [SharedFact]
    public void ImageRunFindsTheGoldfish()
    {
        string dir = SharedData.PathOf("models", "mobilenetv2-int8");
        var (code, output, err) = Run("onnx", "run", "--model", Path.Combine(dir, "mobilenetv2-int8-qdq.onnx"),
            "--image", Path.Combine(dir, "samples", "goldfish.jpg"), "--size", "224", "--top", "5", "--json");
        Assert.True(code == 0, err);
        JsonElement top = JsonDocument.Parse(output).RootElement.GetProperty("top")[0];
        Assert.Equal(1, top[0].GetProperty("class").GetInt32()); // ImageNet class 1 = goldfish (reference.json)
    }
}
