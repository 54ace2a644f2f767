using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.Anomaly;

/// <summary>Pictures of predictions: heat-map overlays and Lookout for Vision style label masks.</summary>
public static class AnomalyVisualizer
{
    /// <summary>
    /// The image with the colour-mapped anomaly map blended over it (range: map minimum to the larger of the map maximum
    /// and twice the threshold), the mask contours in white and the located defects' boxes in red. A prediction
    /// without a map (a classifier's) gets the boxes only.
    /// </summary>
    /// <param name="image">The judged image.</param>
    /// <param name="prediction">Its prediction (same size).</param>
    /// <param name="opacity">Heat opacity, 0..1. Default 0.45.</param>
    /// <returns>A new RGB image.</returns>
    public static Image Overlay(ImageView image, DefectPrediction prediction, float opacity = 0.45f)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        if (image.Width != prediction.ImageWidth || image.Height != prediction.ImageHeight)
        {
            throw new ArgumentException($"The image is {image.Width}x{image.Height} but the prediction {prediction.ImageWidth}x{prediction.ImageHeight}.", nameof(prediction));
        }

        Image result;
        if (prediction.AnomalyMap is { } map && map.Width == image.Width && map.Height == image.Height)
        {
            float min = System.Numerics.Tensors.TensorPrimitives.Min(map.Values);
            float max = Math.Max(System.Numerics.Tensors.TensorPrimitives.Max(map.Values), (float)(2 * (prediction.Threshold ?? 0)));
            result = HeatMap.Overlay(image, map.Values, map.Width, map.Height, new HeatMapOptions { Min = min, Max = max > min ? max : min + 1, Opacity = opacity });
            if (prediction.Mask is { } mask)
            {
                HeatMap.DrawContour(result, mask, map.Width, map.Height, Color.White, 2);
            }
        }
        else
        {
            result = ColorConversion.Convert(image, PixelFormat.Rgb24);
        }

        foreach (Defect defect in prediction.Defects)
        {
            Drawing.DrawRectangle(result, defect.Box, Color.Red, 2);
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
    /// <returns>A new RGB image of the prediction's mask size (all black when the prediction has no mask).</returns>
    public static Image LookoutMask(DefectPrediction prediction, Color color, Color? darkColor = null)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        int width = prediction.AnomalyMap?.Width ?? prediction.ImageWidth, height = prediction.AnomalyMap?.Height ?? prediction.ImageHeight;
        Image result = Image.Create(width, height, PixelFormat.Rgb24);
        if (prediction.Mask is not { } full)
        {
            return result;
        }

        Color dark = darkColor ?? color;
        for (int y = 0; y < height; y++)
        {
            Span<byte> row = result.GetRow(y);
            ReadOnlySpan<byte> mask = full.AsSpan(y * width, width);
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
