namespace DefectDetection.Imaging.Processing;

/// <summary>A connected region of a binary mask.</summary>
/// <param name="Label">The region's label in the label map (1-based).</param>
/// <param name="Bounds">The smallest rectangle holding the region.</param>
/// <param name="Area">Number of pixels in the region.</param>
public readonly record struct ConnectedComponent(int Label, Rectangle Bounds, int Area);

/// <summary>Labels the 8-connected regions of non-zero pixels of a mask (anomaly masks, difference masks).</summary>
public static class ConnectedComponents
{
    /// <summary>Labels every 8-connected region of non-zero pixels.</summary>
    /// <param name="mask">Row-major mask, <paramref name="width"/> x <paramref name="height"/>; non-zero is foreground.</param>
    /// <param name="width">Mask width.</param>
    /// <param name="height">Mask height.</param>
    /// <param name="labels">Receives each pixel's region label (1-based, in scan order of first pixels), 0 for background.</param>
    /// <returns>The regions, in label order.</returns>
    public static List<ConnectedComponent> Label(ReadOnlySpan<byte> mask, int width, int height, Span<int> labels)
    {
        if (width <= 0 || height <= 0 || mask.Length != width * height || labels.Length != mask.Length)
        {
            throw new ArgumentException($"Mask and labels must both hold {width}x{height} values (got {mask.Length} and {labels.Length}).");
        }

        labels.Clear();
        List<ConnectedComponent> components = [];
        int[] stack = Memory.PixelBufferPool.Rent<int>(mask.Length);
        try
        {
            for (int start = 0; start < mask.Length; start++)
            {
                if (mask[start] == 0 || labels[start] != 0)
                {
                    continue;
                }

                int id = components.Count + 1;
                int top = 0, area = 0;
                int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
                stack[top++] = start;
                labels[start] = id;
                while (top > 0)
                {
                    int p = stack[--top];
                    int py = p / width, px = p - (py * width);
                    area++;
                    x0 = Math.Min(x0, px);
                    x1 = Math.Max(x1, px);
                    y0 = Math.Min(y0, py);
                    y1 = Math.Max(y1, py);
                    for (int ny = Math.Max(0, py - 1); ny <= Math.Min(height - 1, py + 1); ny++)
                    {
                        for (int nx = Math.Max(0, px - 1); nx <= Math.Min(width - 1, px + 1); nx++)
                        {
                            int q = (ny * width) + nx;
                            if (mask[q] != 0 && labels[q] == 0)
                            {
                                labels[q] = id;
                                stack[top++] = q;
                            }
                        }
                    }
                }

                components.Add(new ConnectedComponent(id, Rectangle.FromEdges(x0, y0, x1 + 1, y1 + 1), area));
            }
        }
        finally
        {
            Memory.PixelBufferPool.Return(stack);
        }

        return components;
    }
}
