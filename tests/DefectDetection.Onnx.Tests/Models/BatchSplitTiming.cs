using System.Diagnostics;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>
/// Batch parallelism on and off (DEFECT_ONNX_PERF=1): median ms per call of the two sessions, alternated call by call
/// in one process so that machine load hits both alike. DEFECT_ONNX_PERF_THREADS sets the threads (default 2).
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class BatchSplitTiming(ITestOutputHelper output)
{
    [PerfFact]
    public void SplitAgainstUnsplit()
    {
        int threads = int.TryParse(Environment.GetEnvironmentVariable("DEFECT_ONNX_PERF_THREADS"), out int t) ? t : 2;
        output.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        Measure("mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx", "input", [16, 3, 224, 224], threads);
        Measure("mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx", "input", [16, 3, 64, 64], threads);
        Measure("mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx", "input", [3, 3, 64, 64], threads);
        Measure("yolox-nano", "yolox-nano.onnx", "images", [2, 3, 416, 416], threads);
        Measure("yolox-nano", "yolox-nano.onnx", "images", [4, 3, 416, 416], threads);
        output.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private void Measure(string folder, string file, string inputName, int[] shape, int threads)
    {
        // The shared models fix their input shapes (batch 1 for YOLOX, 224 for MobileNetV2): free them.
        var proto = DefectDetection.Onnx.Model.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(SharedData.PathOf("models", folder, file)));
        foreach (var dim in proto.Graph.Input.SelectMany(i => i.Type.TensorType.Shape.Dim))
        {
            dim.DimParam = "dynamic";
        }

        OnnxModel model = OnnxModel.Load(Google.Protobuf.MessageExtensions.ToByteArray(proto), Path.GetDirectoryName(SharedData.PathOf("models", folder, file)));
        using var split = new OnnxSession(model, new OnnxSessionOptions { IntraOpThreads = threads });
        using var items = new OnnxSession(model, new OnnxSessionOptions { IntraOpThreads = threads });
        using var whole = new OnnxSession(model, new OnnxSessionOptions { IntraOpThreads = threads, BatchParallelism = BatchParallelism.Off });
        split.Core.MinSplitEfficiency = 0;
        items.Core.MinSplitEfficiency = 0;
        items.Core.SliceBudgetBytes = 1; // one item per slice
        var input = new OnnxTensor<float>(shape);
        var rng = new Random(1);
        for (int i = 0; i < input.Length; i++)
        {
            input.Span[i] = (float)rng.NextDouble();
        }

        var feeds = new Dictionary<string, OnnxTensor> { [inputName] = input };
        try
        {
            split.Run(feeds);
            items.Run(feeds);
        }
        catch (OnnxModelException e)
        {
            output.WriteLine($"{file} [{string.Join(",", shape)}]: {e.Message}");
            return;
        }

        var plan = split.Core.SplitFor(shape);
        string decision = plan is null ? "not considered" : plan.Separable
            ? $"split {string.Join("+", plan.Counts)}, {(plan.Plans[0].ArenaBytes + plan.Plans[0].ScratchBytes) / 1024} KiB per slice"
            : "not split: " + plan.Reason;
        OnnxSession[] sessions = [split, items, whole];
        for (int i = 0; i < 3; i++)
        {
            foreach (OnnxSession s in sessions)
            {
                s.Run(feeds);
            }
        }

        // After the warm-up (the first planned call of a shape allocates its frames).
        long[] allocated = sessions.Select(s =>
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            s.Run(feeds);
            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }).ToArray();

        var times = sessions.Select(_ => new List<double>()).ToArray();
        var cpu = new double[sessions.Length];
        var total = Stopwatch.StartNew();
        using var process = Process.GetCurrentProcess();
        while (times[0].Count < 20 || (total.ElapsedMilliseconds < 20000 && times[0].Count < 60))
        {
            for (int k = 0; k < sessions.Length; k++)
            {
                process.Refresh();
                TimeSpan cpu0 = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                sessions[k].Run(feeds);
                times[k].Add(sw.Elapsed.TotalMilliseconds);
                process.Refresh();
                cpu[k] += (process.TotalProcessorTime - cpu0).TotalMilliseconds;
            }
        }

        double[] med = times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
        output.WriteLine($"{file} [{string.Join(",", shape)}] threads={threads} ({decision}): split {med[0]:F2} ms ({med[0] / shape[0]:F2}/item), " +
            $"one-item slices {med[1]:F2} ms, unsplit {med[2]:F2} ms ({med[2] / shape[0]:F2}/item), unsplit/split {med[2] / med[0]:F2}, unsplit/one-item {med[2] / med[1]:F2} ({times[0].Count} runs each)");

        // On a loaded machine wall times mostly measure the other processes; the minimum and the CPU time per call
        // (all threads of this process, spinning included) are steadier.
        output.WriteLine($"  min ms: {string.Join(", ", times.Select(t => t.Min().ToString("F2")))}; CPU ms per call: {string.Join(", ", cpu.Select(c => (c / times[0].Count).ToString("F2")))} (split, one-item slices, unsplit); " +
            $"bytes allocated per call (all threads): {string.Join(", ", allocated)}");
    }
}
