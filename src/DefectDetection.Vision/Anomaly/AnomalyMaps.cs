using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Pipeline;

namespace DefectDetection.Vision.Anomaly;

/// <summary>Map post-processing shared by the anomaly models: upsampling, smoothing, masks and regions.</summary>
internal static class AnomalyMaps
{
    /// <summary>
    /// The most pixels a map (and its mask) has: images larger than this (16.8 MP) get a map scaled down to fit, so a
    /// huge or absurdly shaped image cannot make gigabytes of intermediates.
    /// </summary>
    public const long MaxMapPixels = 1L << 24;

    /// <summary>The size of the map of a <paramref name="width"/> x <paramref name="height"/> image: the image's own up to <see cref="MaxMapPixels"/>, else scaled down to fit.</summary>
    public static (int Width, int Height) MapSize(int width, int height)
    {
        long pixels = (long)width * height;
        if (pixels <= MaxMapPixels)
        {
            return (width, height);
        }

        double f = Math.Sqrt((double)pixels / MaxMapPixels);
        int mh = Math.Clamp((int)Math.Floor(height / f), 1, height);
        int mw = (int)Math.Clamp(MaxMapPixels / mh, 1, width);
        return (mw, mh);
    }

    /// <summary>
    /// Patch grid -> bilinear to the network input size -> Gaussian smoothing (sigma in input pixels) -> bilinear to
    /// the image size.
    /// </summary>
    public static float[] ToImage(ReadOnlySpan<float> grid, int gridWidth, int gridHeight, int inputWidth, int inputHeight, float sigma, int width, int height)
    {
        float[] input = new float[inputWidth * inputHeight];
        ImageResizer.Resize(grid, gridWidth, gridHeight, input, inputWidth, inputHeight, ResizeMode.Bilinear);
        if (sigma > 0)
        {
            GaussianBlur.Apply(input, inputWidth, inputHeight, input, sigma);
        }

        if (width == inputWidth && height == inputHeight)
        {
            return input;
        }

        float[] map = new float[width * height];
        ImageResizer.Resize(input, inputWidth, inputHeight, map, width, height, ResizeMode.Bilinear);
        return map;
    }

    /// <summary>255 where map &gt;= threshold.</summary>
    public static byte[] Mask(ReadOnlySpan<float> map, float threshold)
    {
        byte[] mask = new byte[map.Length];
        for (int i = 0; i < map.Length; i++)
        {
            mask[i] = map[i] >= threshold ? (byte)255 : (byte)0;
        }

        return mask;
    }

    /// <summary>8-connected regions of the non-zero mask pixels with at least <paramref name="minArea"/> pixels, largest first.</summary>
    public static List<AnomalyRegion> Regions(ReadOnlySpan<byte> mask, int width, int height, int minArea, string label)
    {
        var regions = new List<AnomalyRegion>();
        if (mask.Length < (long)width * height)
        {
            throw new ArgumentException($"The mask holds {mask.Length} values, fewer than {width}x{height}.", nameof(mask));
        }

        double total = (double)width * height;
        int[] labels = new int[width * height];
        foreach (ConnectedComponent c in ConnectedComponents.Label(mask[..(width * height)], width, height, labels))
        {
            if (c.Area >= minArea)
            {
                regions.Add(new AnomalyRegion(c.Bounds, c.Area, 100.0 * c.Area / total, label));
            }
        }

        regions.Sort((a, b) => b.Area.CompareTo(a.Area));
        return regions;
    }

    /// <summary>
    /// The prediction of an anomaly model: the verdict, the map and mask at the image's size, and each region as a
    /// located defect whose confidence is that of the region's peak map value (most confident first).
    /// </summary>
    public static DefectPrediction ToPrediction(double score, double threshold, double confidenceScale, float[] map, byte[] mask, int width, int height, List<AnomalyRegion> regions,
        int imageWidth, int imageHeight)
    {
        double sx = (double)imageWidth / width, sy = (double)imageHeight / height;
        float confidence = AnomalyThreshold.Confidence(score, threshold, confidenceScale);
        Defect[] defects = new Defect[regions.Count];
        for (int r = 0; r < regions.Count; r++)
        {
            AnomalyRegion region = regions[r];
            float peak = float.NegativeInfinity;
            Rectangle b = region.Bounds;
            for (int y = b.Y; y < b.Y + b.Height; y++)
            {
                for (int x = b.X; x < b.X + b.Width; x++)
                {
                    int i = (y * width) + x;
                    if (mask[i] != 0 && map[i] > peak)
                    {
                        peak = map[i];
                    }
                }
            }

            float c = float.IsFinite(peak) ? AnomalyThreshold.Confidence(peak, threshold, confidenceScale) : confidence;
            Rectangle box = width == imageWidth && height == imageHeight ? b : Rectangle.FromEdges(
                (int)Math.Floor(b.X * sx), (int)Math.Floor(b.Y * sy),
                Math.Min(imageWidth, (int)Math.Ceiling((b.X + b.Width) * sx)), Math.Min(imageHeight, (int)Math.Ceiling((b.Y + b.Height) * sy)));
            defects[r] = new Defect(box, region.Label, c) { Area = (int)Math.Min(int.MaxValue, Math.Round(region.Area * sx * sy)) };
        }

        Array.Sort(defects, (a, b) => a.Confidence != b.Confidence ? b.Confidence.CompareTo(a.Confidence) : b.Area.CompareTo(a.Area));
        bool isDefect = score >= threshold;
        return new DefectPrediction
        {
            ImageWidth = imageWidth,
            ImageHeight = imageHeight,
            IsDefect = isDefect,
            Label = isDefect ? "anomaly" : "normal",
            LabelScores = ModelContract.AnomalyLabelScores(confidence),
            Score = score,
            Threshold = threshold,
            Confidence = confidence,
            AnomalyMap = new AnomalyMap(map, width, height) { ScaleX = sx, ScaleY = sy },
            Mask = mask,
            Defects = defects,
        };
    }

    /// <summary>The crop verdict of a prediction (the pipeline's view of an anomaly model).</summary>
    public static CropVerdict ToVerdict(DefectPrediction p) =>
        new(p.Label, p.IsDefect, p.Confidence, (float)p.Score)
        {
            AnomalyMap = p.AnomalyMap?.Values,
            AnomalyMapWidth = p.AnomalyMap?.Width ?? 0,
            AnomalyMapHeight = p.AnomalyMap?.Height ?? 0,
            LocalizedDefects = p.Defects,
        };
}
