using System.Text.Json;
using System.Text.Json.Serialization;
using DefectDetection.Pipeline;

namespace DefectDetection.Models;

/// <summary>
/// The one JSON contract for a judged image, written by <c>defect predict --json</c>, <c>defect detect --json</c> and
/// <see cref="PredictionReport.ToJson(IReadOnlyList{PredictionReport})"/>: snake_case names, boxes as
/// <c>[x, y, width, height]</c> in image pixels. Its JSON Schema is <c>docs/prediction.schema.json</c>.
/// </summary>
public sealed record PredictionReport
{
    /// <summary>The image file, or null when an image was passed in.</summary>
    public string? Image { get; init; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; init; }

    /// <summary>True when the image is judged a defect.</summary>
    public bool IsDefect { get; init; }

    /// <summary>The predicted label (<c>normal</c> for a good image judged by a pipeline; the likeliest defect's label otherwise).</summary>
    public string Label { get; init; } = "";

    /// <summary>Calibrated confidence in [0, 1] that the image is a defect (0.5 at the threshold).</summary>
    public float Confidence { get; init; }

    /// <summary>The raw score compared with <see cref="Threshold"/> (models), or null (pipelines).</summary>
    public double? Score { get; init; }

    /// <summary>The decision threshold on <see cref="Score"/>, or null.</summary>
    public double? Threshold { get; init; }

    /// <summary>The probability of each label (classifiers and anomaly models), or null.</summary>
    public IReadOnlyDictionary<string, float>? LabelScores { get; init; }

    /// <summary>The percentage (0..100) of the image covered by located defect pixels.</summary>
    public double TotalPercentageArea { get; init; }

    /// <summary>The located defects, most confident first.</summary>
    public IReadOnlyList<DefectReport> Defects { get; init; } = [];

    /// <summary>Every region a pipeline judged (null for a single model).</summary>
    public IReadOnlyList<RegionReport>? Regions { get; init; }

    /// <summary>Milliseconds per pipeline stage (null for a single model).</summary>
    public TimingReport? TimingsMs { get; init; }

    /// <summary>The report of a model's prediction.</summary>
    /// <param name="prediction">The prediction.</param>
    /// <param name="image">The image file, or null.</param>
    public static PredictionReport From(DefectPrediction prediction, string? image = null)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        return new PredictionReport
        {
            Image = image,
            Width = prediction.ImageWidth,
            Height = prediction.ImageHeight,
            IsDefect = prediction.IsDefect,
            Label = prediction.Label,
            Confidence = Finite(prediction.Confidence),
            Score = FiniteOrNull(prediction.Score),
            Threshold = prediction.Threshold is { } t ? FiniteOrNull(t) : null,
            LabelScores = prediction.LabelScores,
            TotalPercentageArea = Math.Round(prediction.TotalPercentageArea, 6),
            Defects = prediction.Defects.Select(DefectReport.From).ToArray(),
        };
    }

    /// <summary>The report of a pipeline's inspection.</summary>
    /// <param name="result">The inspection result.</param>
    public static PredictionReport From(InspectionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        double area = DefectPrediction.PercentageArea(result.Defects, result.ImageWidth, result.ImageHeight);
        return new PredictionReport
        {
            Image = result.ImagePath,
            Width = result.ImageWidth,
            Height = result.ImageHeight,
            IsDefect = result.IsAnomalous,
            Label = result.Defects.Count > 0 ? result.Defects.MaxBy(d => d.Confidence)!.Label : "normal",
            Confidence = Finite(result.Confidence),
            TotalPercentageArea = Math.Round(area, 6),
            Defects = result.Defects.Select(DefectReport.From).ToArray(),
            Regions = result.Regions.Select(RegionReport.From).ToArray(),
            TimingsMs = new TimingReport
            {
                Load = Math.Round(result.Timings.Load.TotalMilliseconds, 1),
                Detection = Math.Round(result.Timings.Detection.TotalMilliseconds, 1),
                Cropping = Math.Round(result.Timings.Cropping.TotalMilliseconds, 1),
                Classification = Math.Round(result.Timings.Classification.TotalMilliseconds, 1),
                Total = Math.Round(result.Timings.Total.TotalMilliseconds, 1),
            },
        };
    }

    /// <summary>Serialises reports as a JSON array (indented, snake_case).</summary>
    /// <param name="reports">The reports.</param>
    public static string ToJson(IReadOnlyList<PredictionReport> reports) =>
        JsonSerializer.Serialize(reports, PredictionJsonContext.Default.IReadOnlyListPredictionReport);

    /// <summary>Reads reports written by <see cref="ToJson(IReadOnlyList{PredictionReport})"/>.</summary>
    /// <param name="json">The JSON array.</param>
    /// <exception cref="JsonException">The text is not such an array.</exception>
    public static IReadOnlyList<PredictionReport> FromJson(string json) =>
        JsonSerializer.Deserialize(json, PredictionJsonContext.Default.IReadOnlyListPredictionReport) ?? throw new JsonException("The JSON holds null, not an array of reports.");

    private static float Finite(float v) => float.IsFinite(v) ? v : 0;

    private static double? FiniteOrNull(double v) => double.IsFinite(v) ? v : null;
}

/// <summary>A located defect in a <see cref="PredictionReport"/>.</summary>
public sealed record DefectReport
{
    /// <summary>The box as [x, y, width, height] in image pixels.</summary>
    public IReadOnlyList<int> Box { get; init; } = [];

    /// <summary>The defect's label.</summary>
    public string Label { get; init; } = "";

    /// <summary>Calibrated confidence in [0, 1].</summary>
    public float Confidence { get; init; }

    /// <summary>The defect's pixels, or 0 when not measured.</summary>
    public int Area { get; init; }

    internal static DefectReport From(Defect d) => new()
    {
        Box = [d.Box.X, d.Box.Y, d.Box.Width, d.Box.Height],
        Label = d.Label,
        Confidence = float.IsFinite(d.Confidence) ? d.Confidence : 0,
        Area = d.Area,
    };
}

/// <summary>A region a pipeline's detector found and its classifier judged.</summary>
public sealed record RegionReport
{
    /// <summary>The region as [x, y, width, height] in image pixels.</summary>
    public IReadOnlyList<int> Box { get; init; } = [];

    /// <summary>The detector's label of the region (which picks the classifier), or null.</summary>
    public string? RegionLabel { get; init; }

    /// <summary>The classifier's label.</summary>
    public string Label { get; init; } = "";

    /// <summary>True when the classifier judged the region a defect.</summary>
    public bool IsDefect { get; init; }

    /// <summary>Calibrated confidence in [0, 1] that the region is a defect.</summary>
    public float Confidence { get; init; }

    /// <summary>The classifier's raw score, or null when not finite.</summary>
    public double? Score { get; init; }

    internal static RegionReport From(RoiVerdict v) => new()
    {
        Box = [v.Region.Box.X, v.Region.Box.Y, v.Region.Box.Width, v.Region.Box.Height],
        RegionLabel = v.Region.Label,
        Label = v.Verdict.Label,
        IsDefect = v.Verdict.IsDefect,
        Confidence = float.IsFinite(v.Verdict.Confidence) ? v.Verdict.Confidence : 0,
        Score = float.IsFinite(v.Verdict.Score) ? v.Verdict.Score : null,
    };
}

/// <summary>Milliseconds a pipeline spent on each stage of one image.</summary>
public sealed record TimingReport
{
    /// <summary>Loading and decoding the image.</summary>
    public double Load { get; init; }

    /// <summary>Finding regions of interest.</summary>
    public double Detection { get; init; }

    /// <summary>Cutting and resizing crops.</summary>
    public double Cropping { get; init; }

    /// <summary>Judging the crops.</summary>
    public double Classification { get; init; }

    /// <summary>The whole inspection.</summary>
    public double Total { get; init; }
}

/// <summary>Source-generated JSON contract of <see cref="PredictionReport"/>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(IReadOnlyList<PredictionReport>))]
internal sealed partial class PredictionJsonContext : JsonSerializerContext
{
}
