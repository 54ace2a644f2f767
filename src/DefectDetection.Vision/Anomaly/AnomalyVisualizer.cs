using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Vision.Anomaly;

/// <summary>Pictures of anomaly predictions: heat-map overlays and Lookout for Vision style label masks.</summary>
public static class AnomalyVisualizer
{
    /// <summary>
    /// The image with the colour-mapped anomaly map blended over it (range: map minimum to the larger of the map maximum
    /// and twice the threshold), the mask contours in white and the region boxes in red.
    /// </summary>
    /// <param name="image">The scored image.</param>
    /// <param name="prediction">Its prediction (same size).</param>
    /// <param name="opacity">Heat opacity, 0..1. Default 0.45.</param>
    /// <returns>A new RGB image.</returns>
    public static Image Overlay(ImageView image, AnomalyPrediction prediction, float opacity = 0.45f)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        if (image.Width != prediction.Width || image.Height != prediction.Height)
        {
            throw new ArgumentException($"The image is {image.Width}x{image.Height} but the prediction {prediction.Width}x{prediction.Height}.", nameof(prediction));
        }

        float min = System.Numerics.Tensors.TensorPrimitives.Min(prediction.Map);
        float max = Math.Max(System.Numerics.Tensors.TensorPrimitives.Max(prediction.Map), (float)(2 * prediction.Threshold));
        Image result = HeatMap.Overlay(image, prediction.Map, prediction.Width, prediction.Height,
            new HeatMapOptions { Min = min, Max = max > min ? max : min + 1, Opacity = opacity });
        HeatMap.DrawContour(result, prediction.Mask, prediction.Width, prediction.Height, Color.White, 2);
        foreach (AnomalyRegion region in prediction.Regions)
        {
            Drawing.DrawRectangle(result, region.Bounds, Color.Red, 2);
        }

        return result;
    }

    /// <summary>
    /// The Lookout for Vision style mask: black background, anomalous pixels in the label's colour (for the variation
    /// model, bright and dark regions in <paramref name="color"/> and <paramref name="darkColor"/>).
    /// </summary>
    /// <param name="prediction">The prediction.</param>
    /// <param name="color">The label colour (e.g. #23A436 for the cookie dataset's "cracked").</param>
    /// <param name="darkColor">Colour of "dark" regions; null: <paramref name="color"/>.</param>
    /// <returns>A new RGB image of the prediction's size.</returns>
    public static Image LookoutMask(AnomalyPrediction prediction, Color color, Color? darkColor = null)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        Image result = Image.Create(prediction.Width, prediction.Height, PixelFormat.Rgb24);
        Color dark = darkColor ?? color;
        for (int y = 0; y < prediction.Height; y++)
        {
            Span<byte> row = result.GetRow(y);
            ReadOnlySpan<byte> mask = prediction.Mask.AsSpan(y * prediction.Width, prediction.Width);
            for (int x = 0; x < mask.Length; x++)
            {
                if (mask[x] != 0)
                {
                    Color c = mask[x] == VariationModel.DarkMaskValue ? dark : color;
                    row[3 * x] = c.R;
                    row[(3 * x) + 1] = c.G;
                    row[(3 * x) + 2] = c.B;
                }
            }
        }

        return result;
    }
}
