using System.Diagnostics;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>The int8 MobileNetV2 session and input the per-layer timing reports share.</summary>
internal static class PerfSession
{
    /// <summary>
    /// A session on mobilenetv2-int8-qdq with batch and threads from DEFECT_ONNX_PERF_BATCH / DEFECT_ONNX_PERF_THREADS
    /// (default 1 / 1), and a deterministic random input of that batch.
    /// </summary>
    internal static (OnnxSession Session, Dictionary<string, OnnxTensor> Feeds) MobileNetV2Int8()
    {
        int batch = int.TryParse(Environment.GetEnvironmentVariable("DEFECT_ONNX_PERF_BATCH"), out int b) ? b : 1;
        int threads = int.TryParse(Environment.GetEnvironmentVariable("DEFECT_ONNX_PERF_THREADS"), out int t) ? t : 1;
        var session = new OnnxSession(SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx"), new OnnxSessionOptions { IntraOpThreads = threads });
        var input = new OnnxTensor<float>([batch, 3, 224, 224]);
        var rng = new Random(1);
        for (int i = 0; i < input.Length; i++)
        {
            input.Span[i] = (float)rng.NextDouble();
        }

        return (session, new Dictionary<string, OnnxTensor> { ["input"] = input });
    }

    /// <summary>
    /// Profiles <paramref name="runs"/> runs kernel by kernel and writes each kernel's median time with its operator
    /// ("(dw)" for grouped convolutions) and node name, then the totals per operator; returns the sum of the medians.
    /// </summary>
    internal static double WriteKernelProfile(OnnxSession session, Dictionary<string, OnnxTensor> feeds, ITestOutputHelper output, int runs = 30)
    {
        var core = session.Core;
        var all = new long[runs][];
        for (int r = 0; r < runs; r++)
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
            double ms = all.Select(a => a[k]).Order().ElementAt(runs / 2) * 1000.0 / Stopwatch.Frequency;
            total += ms;
            string key = n.OpType + (n.GetInt("group", 1) > 1 ? "(dw)" : "");
            byOp[key] = byOp.GetValueOrDefault(key) + ms;
            output.WriteLine($"{k,3} {key,-18} {ms,7:F3} ms  {n.Name}");
        }

        output.WriteLine(string.Join(", ", byOp.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:F2}")));
        return total;
    }
}
