using DefectDetection.Imaging;

namespace DefectDetection.Vision.Anomaly;

/// <summary>One connected region of the anomaly mask.</summary>
/// <param name="Bounds">Bounding box in image pixels.</param>
/// <param name="Area">Pixels in the region.</param>
/// <param name="PercentOfImage">Area as a percentage (0..100) of the image.</param>
/// <param name="Label">"anomaly", or "bright" / "dark" for the variation model.</param>
public sealed record AnomalyRegion(Rectangle Bounds, int Area, double PercentOfImage, string Label);

/// <summary>The outcome of scoring one image with an anomaly model.</summary>
public sealed class AnomalyPrediction
{
    internal AnomalyPrediction(double score, double threshold, float confidence, float[] map, byte[] mask, int width, int height, IReadOnlyList<AnomalyRegion> regions)
    {
        Score = score;
        Threshold = threshold;
        Confidence = confidence;
        Map = map;
        Mask = mask;
        Width = width;
        Height = height;
        Regions = regions;
    }

    /// <summary>The image anomaly score (higher is more anomalous; the units of the model).</summary>
    public double Score { get; }

    /// <summary>The model's decision threshold on <see cref="Score"/>.</summary>
    public double Threshold { get; }

    /// <summary>Calibrated confidence in [0, 1] that the image is anomalous; 0.5 at the threshold.</summary>
    public float Confidence { get; }

    /// <summary>Whether <see cref="Score"/> reaches <see cref="Threshold"/>.</summary>
    public bool IsAnomalous => Score >= Threshold;

    /// <summary>The anomaly map at image resolution (row-major, <see cref="Width"/> x <see cref="Height"/>), in score units.</summary>
    public float[] Map { get; }

    /// <summary>The binary mask at the threshold: 255 for an anomalous pixel, 0 otherwise.</summary>
    public byte[] Mask { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Connected regions of <see cref="Mask"/>, largest first.</summary>
    public IReadOnlyList<AnomalyRegion> Regions { get; }

    /// <summary>The percentage (0..100) of the image covered by anomalous pixels, like Lookout for Vision's TotalPercentageArea.</summary>
    public double TotalPercentageArea => Regions.Sum(r => r.PercentOfImage);
}
