using System.Numerics.Tensors;
using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Heat maps: colouring a float map (an anomaly map, a score grid) through a <see cref="ColorMap"/>, blending it
/// over an image, and outlining a binary mask. Maps are row-major spans of width x height values.
/// </summary>
public static class HeatMap
{
    /// <summary>
    /// Colours <paramref name="map"/> into an RGB image of the same size. Values map linearly from
    /// [<paramref name="min"/>, <paramref name="max"/>] to the 256 table entries (rounded, clamped; NaN takes the first).
    /// </summary>
    /// <param name="map">The values, width x height.</param>
    /// <param name="width">Map width.</param>
    /// <param name="height">Map height.</param>
    /// <param name="colorMap">The colour map. Default: <see cref="ColorMap.Jet"/>.</param>
    /// <param name="min">The value of the first colour; null takes the map's minimum.</param>
    /// <param name="max">The value of the last colour; null takes the map's maximum.</param>
    public static Image Colorize(ReadOnlySpan<float> map, int width, int height, ColorMap colorMap = ColorMap.Jet, float? min = null, float? max = null)
    {
        CheckMap(map, width, height);
        ReadOnlySpan<byte> table = ColorMapTables.Get(colorMap);
        (float lo, float hi) = Range(map.Slice(0, width * height), min, max);
        Image result = Image.CreateUninitialized(width, height, PixelFormat.Rgb24);
        byte[] indices = PixelBufferPool.Rent<byte>(width);
        float[] scratch = PixelBufferPool.Rent<float>(width);
        try
        {
            for (int y = 0; y < height; y++)
            {
                ToIndices(map.Slice(y * width, width), lo, hi, scratch.AsSpan(0, width), indices.AsSpan(0, width));
                Span<byte> row = result.GetRow(y);
                for (int x = 0; x < width; x++)
                {
                    table.Slice(indices[x] * 3, 3).CopyTo(row.Slice(x * 3));
                }
            }

            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            PixelBufferPool.Return(indices);
            PixelBufferPool.Return(scratch);
        }
    }

    /// <summary>
    /// Blends a coloured float map over <paramref name="image"/> and returns an RGB image of the image's size. The
    /// map (any size) is resized bilinearly (half-pixel centres) to the image; gray images are shown as RGB and
    /// RGBA images lose their alpha. Each channel is <c>(1 - Opacity) image + Opacity heat</c>, rounded.
    /// </summary>
    /// <param name="image">The image shown under the heat.</param>
    /// <param name="map">The values, mapWidth x mapHeight.</param>
    /// <param name="mapWidth">Map width.</param>
    /// <param name="mapHeight">Map height.</param>
    /// <param name="options">Colour map, range and opacity; null for the defaults.</param>
    public static Image Overlay(ImageView image, ReadOnlySpan<float> map, int mapWidth, int mapHeight, HeatMapOptions? options = null)
    {
        options ??= new HeatMapOptions();
        CheckMap(map, mapWidth, mapHeight);
        if (!(options.Opacity >= 0 && options.Opacity <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Opacity must be in [0, 1], got {options.Opacity}.");
        }

        ReadOnlySpan<byte> table = ColorMapTables.Get(options.ColorMap);
        (float lo, float hi) = Range(map.Slice(0, mapWidth * mapHeight), options.Min, options.Max);
        int w = image.Width, h = image.Height, ch = image.Channels;
        int alpha = (int)Math.Round(options.Opacity * 256);
        float[] resized = PixelBufferPool.Rent<float>(checked(w * h));
        byte[] indices = PixelBufferPool.Rent<byte>(w);
        float[] scratch = PixelBufferPool.Rent<float>(w);
        Image result = Image.CreateUninitialized(w, h, PixelFormat.Rgb24);
        try
        {
            ImageResizer.Resize(map, mapWidth, mapHeight, resized, w, h, ResizeMode.Bilinear);
            for (int y = 0; y < h; y++)
            {
                ToIndices(resized.AsSpan(y * w, w), lo, hi, scratch.AsSpan(0, w), indices.AsSpan(0, w));
                ReadOnlySpan<byte> src = image.GetRow(y);
                Span<byte> dst = result.GetRow(y);
                for (int x = 0; x < w; x++)
                {
                    ReadOnlySpan<byte> heat = table.Slice(indices[x] * 3, 3);
                    for (int c = 0; c < 3; c++)
                    {
                        int under = src[(x * ch) + (ch == 1 ? 0 : c)];
                        dst[(x * 3) + c] = (byte)(((under * (256 - alpha)) + (heat[c] * alpha) + 128) >> 8);
                    }
                }
            }

            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            PixelBufferPool.Return(resized);
            PixelBufferPool.Return(indices);
            PixelBufferPool.Return(scratch);
        }
    }

    /// <summary>
    /// Draws the outline of a binary mask (non-zero = inside) on <paramref name="image"/>: the inside pixels with
    /// an outside 4-neighbour or on the image edge. A mask of another size is scaled to the image by nearest
    /// neighbour (pixel centres).
    /// </summary>
    /// <param name="image">The image to draw on.</param>
    /// <param name="mask">The mask, maskWidth x maskHeight bytes.</param>
    /// <param name="maskWidth">Mask width.</param>
    /// <param name="maskHeight">Mask height.</param>
    /// <param name="color">The outline colour.</param>
    /// <param name="thickness">Outline width: each outline pixel is stamped as a square this wide. Default: 1.</param>
    public static void DrawContour(Image image, ReadOnlySpan<byte> mask, int maskWidth, int maskHeight, Color color, int thickness = 1)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(thickness, 1);
        if (maskWidth <= 0 || maskHeight <= 0 || mask.Length < (long)maskWidth * maskHeight)
        {
            throw new ArgumentException($"The mask must hold {maskWidth}x{maskHeight} bytes.", nameof(mask));
        }

        int w = image.Width, h = image.Height;
        int[] mx = PixelBufferPool.Rent<int>(w);
        int[] my = PixelBufferPool.Rent<int>(h);
        try
        {
            for (int x = 0; x < w; x++)
            {
                mx[x] = Math.Min(maskWidth - 1, (int)(((x + 0.5) * maskWidth) / w));
            }

            for (int y = 0; y < h; y++)
            {
                my[y] = Math.Min(maskHeight - 1, (int)(((y + 0.5) * maskHeight) / h));
            }

            bool Inside(ReadOnlySpan<byte> m, int x, int y) =>
                (uint)x < (uint)w && (uint)y < (uint)h && m[(my[y] * maskWidth) + mx[x]] != 0;

            // Collect first, then draw, so that thick stamps never change what counts as an edge.
            var edge = new List<(int X, int Y)>();
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    if (Inside(mask, x, y) && (!Inside(mask, x - 1, y) || !Inside(mask, x + 1, y) || !Inside(mask, x, y - 1) || !Inside(mask, x, y + 1)))
                    {
                        edge.Add((x, y));
                    }
                }
            }

            int half = (thickness - 1) / 2;
            foreach ((int x, int y) in edge)
            {
                Drawing.FillRectangle(image, new Rectangle(x - half, y - half, thickness, thickness), color);
            }
        }
        finally
        {
            PixelBufferPool.Return(mx);
            PixelBufferPool.Return(my);
        }
    }

    /// <summary>Table indices: round((v - lo) / (hi - lo) x 255), clamped; NaN gives 0.</summary>
    internal static void ToIndices(ReadOnlySpan<float> values, float lo, float hi, Span<float> scratch, Span<byte> indices)
    {
        float scale = 255f / (hi - lo);
        TensorPrimitives.Subtract(values, lo, scratch);
        TensorPrimitives.Multiply(scratch, scale, scratch);
        for (int i = 0; i < values.Length; i++)
        {
            float v = scratch[i];
            indices[i] = v >= 0 ? (byte)Math.Min(255f, v + 0.5f) : (byte)0;
        }
    }

    private static (float Lo, float Hi) Range(ReadOnlySpan<float> map, float? min, float? max)
    {
        float lo = min ?? MinIgnoringNaN(map);
        float hi = max ?? MaxIgnoringNaN(map);
        if (!float.IsFinite(lo) || !float.IsFinite(hi))
        {
            lo = 0;
            hi = 1;
        }

        if (hi <= lo)
        {
            hi = lo + 1;
        }

        return (lo, hi);
    }

    private static float MinIgnoringNaN(ReadOnlySpan<float> map)
    {
        float m = TensorPrimitives.MinNumber(map);
        return float.IsNaN(m) ? 0 : m;
    }

    private static float MaxIgnoringNaN(ReadOnlySpan<float> map)
    {
        float m = TensorPrimitives.MaxNumber(map);
        return float.IsNaN(m) ? 0 : m;
    }

    private static void CheckMap(ReadOnlySpan<float> map, int width, int height)
    {
        if (width <= 0 || height <= 0 || map.Length < (long)width * height)
        {
            throw new ArgumentException($"The map must hold {width}x{height} values (it holds {map.Length}).", nameof(map));
        }
    }
}
