using System.Text.Json.Serialization;

namespace DefectDetection.ModelFiles;

/// <summary>
/// What automatic configuration tried while training a model, written into its file (<see cref="ModelManifest.Search"/>)
/// and into <c>defect train --json</c>: the criterion, every candidate with its validation figures, and the choice.
/// </summary>
public sealed class TrainingSearch
{
    /// <summary>How candidates were compared, in words (for example held-out normal images against synthetic defects).</summary>
    public string Criterion { get; init; } = string.Empty;

    /// <summary>The settings that were searched (the others were given or fixed), for example <c>input_size</c> and <c>tiles</c>.</summary>
    public IReadOnlyList<string> Searched { get; init; } = [];

    /// <summary>The candidates in the order they were tried.</summary>
    public IReadOnlyList<SearchCandidate> Candidates { get; init; } = [];

    /// <summary>The name of the chosen candidate.</summary>
    public string Chosen { get; init; } = string.Empty;

    /// <summary>The time budget in seconds (0: none).</summary>
    public double BudgetSeconds { get; init; }

    /// <summary>Seconds the search took (the final training not included).</summary>
    public double Seconds { get; init; }

    /// <summary>Normal images used to train candidates, and held out to validate them.</summary>
    public int TrainImages { get; init; }

    /// <summary>Normal images held out to validate candidates.</summary>
    public int ValidationImages { get; init; }

    /// <summary>
    /// The choice of learner that came before this learner's own search (classifier, anomaly model or both combined,
    /// by cross-validation on labelled images), or null when the learner was given.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TrainingSearch? LearnerChoice { get; init; }
}

/// <summary>One configuration tried by a <see cref="TrainingSearch"/>.</summary>
public sealed class SearchCandidate
{
    /// <summary>A short name, for example <c>224px x2 tiles</c>.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>The candidate's values of the searched settings, by setting name.</summary>
    public IReadOnlyDictionary<string, double> Settings { get; init; } = new Dictionary<string, double>();

    /// <summary>Its validation figures by name (for example <c>synthetic_auroc</c>), empty when it was not run.</summary>
    public IReadOnlyDictionary<string, double> Figures { get; init; } = new Dictionary<string, double>();

    /// <summary>Seconds it took to train and validate.</summary>
    public double Seconds { get; init; }

    /// <summary>Why it was not run (for example the time budget), or null when it was.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Skipped { get; init; }
}
