using System.Diagnostics;
using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>
/// <c>crop-huge [--width 20000] [--height 15000] [--budget 16000000] [--detector difference|window]</c>: inspects one
/// large generated gray image (a periodic pad pattern with some defects) against its golden copy, tile by tile within
/// the pixel budget (0: whole image at once), and prints the time, the regions and defects found, the managed bytes
/// allocated and the process's peak working set. Run once per budget: the peak is per process.
/// </summary>
public static class LargeImageDemo
{
    public static int Run(string[] args)
    {
        int Arg(string name, int fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }

        int width = Arg("--width", 20000), height = Arg("--height", 15000), budget = Arg("--budget", 16_000_000);
        bool window = Array.IndexOf(args, "window") >= 0;
        using Image golden = Pattern(width, height, defects: false);
        using Image test = Pattern(width, height, defects: true);
        IRoiDetector detector = window
            ? new SlidingWindowRoiDetector(new SlidingWindowOptions { TileWidth = 256, TileHeight = 256, Overlap = 0.25 })
            : new TemplateDifferenceRoiDetector(golden, new TemplateDifferenceOptions { MaxShift = 1 });
        DefectPipeline pipeline = new(detector, new DarkCentre(), new DefectPipelineOptions
        {
            MaxDetectionPixels = budget == 0 ? long.MaxValue : budget,
            ContextMargin = 4,
        });
        long before = GC.GetTotalAllocatedBytes(precise: true);
        long t0 = Stopwatch.GetTimestamp();
        InspectionResult result = pipeline.Inspect(test);
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{width}x{height} gray ({(long)width * height / 1e6:F0} MP, float copy {4.0 * width * height / 1e9:F2} GB), detector {(window ? "sliding window" : "template difference")}, budget {(budget == 0 ? "none (whole image)" : budget.ToString("N0", CultureInfo.InvariantCulture) + " px")}: " +
            $"{seconds:F1} s (detect {result.Timings.Detection.TotalSeconds:F1} s), {result.Regions.Count} regions, {result.Defects.Count} defects, " +
            $"managed allocations {allocated / 1e6:F0} MB, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB (images themselves {2.0 * width * height / 1e6:F0} MB); load {CropAndClassifySplit.LoadAverage()}"));
        return 0;
    }

    // Dark mask with bright 12x12 pads every 40 px; the defective copy has 200 7x7 specks, alternately bright and dark.
    private static Image Pattern(int width, int height, bool defects)
    {
        Image image = Image.Create(width, height, PixelFormat.Gray8);
        Random rng = new(17);
        for (int y = 0; y < height; y++)
        {
            Span<byte> row = image.GetRow(y);
            bool padRow = y % 40 is >= 14 and < 26;
            for (int x = 0; x < width; x++)
            {
                row[x] = padRow && x % 40 is >= 14 and < 26 ? (byte)200 : (byte)40;
            }
        }

        if (defects)
        {
            for (int i = 0; i < 200; i++)
            {
                int cx = rng.Next(8, width - 8), cy = rng.Next(8, height - 8);
                for (int y = cy - 3; y <= cy + 3; y++)
                {
                    image.GetRow(y).Slice(cx - 3, 7).Fill(i % 2 == 0 ? (byte)255 : (byte)0);
                }
            }
        }

        return image;
    }

    private sealed class DarkCentre : ICropClassifier
    {
        public CropSize? InputSize => new CropSize(16, 16);

        public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default) =>
            [.. crops.Select(c => c.GetRow(8)[8] > 128 ? new CropVerdict("speck", true, 0.9f, 1) : new CropVerdict("ok", false, 0.1f, 0))];
    }
}
