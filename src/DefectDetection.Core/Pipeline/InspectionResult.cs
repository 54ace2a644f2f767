using DefectDetection.Imaging;

namespace DefectDetection.Pipeline;

/// <summary>The outcome of inspecting one image.</summary>
public sealed record InspectionResult
{
    /// <summary>The image file, when inspected from a file.</summary>
    public string? ImagePath { get; init; }

    /// <summary>Width of the inspected image in pixels.</summary>
    public int ImageWidth { get; init; }

    /// <summary>Height of the inspected image in pixels.</summary>
    public int ImageHeight { get; init; }

    /// <summary>True when at least one defect was found.</summary>
    public bool IsAnomalous { get; init; }

    /// <summary>
    /// Calibrated confidence in [0, 1] that the image is anomalous, 0.5 at the decision threshold: the highest
    /// confidence any judged region is a defect (0 when no region was judged). The same meaning as
    /// <see cref="Models.DefectPrediction.Confidence"/>.
    /// </summary>
    public float Confidence { get; init; }

    /// <summary>The defects found, in image coordinates.</summary>
    public IReadOnlyList<Defect> Defects { get; init; } = [];

    /// <summary>Every region judged, with its verdict.</summary>
    public IReadOnlyList<RoiVerdict> Regions { get; init; } = [];

    /// <summary>Time spent in each stage.</summary>
    public StageTimings Timings { get; init; } = new();
}

/// <summary>A defect found in an image.</summary>
/// <param name="Box">Where, in image coordinates.</param>
/// <param name="Label">What kind of defect (the crop classifier's label).</param>
/// <param name="Confidence">Calibrated confidence in [0, 1] that it is a defect (0.5 at the threshold).</param>
public sealed record Defect(Rectangle Box, string Label, float Confidence)
{
    /// <summary>Pixels of the defect (for a located anomaly region, the pixels of its mask), or 0 when not measured.</summary>
    public int Area { get; init; }
}

/// <summary>One region of interest and the crop classifier's verdict on it.</summary>
/// <param name="Region">The region found by the detector.</param>
/// <param name="Verdict">The classifier's verdict.</param>
public sealed record RoiVerdict(RegionOfInterest Region, CropVerdict Verdict);

/// <summary>Wall-clock time per stage for one image.</summary>
public sealed record StageTimings
{
    /// <summary>Loading and decoding the image (zero when an image was passed in).</summary>
    public TimeSpan Load { get; init; }

    /// <summary>Stage 1: finding regions of interest.</summary>
    public TimeSpan Detection { get; init; }

    /// <summary>Cutting and resizing crops.</summary>
    public TimeSpan Cropping { get; init; }

    /// <summary>Stage 2: classifying crops.</summary>
    public TimeSpan Classification { get; init; }

    /// <summary>The whole inspection.</summary>
    public TimeSpan Total { get; init; }
}
