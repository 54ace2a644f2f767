using System.Diagnostics;
using System.Globalization;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>
/// <c>crop-engine [--size 64] [--rounds 3]</c>: the MobileNetV2 crop classifier alone on the board's pre-cut crops,
/// for backbone batch sizes and (intra-op threads x parallel batches) splits, alternated round by round; prints the
/// median crops/s of each setting.
/// </summary>
public static class CropEngineSweep
{
    public static int Run(string[] args)
    {
        int size = args.Length > 1 && args[0] == "--size" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        int rounds = 3;
        (int Batch, int Intra, int Outer)[] settings = [(1, 2, 1), (16, 2, 1), (64, 2, 1), (1, 1, 2), (16, 1, 2), (64, 1, 2)];
        Dictionary<(int, int, int), CropAndClassifyWorkload> workloads = [];
        foreach ((int b, int intra, int outer) in settings)
        {
            workloads[(b, intra, outer)] = new CropAndClassifyWorkload(CropClassifierKind.MobileNetV2, size, outer, b, intra);
        }

        Dictionary<(int, int, int), List<double>> rates = settings.ToDictionary(s => s, _ => new List<double>());
        Console.WriteLine($"size={size} load={CropAndClassifySplit.LoadAverage()}");
        for (int r = 0; r < rounds + 1; r++)
        {
            foreach ((int b, int intra, int outer) s in settings)
            {
                CropAndClassifyWorkload w = workloads[s];
                long t0 = Stopwatch.GetTimestamp();
                CropAndClassifySplit.ClassifyParallel(w, s.outer, s.b);
                double sec = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                if (r > 0)
                {
                    rates[s].Add(w.Crops.Length / sec);
                }
            }
        }

        foreach (var s in settings)
        {
            double[] v = [.. rates[s].Order()];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch {s.Batch,3} intra {s.Intra} outer {s.Outer}: {v[v.Length / 2],7:F0} crops/s"));
        }

        foreach (CropAndClassifyWorkload w in workloads.Values)
        {
            w.Dispose();
        }

        return 0;
    }
}
