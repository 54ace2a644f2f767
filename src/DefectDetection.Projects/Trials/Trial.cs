namespace DefectDetection.Projects;

/// <summary>Where a trial run is.</summary>
public enum TrialStatus
{
    /// <summary>Running (by the process recorded with it).</summary>
    Running,

    /// <summary>Every image judged and stored.</summary>
    Done,

    /// <summary>Failed, cancelled, or its process ended first: no results were stored.</summary>
    Failed,
}

/// <summary>A defect a trial located.</summary>
/// <param name="X">Left edge, in image pixels.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
/// <param name="Label">The defect's label.</param>
/// <param name="Confidence">Its confidence.</param>
public sealed record TrialDefect(int X, int Y, int Width, int Height, string Label, float Confidence);

/// <summary>A person's verdict on a trial image.</summary>
/// <param name="Correct">True when the model's verdict was right.</param>
/// <param name="TrueLabel">The image's true label.</param>
/// <param name="MaskPath">The project's copy of the defect mask given with it, or null.</param>
/// <param name="VerifiedAt">When (UTC).</param>
public sealed record TrialVerification(bool Correct, string TrueLabel, string? MaskPath, DateTime VerifiedAt);

/// <summary>One image of a trial: the model's verdict and, once given, a person's.</summary>
/// <param name="Id">The result's id (unique in the project).</param>
/// <param name="Source">The image's path when the trial ran.</param>
/// <param name="ImagePath">The project's copy of the image.</param>
/// <param name="Label">The predicted label.</param>
/// <param name="IsDefect">True for a defect verdict.</param>
/// <param name="Score">The raw score.</param>
/// <param name="Confidence">The calibrated confidence that the image is a defect.</param>
public sealed record TrialResult(long Id, string Source, string ImagePath, string Label, bool IsDefect, double Score, double Confidence)
{
    /// <summary>The located defects.</summary>
    public IReadOnlyList<TrialDefect> Defects { get; init; } = [];

    /// <summary>A small overlay (PNG, at most 256 px a side) of the verdict, or null.</summary>
    public string? OverlayPath { get; init; }

    /// <summary>The verification, or null while unverified.</summary>
    public TrialVerification? Verification { get; init; }

    /// <summary>The dataset entry it became when accepted, or null.</summary>
    public long? AcceptedEntryId { get; init; }
}

/// <summary>A trial: a model version run over new images.</summary>
/// <param name="Number">The trial number (1, 2, ...).</param>
/// <param name="Version">The version that judged the images.</param>
/// <param name="Status">Running, done or failed.</param>
public sealed record Trial(int Number, int Version, TrialStatus Status)
{
    /// <summary>What was given to judge (folders or files).</summary>
    public required string Source { get; init; }

    /// <summary>When it started (UTC).</summary>
    public DateTime StartedAt { get; init; }

    /// <summary>Why it failed, or null.</summary>
    public string? Error { get; init; }

    /// <summary>The results (empty in <see cref="ProjectTrials.List"/>; every image in <see cref="ProjectTrials.Get"/>).</summary>
    public IReadOnlyList<TrialResult> Results { get; init; } = [];

    /// <summary>Images judged.</summary>
    public int Images { get; init; }

    /// <summary>Images verified.</summary>
    public int Verified { get; init; }

    /// <summary>Images accepted into the dataset.</summary>
    public int Accepted { get; init; }
}

/// <summary>A verification to record: the true label, or whether the verdict was correct (or both), and an optional mask.</summary>
public sealed class VerificationInput
{
    /// <summary>The true label (null: the predicted label when <see cref="Correct"/> is true; the opposite verdict's label when false).</summary>
    public string? TrueLabel { get; init; }

    /// <summary>Whether the verdict was right (null: from <see cref="TrueLabel"/>).</summary>
    public bool? Correct { get; init; }

    /// <summary>A defect mask file to keep with it (copied), or null.</summary>
    public string? MaskPath { get; init; }
}

/// <summary>What <see cref="ProjectTrials.Accept"/> added.</summary>
/// <param name="Added">The new dataset entries.</param>
/// <param name="Duplicates">Verified images not added because the dataset holds the same content.</param>
public sealed record AcceptResult(IReadOnlyList<DatasetEntry> Added, IReadOnlyList<string> Duplicates);
