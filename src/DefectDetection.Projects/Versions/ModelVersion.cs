namespace DefectDetection.Projects;

/// <summary>Where a model version is in its life.</summary>
public enum ModelVersionStatus
{
    /// <summary>Being trained (by the process recorded with it).</summary>
    Training,

    /// <summary>Trained: its model file and test metrics are there.</summary>
    Trained,

    /// <summary>Training failed, was cancelled, or its process ended first; <see cref="ModelVersion.Error"/> says which.</summary>
    Failed,

    /// <summary>Deleted (by hand or by retention): the model file is gone, the record stays for the lineage.</summary>
    Deleted,
}

/// <summary>What a project trains: the learner follows from it.</summary>
public enum ProjectTask
{
    /// <summary>Anomaly detection when every training image is normal, else classification.</summary>
    Auto,

    /// <summary>An image classifier (<c>image_classifier</c>) on the labels.</summary>
    Classify,

    /// <summary>A PatchCore anomaly detector (<c>patchcore</c>) on the normal images; needs a backbone.</summary>
    Anomaly,
}

/// <summary>How a model version is trained (kept with the version; <see cref="ProjectModels.Retrain"/> reuses it).</summary>
public sealed class ModelTrainOptions
{
    /// <summary>The task (default <see cref="ProjectTask.Auto"/>).</summary>
    public ProjectTask Task { get; init; } = ProjectTask.Auto;

    /// <summary>An ONNX backbone file (null: the weight-free features of the classifier; the anomaly task needs one).</summary>
    public string? Backbone { get; init; }

    /// <summary>The time the automatic configuration may take (default 300 s; zero: no limit).</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The random seed (default 0).</summary>
    public int Seed { get; init; }

    /// <summary>Make the new version the active one when it is trained (default: only when no version is active).</summary>
    public bool Activate { get; init; }

    /// <summary>After training, keep only this many trained versions, the active one always among them (null: keep all).</summary>
    public int? KeepLast { get; init; }
}

/// <summary>The configuration a version was trained with, as recorded.</summary>
/// <param name="Task">The task asked for (<c>auto</c>, <c>classify</c>, <c>anomaly</c>).</param>
/// <param name="ResolvedTask">The task trained: <c>classify</c>, <c>anomaly</c>, or <c>auto</c> (labelled images with a backbone: the learner chosen by cross-validation, see the model's learner).</param>
/// <param name="Backbone">The backbone file, or null.</param>
/// <param name="TimeBudgetSeconds">The automatic configuration's time budget.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Chosen">What the automatic configuration chose (PatchCore's scale), or null.</param>
/// <param name="Threshold">The model's threshold, or null.</param>
public sealed record ModelConfiguration(string Task, string ResolvedTask, string? Backbone, double TimeBudgetSeconds, int Seed, string? Chosen, double? Threshold);

/// <summary>A version's results on the test split: defect (any label not normal) against good.</summary>
/// <param name="Images">Test images.</param>
/// <param name="TruePositives">Defects found.</param>
/// <param name="FalsePositives">Good images called defects.</param>
/// <param name="TrueNegatives">Good images passed.</param>
/// <param name="FalseNegatives">Defects missed.</param>
/// <param name="LabelAccuracy">Share of images given their exact label.</param>
/// <param name="RocAuc">Image ROC AUC of the defect confidence (null with one kind of image).</param>
public sealed record TestMetrics(int Images, int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives, double LabelAccuracy, double? RocAuc)
{
    /// <summary>Share of images judged right (defect or good).</summary>
    public double Accuracy => Images == 0 ? 0 : (TruePositives + TrueNegatives) / (double)Images;

    /// <summary>Share of defect verdicts that are defects.</summary>
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : TruePositives / (double)(TruePositives + FalsePositives);

    /// <summary>Share of defects found.</summary>
    public double Recall => TruePositives + FalseNegatives == 0 ? 0 : TruePositives / (double)(TruePositives + FalseNegatives);

    /// <summary>Harmonic mean of precision and recall.</summary>
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>A model version of a project.</summary>
/// <param name="Number">The version number (v1, v2, ...; never reused).</param>
/// <param name="Status">Training, trained, failed or deleted.</param>
public sealed record ModelVersion(int Number, ModelVersionStatus Status)
{
    /// <summary>The learner (<c>image_classifier</c>, <c>patchcore</c>), once known.</summary>
    public string? Learner { get; init; }

    /// <summary>The configuration asked for and chosen.</summary>
    public required ModelConfiguration Configuration { get; init; }

    /// <summary>The model file (trained versions), to load with <c>DefectModel.Load</c>; null otherwise.</summary>
    public string? ModelPath { get; init; }

    /// <summary>When training started (UTC).</summary>
    public DateTime StartedAt { get; init; }

    /// <summary>When it ended (UTC), or null.</summary>
    public DateTime? FinishedAt { get; init; }

    /// <summary>Training time (model and test evaluation), or null.</summary>
    public double? TrainingSeconds { get; init; }

    /// <summary>Test metrics, or null (no test images, or not trained).</summary>
    public TestMetrics? Metrics { get; init; }

    /// <summary>Why it failed, or null.</summary>
    public string? Error { get; init; }

    /// <summary>True for the project's active version.</summary>
    public bool IsActive { get; init; }

    /// <summary>Training images it was trained on.</summary>
    public int TrainImages { get; init; }

    /// <summary>Test images it was tested on.</summary>
    public int TestImages { get; init; }

    /// <summary>The version's name, <c>vN</c>.</summary>
    public string Name => $"v{Number}";
}

/// <summary>One test image whose verdict differs between two versions.</summary>
/// <param name="EntryId">The dataset entry.</param>
/// <param name="Source">The image's source path.</param>
/// <param name="TrueLabel">Its label when the newer version was trained.</param>
/// <param name="A">The first version's verdict.</param>
/// <param name="B">The second version's verdict.</param>
public sealed record ChangedVerdict(long EntryId, string Source, string TrueLabel, Verdict A, Verdict B);

/// <summary>A version's verdict on one image.</summary>
/// <param name="Label">The predicted label.</param>
/// <param name="IsDefect">True for a defect.</param>
/// <param name="Confidence">The calibrated confidence that the image is a defect.</param>
public sealed record Verdict(string Label, bool IsDefect, double Confidence);

/// <summary>Two versions side by side (<see cref="ProjectModels.Compare"/>).</summary>
/// <param name="A">The first version.</param>
/// <param name="B">The second version.</param>
/// <param name="CommonTestImages">Test images both were tested on.</param>
/// <param name="Changed">The common test images whose verdict (defect or good, or label) changed.</param>
public sealed record VersionComparison(ModelVersion A, ModelVersion B, int CommonTestImages, IReadOnlyList<ChangedVerdict> Changed);
