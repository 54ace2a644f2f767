using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Onnx;

namespace DefectDetection.Cli.Commands;

/// <summary>The validated settings of <c>defect onnx run</c>.</summary>
internal sealed class OnnxRunSettings
{
    public required string Model { get; init; }

    public IReadOnlyList<(string? Name, string Path, int[]? Shape)> Inputs { get; init; } = [];

    public IReadOnlyList<(string Name, string Path)> Outputs { get; init; } = [];

    public string? Image { get; init; }

    public int Size { get; init; } = 224;

    public float[] Mean { get; init; } = [0.485f, 0.456f, 0.406f];

    public float[] Std { get; init; } = [0.229f, 0.224f, 0.225f];

    public int Top { get; init; }

    public int Threads { get; init; } = Environment.ProcessorCount;

    public bool NoRewrites { get; init; }

    public bool Json { get; init; }

    /// <summary><c>--overwrite</c>: existing <c>--output</c> files may be replaced.</summary>
    public bool Overwrite { get; init; }

    public static OnnxRunSettings Parse(string? model, string[]? inputs, string[]? outputs, string? image, string? size, string? mean, string? std, string? top, string? threads, bool noRewrites, bool json, bool overwrite = false)
    {
        if (string.IsNullOrEmpty(model))
        {
            throw new ArgumentException("--model is required (the .onnx file to run).");
        }

        inputs ??= [];
        outputs ??= [];
        if (image is not null && inputs.Length > 0)
        {
            throw new ArgumentException("Give either --image or --input, not both.");
        }

        if (image is null && inputs.Length == 0)
        {
            throw new ArgumentException("Give the model's input: --input NAME=FILE.f32:1x3x224x224 (raw little-endian float32), or --image FILE.");
        }

        float[] meanValues = mean is null ? [0.485f, 0.456f, 0.406f] : OnnxTensorFiles.ParseFloats(mean, "--mean");
        float[] stdValues = std is null ? [0.229f, 0.224f, 0.225f] : OnnxTensorFiles.ParseFloats(std, "--std");
        if (stdValues.Any(s => s == 0f))
        {
            throw new ArgumentException("--std: values must not be 0.");
        }

        return new OnnxRunSettings
        {
            Model = model,
            Inputs = inputs.Select(OnnxTensorFiles.ParseInputSpec).ToArray(),
            Outputs = outputs.Select(OnnxTensorFiles.ParseOutputSpec).ToArray(),
            Image = image,
            Size = OnnxTensorFiles.ParseInt(size, "--size", 224, 1, 8192),
            Mean = meanValues,
            Std = stdValues,
            Top = OnnxTensorFiles.ParseInt(top, "--top", image is null ? 0 : 5, 0, 100_000),
            Threads = OnnxTensorFiles.ParseInt(threads, "--threads", Environment.ProcessorCount, 1, 1024),
            NoRewrites = noRewrites,
            Json = json,
            Overwrite = overwrite,
        };
    }
}

/// <summary><c>defect onnx run</c>: runs a model once on tensors from raw files (or one image) and writes or prints its outputs.</summary>
internal static class OnnxRunCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> model = new("--model") { HelpName = "FILE", Description = "The .onnx file." };
        Option<string[]> input = new("--input")
        {
            HelpName = "NAME=FILE:SHAPE", Description = "NAME=FILE:SHAPE, e.g. input=x.f32:1x3x224x224: a raw little-endian tensor of the input's element type (float32 for images). Repeat per input; NAME may be left out for a one-input model, SHAPE for a fixed-shape input.",
            AllowMultipleArgumentsPerToken = false,
        };
        Option<string[]> output = new("--output") { HelpName = "NAME=FILE", Description = "NAME=FILE: write that output as raw little-endian values. Repeatable. An existing FILE is replaced only with --overwrite; an input file never." };
        Option<string> image = new("--image") { HelpName = "FILE", Description = "An image (JPEG, PNG, BMP, PNM): bilinear resize of the whole image to --size x --size, values/255, then (v - mean) / std per channel, NCHW." };
        Option<string> size = new("--size") { HelpName = "PIXELS", Description = "The model's input width and height for --image (default 224)." };
        Option<string> mean = new("--mean") { HelpName = "M1,M2,M3", Description = "Per-channel mean of values in [0,1], 1 or 3 values (default ImageNet 0.485,0.456,0.406)." };
        Option<string> std = new("--std") { HelpName = "S1,S2,S3", Description = "Per-channel standard deviation, 1 or 3 values (default ImageNet 0.229,0.224,0.225)." };
        Option<string> top = new("--top") { HelpName = "K", Description = "Print the top K classes of the first output (default 5 with --image, else 0)." };
        Option<string> threads = new("--threads") { HelpName = "T", Description = "Intra-op threads (default: all cores)." };
        Option<bool> noRewrites = new("--no-rewrites") { Description = "Switch off every graph rewrite (constant folding, fusions, QDQ to integer kernels)." };
        Option<bool> json = new("--json") { Description = "Write JSON for machines instead of text." };
        Option<bool> overwrite = new("--overwrite") { Description = OutputPlan.OverwriteHelp };
        Command run = new("run", "Run a model once and write or print its outputs.") { model, input, output, image, size, mean, std, top, threads, noRewrites, json, overwrite };
        run.TreatUnmatchedTokensAsErrors = false;
        run.SetAction(parse => OnnxCommand.Guard(context, () =>
        {
            OnnxCommand.RejectUnmatched(parse);
            OnnxRunSettings settings = OnnxRunSettings.Parse(
                parse.GetValue(model), parse.GetValue(input), parse.GetValue(output), parse.GetValue(image), parse.GetValue(size),
                parse.GetValue(mean), parse.GetValue(std), parse.GetValue(top), parse.GetValue(threads), parse.GetValue(noRewrites), parse.GetValue(json), parse.GetValue(overwrite));
            return Run(context, settings);
        }));
        return run;
    }

    internal static int Run(CliContext context, OnnxRunSettings settings)
    {
        string modelPath = ImageCommand.RequireFile(new FileInfo(settings.Model));
        OutputPlan plan = new([modelPath, settings.Image, .. settings.Inputs.Select(i => i.Path)], settings.Overwrite);
        string[] outputFiles = [.. settings.Outputs.Select(o => plan.Claim(o.Path, $"--output {o.Name}"))];
        OnnxModel model = OnnxModel.Load(modelPath);
        Dictionary<string, OnnxTensor> inputs = settings.Image is not null ? ImageInput(model, settings) : FileInputs(model, settings);
        foreach ((string name, _) in settings.Outputs)
        {
            if (!model.Outputs.Any(o => o.Name == name) && !model.NodeOutputNames.Contains(name))
            {
                throw new ArgumentException($"--output: the model has no tensor named '{name}' (outputs: {string.Join(", ", model.Outputs.Select(o => o.Name))}).");
            }
        }

        string[] extra = settings.Outputs.Select(o => o.Name).Where(n => !model.Outputs.Any(o => o.Name == n)).Distinct().ToArray();
        OnnxSessionOptions options = settings.NoRewrites
            ? new OnnxSessionOptions { IntraOpThreads = settings.Threads, ExtraOutputs = extra, EnableConstantFolding = false, EnableConvBatchNormFusion = false, EnableActivationFusion = false, EnableQdqFusion = false }
            : new OnnxSessionOptions { IntraOpThreads = settings.Threads, ExtraOutputs = extra };
        using var session = new OnnxSession(model, options);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyDictionary<string, OnnxTensor> results = session.Run(inputs, model.Outputs.Select(o => o.Name).Concat(extra).ToArray());
        double ms = watch.Elapsed.TotalMilliseconds;

        for (int i = 0; i < settings.Outputs.Count; i++)
        {
            OnnxTensor tensor = results[settings.Outputs[i].Name];
            plan.Write(outputFiles[i], stream => OnnxTensorFiles.Write(tensor, stream));
        }

        var summaries = new List<Dictionary<string, object?>>();
        foreach ((string name, OnnxTensor t) in results)
        {
            var s = new Dictionary<string, object?> { ["name"] = name, ["type"] = OnnxCommand.TypeName(t.ElementType), ["shape"] = t.Shape };
            if (t is OnnxTensor<float> f && f.Length > 0)
            {
                ReadOnlySpan<float> v = f.Span;
                s["min"] = System.Numerics.Tensors.TensorPrimitives.Min(v);
                s["max"] = System.Numerics.Tensors.TensorPrimitives.Max(v);
                s["mean"] = System.Numerics.Tensors.TensorPrimitives.Sum(v) / v.Length;
            }

            string? file = outputFiles.Where((_, i) => settings.Outputs[i].Name == name).FirstOrDefault();
            if (file is not null)
            {
                s["file"] = file;
            }

            summaries.Add(s);
        }

        List<List<(int Class, float Score, float Probability)>>? top = settings.Top > 0 ? TopK(results[model.Outputs[0].Name], settings.Top) : null;
        if (settings.Json)
        {
            var payload = new Dictionary<string, object?>
            {
                ["model"] = Path.GetFullPath(settings.Model),
                ["run_ms"] = Math.Round(ms, 3),
                ["outputs"] = summaries,
                ["top"] = top?.Select(row => row.Select(e => new Dictionary<string, object> { ["class"] = e.Class, ["score"] = e.Score, ["probability"] = e.Probability }).ToArray()).ToArray(),
            };
            context.Out.WriteLine(JsonSerializer.Serialize(payload, CliJson.Options));
            return CliContext.Ok;
        }

        context.Out.WriteLine($"ran {Path.GetFileName(settings.Model)} in {ms.ToString("F2", CultureInfo.InvariantCulture)} ms ({settings.Threads} threads)");
        foreach (Dictionary<string, object?> s in summaries)
        {
            string stats = s.TryGetValue("min", out object? min)
                ? string.Create(CultureInfo.InvariantCulture, $"  min {min:G6} max {s["max"]:G6} mean {s["mean"]:G6}")
                : string.Empty;
            string file = s.TryGetValue("file", out object? path) ? $"  -> {path}" : string.Empty;
            context.Out.WriteLine($"  {s["name"]}  {s["type"]} [{string.Join(",", (int[])s["shape"]!)}]{stats}{file}");
        }

        if (top is not null)
        {
            for (int row = 0; row < top.Count; row++)
            {
                context.Out.WriteLine(top.Count > 1 ? $"top {settings.Top} (item {row}):" : $"top {settings.Top}:");
                foreach ((int cls, float score, float p) in top[row])
                {
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  class {cls,6}  score {score,10:F4}  p {p:F4}"));
                }
            }
        }

        return CliContext.Ok;
    }

    /// <summary>The K largest values along the last axis of a float output, per row, with softmax probabilities.</summary>
    internal static List<List<(int Class, float Score, float Probability)>> TopK(OnnxTensor output, int k)
    {
        if (output is not OnnxTensor<float> f || f.Rank == 0)
        {
            throw new ArgumentException($"--top needs a float output with classes along its last axis; the first output is {output.ElementType} [{string.Join(",", output.Shape)}].");
        }

        int classes = f.Dimensions[^1];
        int rows = classes == 0 ? 0 : (int)(f.Length / classes);
        var result = new List<List<(int, float, float)>>();
        var probabilities = new float[classes];
        for (int r = 0; r < rows; r++)
        {
            float[] row = f.Span.Slice(r * classes, classes).ToArray();
            System.Numerics.Tensors.TensorPrimitives.SoftMax(row, probabilities);
            result.Add(Enumerable.Range(0, classes)
                .OrderByDescending(i => row[i]).ThenBy(i => i)
                .Take(k)
                .Select(i => (i, row[i], probabilities[i]))
                .ToList());
        }

        return result;
    }

    private static Dictionary<string, OnnxTensor> FileInputs(OnnxModel model, OnnxRunSettings settings)
    {
        var inputs = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        foreach ((string? name, string path, int[]? shape) in settings.Inputs)
        {
            TensorInfo info;
            if (name is null)
            {
                if (model.Inputs.Count != 1)
                {
                    throw new ArgumentException($"--input '{path}': the model has {model.Inputs.Count} inputs ({string.Join(", ", model.Inputs.Select(i => i.Name))}); write NAME=FILE.");
                }

                info = model.Inputs[0];
            }
            else
            {
                info = model.Inputs.FirstOrDefault(i => i.Name == name)
                    ?? throw new ArgumentException($"--input: the model has no input named '{name}' (inputs: {string.Join(", ", model.Inputs.Select(i => i.Name))}).");
            }

            if (inputs.ContainsKey(info.Name))
            {
                throw new ArgumentException($"--input: '{info.Name}' is given twice.");
            }

            inputs[info.Name] = OnnxTensorFiles.Read(path, info.ElementType, OnnxTensorFiles.ResolveShape(info, shape, $"--input {info.Name}"));
        }

        string[] missing = model.Inputs.Select(i => i.Name).Where(n => !inputs.ContainsKey(n)).ToArray();
        if (missing.Length > 0)
        {
            throw new ArgumentException($"Missing --input for: {string.Join(", ", missing)}.");
        }

        return inputs;
    }

    private static Dictionary<string, OnnxTensor> ImageInput(OnnxModel model, OnnxRunSettings settings)
    {
        if (model.Inputs.Count != 1 || model.Inputs[0].ElementType != TensorElementType.Float32 || model.Inputs[0].Shape.Count != 4)
        {
            throw new ArgumentException($"--image needs a model with one float32 NCHW input; this one has {string.Join(", ", model.Inputs.Select(OnnxCommand.Describe))}.");
        }

        TensorInfo info = model.Inputs[0];
        int channels = info.Shape[1].Value is long c ? (int)c : 3;
        if (channels is not (1 or 3))
        {
            throw new ArgumentException($"--image needs 1 or 3 input channels; the model input is {OnnxCommand.Describe(info)}.");
        }

        int[] shape = OnnxTensorFiles.ResolveShape(info, [1, channels, settings.Size, settings.Size], "--image");
        if (settings.Mean.Length is not (1 or 3) || settings.Std.Length is not (1 or 3))
        {
            throw new ArgumentException("--mean and --std take 1 or 3 values.");
        }

        var layout = new TensorLayoutOptions
        {
            Width = shape[3],
            Height = shape[2],
            Channels = channels,
            Mean = channels == 1 ? settings.Mean[..1] : Expand(settings.Mean),
            Std = channels == 1 ? settings.Std[..1] : Expand(settings.Std),
        };
        using Image image = ImageCodecs.Load(ImageCommand.RequireFile(new FileInfo(settings.Image!)));
        var tensor = new OnnxTensor<float>(shape);
        TensorConversion.ToNchw(image.View(), layout, tensor.Span);
        return new Dictionary<string, OnnxTensor>(StringComparer.Ordinal) { [info.Name] = tensor };
    }

    private static float[] Expand(float[] values) => values.Length == 3 ? values : [values[0], values[0], values[0]];
}
