using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DefectDetection.Onnx;

namespace DefectDetection.Cli.Commands;

/// <summary>The validated settings of <c>defect onnx bench</c>.</summary>
internal sealed class OnnxBenchSettings
{
    public required string Model { get; init; }

    public int Batch { get; init; } = 1;

    public int Threads { get; init; } = Environment.ProcessorCount;

    public int Warmup { get; init; } = 3;

    public int Iterations { get; init; } = 20;

    /// <summary>The per-item shape of a one-input model whose other dimensions are dynamic (batch excluded).</summary>
    public int[]? ItemShape { get; init; }

    /// <summary>Stop the timed runs once this many seconds are spent (at least one run); null = no limit.</summary>
    public double? MaxSeconds { get; init; }

    public bool NoRewrites { get; init; }

    public bool Json { get; init; }

    public static OnnxBenchSettings Parse(string? model, string? batch, string? threads, string? warmup, string? iterations, string? shape, string? maxTime, bool noRewrites, bool json)
    {
        if (string.IsNullOrEmpty(model))
        {
            throw new ArgumentException("--model is required (the .onnx file to time).");
        }

        return new OnnxBenchSettings
        {
            Model = model,
            Batch = OnnxTensorFiles.ParseInt(batch, "--batch", 1, 1, 4096),
            Threads = OnnxTensorFiles.ParseInt(threads, "--threads", Environment.ProcessorCount, 1, 1024),
            Warmup = OnnxTensorFiles.ParseInt(warmup, "--warmup", 3, 0, 100_000),
            Iterations = OnnxTensorFiles.ParseInt(iterations, "--iterations", 20, 1, 1_000_000),
            ItemShape = shape is null ? null : OnnxTensorFiles.ParseShape(shape, "--shape"),
            MaxSeconds = maxTime is null ? null
                : double.TryParse(maxTime, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && double.IsFinite(seconds)
                    ? seconds
                    : throw new ArgumentException($"--max-time: '{maxTime}' must be a positive number of seconds."),
            NoRewrites = noRewrites,
            Json = json,
        };
    }
}

/// <summary>The timings of one <c>defect onnx bench</c> run.</summary>
internal sealed record OnnxBenchResult(
    string Model, int Batch, int Threads, int Warmup, int Iterations, double SessionMs, double MedianMs, double MinMs, double MeanMs,
    double MsPerImage, double ImagesPerSecond, IReadOnlyDictionary<string, int> AppliedRewrites);

/// <summary><c>defect onnx bench</c>: times a model on random inputs (median milliseconds per batch, per image, images/s).</summary>
internal static class OnnxBenchCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> model = new("--model") { HelpName = "FILE", Description = "The .onnx file." };
        Option<string> batch = new("--batch") { HelpName = "B", Description = "Batch size (the first input dimension; default 1)." };
        Option<string> threads = new("--threads") { HelpName = "T", Description = "Intra-op threads (default: all cores)." };
        Option<string> warmup = new("--warmup") { HelpName = "W", Description = "Untimed runs first (default 3)." };
        Option<string> iterations = new("--iterations") { HelpName = "N", Description = "Timed runs (default 20); the median is reported." };
        Option<string> shape = new("--shape") { HelpName = "DIMS", Description = "Per-item input shape without the batch, e.g. 3x224x224, for a one-input model with other dynamic dimensions." };
        Option<string> maxTime = new("--max-time") { HelpName = "SECONDS", Description = "Stop the timed runs after this many seconds (at least one run); the report gives the runs done." };
        Option<bool> noRewrites = new("--no-rewrites") { Description = "Switch off every graph rewrite (constant folding, fusions, QDQ to integer kernels)." };
        Option<bool> json = new("--json") { Description = "Write JSON for machines instead of text." };
        Command bench = new("bench", "Time a model on random inputs: median ms per batch, ms per image, images/s.") { model, batch, threads, warmup, iterations, shape, maxTime, noRewrites, json };
        bench.TreatUnmatchedTokensAsErrors = false;
        bench.SetAction(parse => OnnxCommand.Guard(context, () =>
        {
            OnnxCommand.RejectUnmatched(parse);
            OnnxBenchSettings settings = OnnxBenchSettings.Parse(
                parse.GetValue(model), parse.GetValue(batch), parse.GetValue(threads), parse.GetValue(warmup), parse.GetValue(iterations),
                parse.GetValue(shape), parse.GetValue(maxTime), parse.GetValue(noRewrites), parse.GetValue(json));
            OnnxBenchResult result = Measure(settings);
            Print(context, result, settings.Json);
            return CliContext.Ok;
        }));
        return bench;
    }

    internal static OnnxBenchResult Measure(OnnxBenchSettings settings)
    {
        OnnxModel model = OnnxModel.Load(ImageCommand.RequireFile(new FileInfo(settings.Model)));
        var inputs = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        int seed = 1;
        foreach (TensorInfo info in model.Inputs)
        {
            inputs[info.Name] = OnnxTensorFiles.Random(info.ElementType, InputShape(model, info, settings), seed++);
        }

        var options = settings.NoRewrites
            ? new OnnxSessionOptions { IntraOpThreads = settings.Threads, EnableConstantFolding = false, EnableConvBatchNormFusion = false, EnableActivationFusion = false, EnableQdqFusion = false }
            : new OnnxSessionOptions { IntraOpThreads = settings.Threads };
        var watch = Stopwatch.StartNew();
        using var session = new OnnxSession(model, options);
        double sessionMs = watch.Elapsed.TotalMilliseconds;
        long warmStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < settings.Warmup; i++)
        {
            _ = session.Run(inputs);
            if (settings.MaxSeconds is double warmLimit && Stopwatch.GetElapsedTime(warmStart).TotalSeconds >= warmLimit)
            {
                break; // A slow model: one warm-up run is enough.
            }
        }

        var all = new double[settings.Iterations];
        int done = 0;
        long begin = Stopwatch.GetTimestamp();
        while (done < all.Length && (done == 0 || settings.MaxSeconds is not double limit || Stopwatch.GetElapsedTime(begin).TotalSeconds < limit))
        {
            long start = Stopwatch.GetTimestamp();
            _ = session.Run(inputs);
            all[done++] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        double[] times = all[..done];
        Array.Sort(times);
        double median = times.Length % 2 == 1 ? times[times.Length / 2] : (times[(times.Length / 2) - 1] + times[times.Length / 2]) / 2;
        return new OnnxBenchResult(
            Path.GetFullPath(settings.Model), settings.Batch, settings.Threads, settings.Warmup, times.Length, sessionMs,
            median, times[0], times.Average(), median / settings.Batch, settings.Batch * 1000.0 / median, session.AppliedRewrites);
    }

    private static int[] InputShape(OnnxModel model, TensorInfo info, OnnxBenchSettings settings)
    {
        if (info.Shape.Count == 0)
        {
            return [];
        }

        var shape = new long[info.Shape.Count];
        if (info.Shape[0].Value is long fixedBatch && fixedBatch != settings.Batch)
        {
            throw new ArgumentException($"--batch {settings.Batch}: the model input '{info.Name}' fixes the batch to {fixedBatch} ([{string.Join(",", info.Shape)}]).");
        }

        shape[0] = settings.Batch;
        for (int i = 1; i < shape.Length; i++)
        {
            if (settings.ItemShape is not null)
            {
                if (model.Inputs.Count != 1 || settings.ItemShape.Length != shape.Length - 1)
                {
                    throw new ArgumentException($"--shape [{string.Join(",", settings.ItemShape)}] does not fit the model input {OnnxCommand.Describe(info)} (give the dimensions after the batch).");
                }

                shape[i] = settings.ItemShape[i - 1];
                if (info.Shape[i].Value is long d && d != shape[i])
                {
                    throw new ArgumentException($"--shape: dimension {i} is {shape[i]} but the model input '{info.Name}' fixes it to {d}.");
                }
            }
            else
            {
                shape[i] = info.Shape[i].Value is long d
                    ? d
                    : throw new ArgumentException($"The model input {OnnxCommand.Describe(info)} has a dynamic dimension {i}; give --shape (the dimensions after the batch).");
            }
        }

        return OnnxTensorFiles.CheckedShape(info, shape, "onnx bench");
    }

    private static void Print(CliContext context, OnnxBenchResult r, bool json)
    {
        if (json)
        {
            var payload = new Dictionary<string, object?>
            {
                ["model"] = r.Model,
                ["batch"] = r.Batch,
                ["threads"] = r.Threads,
                ["warmup"] = r.Warmup,
                ["iterations"] = r.Iterations,
                ["session_ms"] = Math.Round(r.SessionMs, 3),
                ["median_ms"] = Math.Round(r.MedianMs, 4),
                ["min_ms"] = Math.Round(r.MinMs, 4),
                ["mean_ms"] = Math.Round(r.MeanMs, 4),
                ["ms_per_image"] = Math.Round(r.MsPerImage, 4),
                ["images_per_second"] = Math.Round(r.ImagesPerSecond, 2),
                ["rewrites"] = r.AppliedRewrites,
            };
            context.Out.WriteLine(JsonSerializer.Serialize(payload, CliJson.Options));
            return;
        }

        CultureInfo ci = CultureInfo.InvariantCulture;
        context.Out.WriteLine($"model:        {r.Model}");
        context.Out.WriteLine($"batch {r.Batch}, {r.Threads} threads, {r.Warmup} warm-up + {r.Iterations} timed runs; session created in {r.SessionMs.ToString("F1", ci)} ms");
        context.Out.WriteLine($"median:       {r.MedianMs.ToString("F3", ci)} ms per batch (min {r.MinMs.ToString("F3", ci)}, mean {r.MeanMs.ToString("F3", ci)})");
        context.Out.WriteLine($"per image:    {r.MsPerImage.ToString("F3", ci)} ms");
        context.Out.WriteLine($"throughput:   {r.ImagesPerSecond.ToString("F1", ci)} images/s");
        if (r.AppliedRewrites.Count > 0)
        {
            context.Out.WriteLine($"rewrites:     {string.Join(", ", r.AppliedRewrites.Select(kv => $"{kv.Key} x{kv.Value}"))}");
        }
    }
}
