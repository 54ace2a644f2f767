using System.Diagnostics;
using System.Globalization;
using DefectDetection.Benchmarks.Imaging;
using DefectDetection.Onnx;
using DefectDetection.Vision.Backbones;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>
/// <c>crop-profile [--size 64] [--batch 32] [--threads 1]</c>: time per operator type of the MobileNetV2 int8 model
/// (input relaxed to the crop size) on the managed engine, from the session's per-kernel profile.
/// </summary>
public static class CropEngineProfile
{
    public static int Run(string[] args)
    {
        int Arg(string name, int fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }

        int size = Arg("--size", 64), batch = Arg("--batch", 32), threads = Arg("--threads", 1), runs = Arg("--runs", 5);
        byte[] bytes = File.ReadAllBytes(Path.Combine(JpegBenchmarkFiles.SharedRoot(), "models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx"));
        OnnxModel model = OnnxModel.Load(OnnxInputShapeRewriter.RelaxSpatialDimensions(bytes, "input") ?? bytes);
        using OnnxSession session = new(model, new OnnxSessionOptions { IntraOpThreads = threads });
        Random rng = new(1);
        OnnxTensor<float> input = new([batch, 3, size, size]);
        foreach (ref float v in input.Span)
        {
            v = (float)(rng.NextDouble() * 4 - 2);
        }

        Dictionary<string, OnnxTensor> feeds = new() { ["input"] = input };
        session.Run(feeds);
        long[] ticks = new long[session.Core.Kernels.Length];
        session.Core.ProfileTicks = ticks;
        long t0 = Stopwatch.GetTimestamp();
        for (int r = 0; r < runs; r++)
        {
            session.Run(feeds);
        }

        double total = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"size {size} batch {batch} threads {threads}: {total / runs:F1} ms per run, {batch * runs / total * 1000:F0} images/s; load {CropAndClassifySplit.LoadAverage()}"));
        foreach (var g in session.Core.Kernels.Select((k, i) => (k.Node.OpType, k.GetType().Name, Ticks: ticks[i]))
                     .GroupBy(x => (x.OpType, x.Name)).OrderByDescending(g => g.Sum(x => x.Ticks)))
        {
            double ms = Stopwatch.GetElapsedTime(0, g.Sum(x => x.Ticks)).TotalMilliseconds / runs;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {g.Key.OpType,-24} {g.Key.Name,-32} x{g.Count(),3} {ms,8:F2} ms {100 * ms / (total / runs),5:F1}%"));
        }

        return 0;
    }
}
