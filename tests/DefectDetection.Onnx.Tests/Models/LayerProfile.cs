using System.Diagnostics;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>Per-node profile of the int8 MobileNetV2 (DEFECT_ONNX_PERF=1): ms per call for each kernel, with its output shape.</summary>
[Collection(PerfCollection.Name)]
public sealed class LayerProfile(ITestOutputHelper output)
{
    [PerfFact]
    public void MobileNetV2Int8PerLayer()
    {
        var (session, feeds) = PerfSession.MobileNetV2Int8();
        using var owned = session;
        for (int i = 0; i < 5; i++)
        {
            session.Run(feeds);
        }

        var core = session.Core;
        const int Runs = 30;
        var all = new long[Runs][];
        for (int r = 0; r < Runs; r++)
        {
            core.ProfileTicks = new long[core.Kernels.Length];
            session.Run(feeds);
            all[r] = core.ProfileTicks;
        }

        core.ProfileTicks = null;
        output.WriteLine($"pool stalls: {(session.Core.Pool is { } pool ? pool.Stalls : 0)}");
        double total = 0;
        var byOp = new Dictionary<string, double>();
        for (int k = 0; k < core.Kernels.Length; k++)
        {
            var n = core.Kernels[k].Node;
            double ms = all.Select(a => a[k]).Order().ElementAt(Runs / 2) * 1000.0 / Stopwatch.Frequency;
            total += ms;
            string key = n.OpType + (n.GetInt("group", 1) > 1 ? "(dw)" : "");
            byOp[key] = byOp.GetValueOrDefault(key) + ms;
            output.WriteLine($"{k,3} {key,-18} {ms,7:F3} ms  {n.Name}");
        }

        output.WriteLine($"sum of medians {total:F2} ms (batch {feeds["input"].Shape[0]}, threads {session.Options.IntraOpThreads})");
        output.WriteLine(string.Join(", ", byOp.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:F2}")));
    }
}
