using System.Diagnostics;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>Median milliseconds per image at batch 1 (a quick Stopwatch figure; real benchmarks live elsewhere).</summary>
[Collection(PerfCollection.Name)]
public sealed class TimingReport(ITestOutputHelper output)
{
    [PerfFact]
    public void MedianMillisecondsPerImage()
    {
        foreach (int threads in new[] { 1, 2 })
        {
            Measure("mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx", "input", [1, 3, 224, 224], threads);
            Measure("mobilenetv2-int8", "mobilenetv2-int8-dynamic.onnx", "input", [1, 3, 224, 224], threads);
            Measure("yolox-nano", "yolox-nano.onnx", "images", [1, 3, 416, 416], threads);
        }
    }

    private void Measure(string folder, string file, string inputName, int[] shape, int threads)
    {
        using var session = new OnnxSession(SharedData.PathOf("models", folder, file), new OnnxSessionOptions { IntraOpThreads = threads });
        var input = new OnnxTensor<float>(shape);
        var rng = new Random(1);
        for (int i = 0; i < input.Length; i++)
        {
            input.Span[i] = (float)rng.NextDouble();
        }

        var feeds = new Dictionary<string, OnnxTensor> { [inputName] = input };
        for (int i = 0; i < 5; i++)
        {
            session.Run(feeds);
        }

        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 15 || (total.ElapsedMilliseconds < 3000 && times.Count < 200))
        {
            var sw = Stopwatch.StartNew();
            session.Run(feeds);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }

        times.Sort();

        // Process CPU time per image: on a loaded machine a steadier figure than wall time (for threads=1 it
        // approximates the uncontended single-thread time; for more threads it adds up all threads, spinning included).
        TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        for (int i = 0; i < 20; i++)
        {
            session.Run(feeds);
        }

        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / 20;
        output.WriteLine($"{file} threads={threads}: median {times[times.Count / 2]:F2} ms, min {times[0]:F2} ms ({times.Count} runs), CPU {cpuMs:F2} ms per image");
        var core = session.Core;
        core.ProfileTicks = new long[core.Kernels.Length];
        for (int i = 0; i < 10; i++)
        {
            session.Run(feeds);
        }

        var byOp = new Dictionary<string, double>();
        for (int k = 0; k < core.Kernels.Length; k++)
        {
            var n = core.Kernels[k].Node;
            string key = n.OpType + (n.OpType is "Conv" or "QLinearConv" ? (n.GetInt("group", 1) > 1 ? "(dw)" : "") : "");
            byOp[key] = byOp.GetValueOrDefault(key) + (core.ProfileTicks[k] * 1000.0 / Stopwatch.Frequency / 10);
        }

        output.WriteLine("  " + string.Join(", ", byOp.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:F2}")));
        core.ProfileTicks = null;
    }
}
