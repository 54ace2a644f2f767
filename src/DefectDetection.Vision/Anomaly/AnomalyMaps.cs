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

        int[] labels = new int[width * height];
        int[] stack = new int[width * height];
        int next = 0;
        double total = (double)width * height;
        for (int start = 0; start < labels.Length; start++)
        {
            if (mask[start] == 0 || labels[start] != 0)
            {
                continue;
            }

            next++;
            int top = 0, area = 0;
            int minX = int.MaxValue, minY = int.MaxValue, maxX = -1, maxY = -1;
            stack[top++] = start;
            labels[start] = next;
            while (top > 0)
            {
                int p = stack[--top];
                area++;
                int py = p / width, px = p - (py * width);
                minX = Math.Min(minX, px);
                maxX = Math.Max(maxX, px);
                minY = Math.Min(minY, py);
                maxY = Math.Max(maxY, py);
                for (int dy = -1; dy <= 1; dy++)
                {
                    int ny = py + dy;
                    if ((uint)ny >= (uint)height)
                    {
                        continue;
                    }

                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = px + dx;
                        if ((uint)nx >= (uint)width)
                        {
                            continue;
                        }

                        int q = (ny * width) + nx;
                        if (mask[q] != 0 && labels[q] == 0)
                        {
                            labels[q] = next;
                            stack[top++] = q;
                        }
                    }
                }
            }

            if (area >= minArea)
            {
                regions.Add(new AnomalyRegion(new Rectangle(minX, minY, maxX - minX + 1, maxY - minY + 1), area, 100.0 * area / total, label));
            }
        }

        regions.Sort((a, b) => b.Area.CompareTo(a.Area));
        return regions;
    }
}
