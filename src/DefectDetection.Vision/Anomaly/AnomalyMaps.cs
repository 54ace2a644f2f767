using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Vision.Anomaly;

/// <summary>Map post-processing shared by the anomaly models: upsampling, smoothing, masks and regions.</summary>
internal static class AnomalyMaps
{
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
}
