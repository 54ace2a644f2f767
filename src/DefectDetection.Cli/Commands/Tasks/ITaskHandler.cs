using DefectDetection.ModelFiles;

namespace DefectDetection.Cli.Commands.Tasks;

/// <summary>What <c>defect train</c> was asked to do (validated; task-specific options may be ignored by other tasks).</summary>
internal sealed class TrainSettings
{
    public required string Task { get; init; }

    public required string Data { get; init; }

    public string? Images { get; init; }

    public string? Split { get; init; }

    public string? Backbone { get; init; }

    public IReadOnlyList<string> Layers { get; init; } = [];

    public required string Out { get; init; }

    public bool Overwrite { get; init; }

    public bool DefectThreshold { get; init; }

    public bool NoEmbed { get; init; }

    public string Augment { get; init; } = "none";

    /// <summary>Anomaly task: the backbone's input side (null: the default).</summary>
    public int? InputSize { get; init; }

    /// <summary>Anomaly task: the memory bank's coreset ratio (null: the default).</summary>
    public double? CoresetRatio { get; init; }

    /// <summary>Anomaly task: edge patch rings left out of the image score (null: the default).</summary>
    public int? BorderPatches { get; init; }

    /// <summary>Anomaly task: the intensity context's weight (null: the default, off).</summary>
    public double? ContextWeight { get; init; }

    /// <summary>Anomaly task: the position features' weight (null: the default, off).</summary>
    public double? PositionWeight { get; init; }

    /// <summary>Anomaly task: training images whose bank rows each image is compared with (<c>--nearest-images</c>); null = the library default (whole bank).</summary>
    public int? NearestImages { get; init; }

    /// <summary>Anomaly task: features kept per tapped layer (null: the default, every channel).</summary>
    public int? MaxLayerFeatures { get; init; }

    /// <summary>Anomaly task: the backbone input layout (null: ImageNet's).</summary>
    public DefectDetection.Imaging.Processing.TensorLayoutOptions? Layout { get; init; }

    public double? L2 { get; init; }

    public string Pooling { get; init; } = "avg";

    public double ValidationFraction { get; init; }

    public string ClassWeighting { get; init; } = "balanced";

    public int Seed { get; init; }

    public string? CacheDirectory { get; init; }

    public IReadOnlyList<string> NormalLabels { get; init; } = ["normal"];

    public string PositiveLabel { get; init; } = "anomaly";

    public bool Json { get; init; }
}

/// <summary>What <c>defect evaluate</c> was asked to do.</summary>
internal sealed class EvaluateSettings
{
    public required string Model { get; init; }

    public required string Data { get; init; }

    public string? Images { get; init; }

    public string? Split { get; init; }

    public string? Backbone { get; init; }

    /// <summary>Folder of ground-truth masks, matched to images by file stem (anomaly task).</summary>
    public string? Masks { get; init; }

    public bool Json { get; init; }
}

/// <summary>What <c>defect predict</c> was asked to do.</summary>
internal sealed class PredictSettings
{
    public required string Model { get; init; }

    public required IReadOnlyList<string> Images { get; init; }

    public string? Backbone { get; init; }

    /// <summary>Folder for overlay and mask PNGs (anomaly task).</summary>
    public string? Overlay { get; init; }

    /// <summary>The files this run may write (<c>--overwrite</c>; the images and model are its inputs).</summary>
    public required OutputPlan Outputs { get; init; }

    public bool Json { get; init; }
}

/// <summary>
/// One learning task of <c>defect train/evaluate/predict</c> (classify, and later anomaly). <c>train</c> picks the
/// handler by <c>--task</c>; <c>evaluate</c> and <c>predict</c> by the model file's manifest task.
/// </summary>
internal interface ITaskHandler
{
    /// <summary>The <c>--task</c> name.</summary>
    string Name { get; }

    /// <summary>The manifest task name of the models it writes (<see cref="ModelManifest.Task"/>).</summary>
    string ManifestTask { get; }

    int Train(CliContext context, TrainSettings settings);

    int Evaluate(CliContext context, EvaluateSettings settings, ModelManifest manifest);

    int Predict(CliContext context, PredictSettings settings, ModelManifest manifest);
}

/// <summary>The task handlers, by name. A new task registers its handler here.</summary>
internal static class TaskHandlers
{
    private static readonly ITaskHandler[] All = [new ClassifyTask(), new AnomalyTask()];

    /// <summary>Tasks that are planned but not implemented yet.</summary>
    private static readonly string[] Planned = [];

    public static string Names => string.Join(", ", All.Select(h => h.Name));

    /// <summary>The handler of a <c>--task</c> value, or null after writing the reason (exit code 2).</summary>
    public static ITaskHandler? ByName(CliContext context, string task)
    {
        ITaskHandler? handler = All.FirstOrDefault(h => string.Equals(h.Name, task, StringComparison.OrdinalIgnoreCase));
        if (handler is null)
        {
            context.Error.WriteLine(Planned.Contains(task, StringComparer.OrdinalIgnoreCase)
                ? $"error: the task '{task}' is not available yet (available: {Names})."
                : $"error: unknown task '{task}' (available: {Names}).");
        }

        return handler;
    }

    /// <summary>The handler of a model file's manifest task, or null after writing the reason.</summary>
    public static ITaskHandler? ByManifest(CliContext context, ModelManifest manifest)
    {
        ITaskHandler? handler = All.FirstOrDefault(h => h.ManifestTask == manifest.Task);
        if (handler is null)
        {
            context.Error.WriteLine($"error: the model's task '{manifest.Task}' is not supported by this command (supported: {Names}).");
        }

        return handler;
    }
}
