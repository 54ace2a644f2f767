using DefectDetection.Vision;
namespace DefectDetection.Cli.Commands.Tasks;

/// <summary>What <c>defect train</c> was asked to do (validated; task-specific options may be ignored by other tasks).</summary>
internal sealed record TrainSettings
{
    public required string Task { get; init; }

    public required string Data { get; init; }

    public string? Images { get; init; }

    /// <summary>pin-residual: VOC folder or COCO file of the defect boxes.</summary>
    public string? Annotations { get; init; }

    /// <summary>pin-residual: the pipeline file whose detector cuts the crops.</summary>
    public string? Pipeline { get; init; }

    public string? Split { get; init; }

    public string? Backbone { get; init; }

    public IReadOnlyList<string> Layers { get; init; } = [];

    public required string Out { get; init; }

    public bool Overwrite { get; init; }

    public bool DefectThreshold { get; init; }

    public bool NoEmbed { get; init; }

    public string? Augment { get; init; }

    /// <summary>Anomaly task: the backbone's input side (null: the default).</summary>
    public int? InputSize { get; init; }

    /// <summary>Anomaly task: tiles a side (null: chosen by the automatic configuration).</summary>
    public int? Tiles { get; init; }

    /// <summary>The time the automatic configuration may take (zero: no limit).</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromMinutes(5);

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

    /// <summary>The backbone input layout (null: a known backbone's own, else ImageNet's).</summary>
    public DefectDetection.Imaging.Processing.TensorLayoutOptions? Layout { get; init; }

    /// <summary>The backbone as a spec (<c>--backbone</c>, <c>--layers</c> and the layout options), or null when none was given.</summary>
    public DefectDetection.Vision.Backbones.BackboneSpec? BackboneSpec() =>
        Backbone is null ? null : DefectDetection.Vision.Backbones.BackboneSpec.FromFile(Backbone) with { Taps = Layers, Layout = Layout };

    public double? L2 { get; init; }

    public string? Pooling { get; init; }

    /// <summary>Classify task: append the weight-free features to the backbone's (null: searched).</summary>
    public bool? AppendWeightFree { get; init; }

    public double ValidationFraction { get; init; }

    public string ClassWeighting { get; init; } = "balanced";

    public int Seed { get; init; }

    public string? CacheDirectory { get; init; }

    public IReadOnlyList<string> NormalLabels { get; init; } = DefectDetection.Models.Learners.DefaultNormalLabels;

    /// <summary>Share of each label held out for testing when the data has no test part (null: the layout's default).</summary>
    public double? TestFraction { get; init; }

    /// <summary>Anomaly task: what sets the threshold (null: labelled anomalies when the training part has some, else normals).</summary>
    public DefectDetection.Vision.Anomaly.AnomalyThresholdSource? ThresholdFrom { get; init; }

    public string PositiveLabel { get; init; } = "anomaly";

    public bool Json { get; init; }
}

/// <summary>
/// One learning task of <c>defect train</c>, picked by <c>--task</c>. Evaluating and predicting do not depend on the
/// task: they load any model file through <see cref="DefectDetection.Vision.DefectModel"/>.
/// </summary>
internal interface ITaskHandler
{
    /// <summary>The <c>--task</c> name.</summary>
    string Name { get; }

    /// <summary>What the task learns, for <c>train --help</c>.</summary>
    string Summary { get; }

    int Train(CliContext context, TrainSettings settings);
}

/// <summary>The task handlers, by name. A new task registers its handler here.</summary>
internal static class TaskHandlers
{
    private static readonly ITaskHandler[] All = [new AutoTask(), new ClassifyTask(), new AnomalyTask(), new VariationTask(), new PinResidualTask(), new TemplateDifferenceTask()];

    /// <summary>Tasks that are planned but not implemented yet.</summary>
    private static readonly string[] Planned = [];

    public static string Names => string.Join(", ", All.Select(h => h.Name));

    /// <summary>Every task with what it learns.</summary>
    public static string Describe => string.Join("; ", All.Select(h => $"{h.Name} ({h.Summary})"));

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
}
