using System.Diagnostics;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>
/// Steady-state time per run of the int8 MobileNetV2 after a long warm-up (every kernel past tiered compilation),
/// DEFECT_ONNX_PERF=1; batch and threads from DEFECT_ONNX_PERF_BATCH / DEFECT_ONNX_PERF_THREADS (1 / 1).
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class SessionSteadyState(ITestOutputHelper output)
{
    [PerfFact]
    public void MobileNetV2Int8SteadyState()
    {
        var (session, feeds) = PerfSession.MobileNetV2Int8();
        using var owned = session;
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 4)
        {
            session.Run(feeds);
        }

        var times = new List<double>();
        for (int r = 0; r < 40; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            session.Run(feeds);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }

        PerfSession.WriteKernelProfile(session, feeds, output);
        output.WriteLine($"batch {feeds["input"].Shape[0]}, threads {session.Options.IntraOpThreads}: median {times.Order().ElementAt(times.Count / 2):F2} ms, min {times.Min():F2} ms per run");
    }
}
