using System.Diagnostics;
using System.Globalization;
using DefectDetection.Pipeline;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>
/// <c>crop-split [--threads 2] [--intra 1] [--runs 5] [--batch 64] [--kinds hog,mobilenetv2] [--sizes 64,224]</c>:
/// inspects the crop-and-classify board with each classifier and crop size, alternating the pipeline that cuts
/// regions straight into the classifier input ("direct") and the one that cuts 8-bit crop images first ("crops"),
/// and prints medians: whole-board wall time, ROIs/s, process CPU time, the pipeline's stage split (detection wall
/// time; cropping and classification summed over the parallel batches; with the direct path cropping is part of
/// classification) and the classification-only rate on pre-cut crops.
/// </summary>
public static class CropAndClassifySplit
{
    public static int Run(string[] args)
    {
        int threads = IntArg(args, "--threads", 2), intra = IntArg(args, "--intra", 1), runs = IntArg(args, "--runs", 5), batch = IntArg(args, "--batch", 64);
        string[] kinds = StringArg(args, "--kinds", "hog,mobilenetv2").Split(',');
        int[] sizes = [.. StringArg(args, "--sizes", "64,224").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
        Console.WriteLine($"threads={threads} intra-op={intra} runs={runs} batch={batch} cores={Environment.ProcessorCount} load={LoadAverage()}");
        Console.WriteLine("classifier   crop path     rois  board ms  rois/s  cpu ms  detect ms  crop ms(sum)  classify ms(sum)  classify-only crops/s (cpu-time based)");
        foreach (string k in kinds)
        {
            CropClassifierKind kind = k.Equals("hog", StringComparison.OrdinalIgnoreCase) ? CropClassifierKind.Hog : CropClassifierKind.MobileNetV2;
            foreach (int size in sizes)
            {
                using CropAndClassifyWorkload w = new(kind, size, threads, batch, intra);
                (string Name, DefectPipeline Pipeline)[] paths = [("direct", w.Pipeline), ("crops", w.CropPipeline)];
                foreach ((_, DefectPipeline p) in paths)
                {
                    p.Inspect(w.Board); // warm-up
                }

                w.Classifier.Classify(w.Crops);
                Dictionary<string, List<(StageTimings T, double Cpu)>> timings = paths.ToDictionary(p => p.Name, _ => new List<(StageTimings, double)>());
                List<(double Wall, double Cpu)> classifyOnly = [];
                for (int r = 0; r < runs; r++)
                {
                    foreach ((string name, DefectPipeline p) in paths)
                    {
                        TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                        StageTimings t = p.Inspect(w.Board).Timings;
                        timings[name].Add((t, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds));
                    }

                    TimeSpan c0 = Process.GetCurrentProcess().TotalProcessorTime;
                    long t0 = Stopwatch.GetTimestamp();
                    ClassifyParallel(w, threads, batch);
                    classifyOnly.Add((Stopwatch.GetElapsedTime(t0).TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds));
                }

                foreach ((string name, _) in paths)
                {
                    List<(StageTimings T, double Cpu)> m = timings[name];
                    double total = Median(m.Select(t => t.T.Total.TotalMilliseconds));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{kind,-12} {size,4} {name,-7} {w.Regions.Count,5} {total,9:F1} {w.Regions.Count / total * 1000,7:F0} {Median(m.Select(t => t.Cpu)),7:F0} {Median(m.Select(t => t.T.Detection.TotalMilliseconds)),10:F1} {Median(m.Select(t => t.T.Cropping.TotalMilliseconds)),13:F1} {Median(m.Select(t => t.T.Classification.TotalMilliseconds)),17:F1} {w.Crops.Length / Median(classifyOnly.Select(c => c.Wall)),10:F0} ({w.Crops.Length / Median(classifyOnly.Select(c => c.Cpu)) * threads:F0} on {threads} idle cores)"));
                }
            }
        }

        return 0;
    }

    /// <summary>Classification alone: the pre-cut crops in batches, <paramref name="threads"/> batches at once (as the pipeline runs them).</summary>
    public static int ClassifyParallel(CropAndClassifyWorkload w, int threads, int batch)
    {
        int batches = (w.Crops.Length + batch - 1) / batch, defects = 0;
        Parallel.For(0, batches, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
        {
            int start = b * batch, count = Math.Min(batch, w.Crops.Length - start);
            IReadOnlyList<CropVerdict> v = w.Classifier.Classify(new ArraySegment<DefectDetection.Imaging.ImageView>(w.Crops, start, count));
            Interlocked.Add(ref defects, v.Count(x => x.IsDefect));
        });
        return defects;
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] s = [.. values.Order()];
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    public static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";

    private static int IntArg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string StringArg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
