using System.Diagnostics;
using System.Globalization;
using DefectDetection.Pipeline;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>
/// <c>crop-split [--threads N] [--runs N] [--batch N] [--kinds hog,mobilenetv2] [--sizes 64,224]</c>: inspects the
/// crop-and-classify board with each classifier and crop size and prints the median whole-board time, ROIs/s, the
/// pipeline's stage split (detection wall time; cropping and classification summed over the parallel batches) and
/// the classification-only rate on pre-cut crops.
/// </summary>
public static class CropAndClassifySplit
{
    public static int Run(string[] args)
    {
        int threads = IntArg(args, "--threads", 2), runs = IntArg(args, "--runs", 5), batch = IntArg(args, "--batch", 64);
        string[] kinds = StringArg(args, "--kinds", "hog,mobilenetv2").Split(',');
        int[] sizes = [.. StringArg(args, "--sizes", "64,224").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
        Console.WriteLine($"threads={threads} runs={runs} batch={batch} cores={Environment.ProcessorCount} load={LoadAverage()}");
        Console.WriteLine("classifier    crop  rois  board ms  rois/s   detect ms  crop ms(sum)  classify ms(sum)  classify-only crops/s");
        foreach (string k in kinds)
        {
            CropClassifierKind kind = k.Equals("hog", StringComparison.OrdinalIgnoreCase) ? CropClassifierKind.Hog : CropClassifierKind.MobileNetV2;
            foreach (int size in sizes)
            {
                using CropAndClassifyWorkload w = new(kind, size, threads, batch);
                w.Pipeline.Inspect(w.Board); // warm-up
                w.Classifier.Classify(w.Crops);
                List<StageTimings> timings = [];
                List<double> classifyOnly = [];
                for (int r = 0; r < runs; r++)
                {
                    timings.Add(w.Pipeline.Inspect(w.Board).Timings);
                    long t0 = Stopwatch.GetTimestamp();
                    ClassifyParallel(w, threads, batch);
                    classifyOnly.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }

                double total = Median(timings.Select(t => t.Total.TotalMilliseconds));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{kind,-12} {size,5} {w.Regions.Count,5} {total,9:F1} {w.Regions.Count / total * 1000,7:F0} {Median(timings.Select(t => t.Detection.TotalMilliseconds)),11:F1} {Median(timings.Select(t => t.Cropping.TotalMilliseconds)),13:F1} {Median(timings.Select(t => t.Classification.TotalMilliseconds)),17:F1} {w.Crops.Length / Median(classifyOnly),22:F0}"));
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

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";

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
