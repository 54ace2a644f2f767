using DefectDetection.Datasets;

namespace DefectDetection.Models;

/// <summary>
/// Progress of training, the one type every trainer reports. <see cref="Stage"/> names the step (for example
/// <c>features</c>, <c>augmentation</c>, <c>threshold</c>, <c>head</c>, <c>bank</c>, <c>coreset</c>, <c>calibration</c>);
/// <see cref="Fraction"/> is how far that step is.
/// </summary>
/// <param name="Stage">The step being done.</param>
/// <param name="Fraction">How far the step is, in [0, 1].</param>
public readonly record struct TrainingProgress(string Stage, double Fraction)
{
    /// <summary>Items (images, folds, iterations) done in this step, or 0 when the step does not count items.</summary>
    public int Done { get; init; }

    /// <summary>Items in this step, or 0 when the step does not count items.</summary>
    public int Total { get; init; }

    /// <summary>The training loss of a head-fitting step (weighted cross-entropy plus penalty), or NaN.</summary>
    public double TrainingLoss { get; init; } = double.NaN;

    /// <summary>The validation loss of a head-fitting step, or NaN without a validation part.</summary>
    public double ValidationLoss { get; init; } = double.NaN;

    /// <summary>The validation accuracy of a head-fitting step, or NaN without a validation part.</summary>
    public double ValidationAccuracy { get; init; } = double.NaN;

    /// <summary>A report of <paramref name="done"/> of <paramref name="total"/> items in <paramref name="stage"/>.</summary>
    public static TrainingProgress Count(string stage, int done, int total) =>
        new(stage, total > 0 ? Math.Clamp((double)done / total, 0, 1) : 1) { Done = done, Total = total };
}

/// <summary>The stage names trainers report in <see cref="TrainingProgress.Stage"/>.</summary>
public static class TrainingStages
{
    /// <summary>Extracting the features of the training images (one report per image).</summary>
    public const string Features = "features";

    /// <summary>Extracting the features of augmented copies (one report per image).</summary>
    public const string Augmentation = "augmentation";

    /// <summary>Automatic configuration: trying candidate settings (one report per candidate; the stage text may name it).</summary>
    public const string Search = "search";

    /// <summary>Cross-validating to choose the decision threshold (one report per fold).</summary>
    public const string Threshold = "threshold";

    /// <summary>Fitting a classifier head (one report per iteration or epoch, with the losses).</summary>
    public const string Head = "head";

    /// <summary>Building a memory bank or per-pixel normal model from the normal images.</summary>
    public const string Bank = "bank";

    /// <summary>Subsampling the memory bank.</summary>
    public const string Coreset = "coreset";

    /// <summary>Scoring held-out normal images to calibrate the threshold.</summary>
    public const string Calibration = "calibration";
}

/// <summary>Trains a model from a labelled dataset: the one trainer contract of every learner.</summary>
public interface IDefectTrainer
{
    /// <summary>Trains a model.</summary>
    /// <param name="dataset">The training images with labels (and, for region learners, boxes or references).</param>
    /// <param name="progress">Receives progress reports (on the training thread).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The trained model; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">The dataset does not suit the learner (the message says why).</exception>
    IDefectModel Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);
}
