using DefectDetection.Pipeline;

namespace DefectDetection.Models;

/// <summary>
/// What a model says about one image; every learner fills the same fields. <see cref="Confidence"/> always means the
/// calibrated confidence that the image is a defect (0.5 at the threshold), whatever the learner.
/// </summary>
public sealed record DefectPrediction
{
    /// <summary>Width of the judged image in pixels.</summary>
    public required int ImageWidth { get; init; }

    /// <summary>Height of the judged image in pixels.</summary>
    public required int ImageHeight { get; init; }

    /// <summary>True when the image is judged a defect (<see cref="Score"/> reaches <see cref="Threshold"/>, or a defect label is the likeliest).</summary>
    public required bool IsDefect { get; init; }

    /// <summary>The predicted label (anomaly models: <c>anomaly</c> or <c>normal</c>; classifiers: one of their labels).</summary>
    public required string Label { get; init; }

    /// <summary>The probability of every label (they add up to 1; anomaly models: <c>normal</c> and <c>anomaly</c> from <see cref="Confidence"/>).</summary>
    public IReadOnlyDictionary<string, float> LabelScores { get; init; } = new Dictionary<string, float>();

    /// <summary>
    /// The raw score the verdict compares with <see cref="Threshold"/>, higher is more defective: the anomaly score of
    /// anomaly models (in the model's units), P(defect) = 1 - P(normal labels) of classifiers (P(positive label) for two labels).
    /// </summary>
    public required double Score { get; init; }

    /// <summary>The decision threshold on <see cref="Score"/>, or null when the verdict is the likeliest label.</summary>
    public double? Threshold { get; init; }

    /// <summary>Calibrated confidence in [0, 1] that the image is a defect; 0.5 at the threshold.</summary>
    public required float Confidence { get; init; }

    /// <summary>The anomaly map over the image (anomaly learners; null for classifiers).</summary>
    public AnomalyMap? AnomalyMap { get; init; }

    /// <summary>
    /// The binary mask at the threshold, the size of <see cref="AnomalyMap"/> (255 for a defective pixel, 0 otherwise),
    /// or null when the learner makes none.
    /// </summary>
    public byte[]? Mask { get; init; }

    /// <summary>The defects located in the image (image coordinates), most confident first; empty when none are located.</summary>
    public IReadOnlyList<Defect> Defects { get; init; } = [];

    /// <summary>The percentage (0..100) of the image covered by located defects' pixels, like Lookout for Vision's TotalPercentageArea.</summary>
    public double TotalPercentageArea => PercentageArea(Defects, ImageWidth, ImageHeight);

    /// <summary>The percentage (0..100) of a <paramref name="width"/> x <paramref name="height"/> image covered by the defects' pixels.</summary>
    internal static double PercentageArea(IReadOnlyList<Defect> defects, int width, int height) =>
        width > 0 && height > 0 ? defects.Sum(d => (double)d.Area) * 100.0 / ((double)width * height) : 0;
}

/// <summary>
/// A per-pixel anomaly map (row-major, higher is more anomalous, in the model's score units). It covers the whole
/// image at the image's size up to 16.8 MP; a larger image gets a map scaled down to fit (see <see cref="ScaleX"/>),
/// so no image makes gigabytes of maps and masks.
/// </summary>
/// <param name="Values">The map values, <paramref name="Width"/> x <paramref name="Height"/>.</param>
/// <param name="Width">Map width.</param>
/// <param name="Height">Map height.</param>
public sealed record AnomalyMap(float[] Values, int Width, int Height)
{
    /// <summary>Image pixels per map pixel horizontally (1 at full resolution).</summary>
    public double ScaleX { get; init; } = 1;

    /// <summary>Image pixels per map pixel vertically (1 at full resolution).</summary>
    public double ScaleY { get; init; } = 1;

    /// <summary>The value at map pixel (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public float this[int x, int y] => Values[(y * Width) + x];
}
