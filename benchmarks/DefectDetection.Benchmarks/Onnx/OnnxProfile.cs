using System.Diagnostics;
using System.Globalization;
using DefectDetection.Benchmarks.Vision;
using DefectDetection.Onnx;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>
/// <c>onnx-profile [--model mobilenetv2-int8-qdq|mobilenetv2-int8-dynamic|yolox-nano] [--batch 1] [--threads 1]
/// [--warmup-seconds 4] [--runs 40] [--profile-runs 30]</c>: steady-state time per run of a shared model after a long
/// warm-up (median, minimum and process CPU time), then each kernel's median time over the profiled runs with its operator ("(dw)" for
/// grouped convolutions) and node name, the totals per operator, and the intra-op pool's stalls.
/// </summary>
public static class OnnxProfile
{
    public static int Run(string[] args)
    {
        string Arg(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        int Int(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        int batch = Int("--batch", 1), threads = Int("--threads", 1), runs = Int("--runs", 40), profileRuns = Int("--profile-runs", 30);
        double warmupSeconds = double.Parse(Arg("--warmup-seconds", "4"), CultureInfo.InvariantCulture);
        string name = Arg("--model", "mobilenetv2-int8-qdq");
        ModelInput? model = name switch
        {
            "mobilenetv2-int8-qdq" => ModelInput.MobileNetV2Int8Qdq(batch),
            "mobilenetv2-int8-dynamic" => ModelInput.MobileNetV2Int8Dynamic(batch),
            "yolox-nano" => ModelInput.YoloxNano(batch),
            _ => null,
        };
        if (model is null || batch < 1 || threads < 1 || runs < 1 || profileRuns < 1)
        {
            Console.Error.WriteLine("usage: onnx-profile [--model mobilenetv2-int8-qdq|mobilenetv2-int8-dynamic|yolox-nano] [--batch N] [--threads N] [--warmup-seconds S] [--runs N] [--profile-runs N]");
            return 2;
        }

        using var session = new OnnxSession(model.Path, new OnnxSessionOptions { IntraOpThreads = threads });
        var feeds = model.Feeds();
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < warmupSeconds)
        {
            session.Run(feeds);
        }

        var times = new double[runs];
        using var process = Process.GetCurrentProcess();
        TimeSpan cpu0 = process.TotalProcessorTime;
        for (int r = 0; r < runs; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            session.Run(feeds);
            times[r] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        // On a loaded machine a steadier figure than wall time (all threads of the process, spinning included).
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpu0).TotalMilliseconds / runs;

        Array.Sort(times);
        var core = session.Core;
        var all = new long[profileRuns][];
        for (int r = 0; r < profileRuns; r++)
        {
            core.ProfileTicks = new long[core.Kernels.Length];
            session.Run(feeds);
            all[r] = core.ProfileTicks;
        }

        core.ProfileTicks = null;
        double total = 0;
        var byOp = new Dictionary<string, double>();
        for (int k = 0; k < core.Kernels.Length; k++)
        {
            var n = core.Kernels[k].Node;
            double ms = all.Select(a => a[k]).Order().ElementAt(profileRuns / 2) * 1000.0 / Stopwatch.Frequency;
            total += ms;
            string key = n.OpType + (n.GetInt("group", 1) > 1 ? "(dw)" : "");
            byOp[key] = byOp.GetValueOrDefault(key) + ms;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{k,3} {key,-18} {ms,7:F3} ms  {n.Name}"));
        }

        Console.WriteLine(string.Join(", ", byOp.OrderByDescending(kv => kv.Value).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:F2}"))));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sum of kernel medians {total:F2} ms; pool stalls {(core.Pool is { } pool ? pool.Stalls : 0)}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model} threads {threads}: median {times[runs / 2]:F2} ms, min {times[0]:F2} ms, CPU {cpuMs:F2} ms per run ({runs} runs after {warmupSeconds:F0} s warm-up); load {CropAndClassifySplit.LoadAverage()}"));
        return 0;
    }
}
