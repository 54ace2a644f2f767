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

        double total = PerfSession.WriteKernelProfile(session, feeds, output);
        output.WriteLine($"pool stalls: {(session.Core.Pool is { } pool ? pool.Stalls : 0)}");
        output.WriteLine($"sum of medians {total:F2} ms (batch {feeds["input"].Shape[0]}, threads {session.Options.IntraOpThreads})");
    }
}
