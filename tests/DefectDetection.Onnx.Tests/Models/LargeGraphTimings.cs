using System.Diagnostics;
using DefectDetection.Onnx.Tests.Helpers;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>Load, session creation and first-run times of long generated chains (a Stopwatch figure for the report).</summary>
[Collection(PerfCollection.Name)]
public sealed class LargeGraphTimings(ITestOutputHelper output)
{
    [PerfFact]
    public void LoadTimesOfLongChains()
    {
        foreach (int nodes in new[] { 10_000, 40_000, 80_000, 200_000 })
        {
            byte[] bytes = LongChain.Build(nodes);
            var sw = Stopwatch.StartNew();
            OnnxModel model = OnnxModel.Load(bytes);
            double load = sw.Elapsed.TotalSeconds;
            sw.Restart();
            using var session = new OnnxSession(model, new OnnxSessionOptions { IntraOpThreads = 1 });
            double create = sw.Elapsed.TotalSeconds;
            sw.Restart();
            session.RunFloats(("x", new OnnxTensor<float>([1, -2, 3, 0], [4])));
            double first = sw.Elapsed.TotalSeconds;
            output.WriteLine($"{nodes,7} nodes: load {load:F2} s, session {create:F2} s, first run {first:F2} s, total {load + create + first:F2} s");
        }
    }
}
