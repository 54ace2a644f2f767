using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DefectDetection.Metrics;

/// <summary>Precision, recall and F1 of one label, with its support (the number of samples that truly have it).</summary>
public sealed class LabelMetrics
{
    /// <summary>Of the samples predicted with this label, the share that truly have it (0 when none is predicted).</summary>
    public double Precision { get; init; }

    /// <summary>Of the samples that truly have this label, the share predicted with it (0 when the support is 0).</summary>
    public double Recall { get; init; }

    /// <summary>Harmonic mean of precision and recall (0 when both are 0).</summary>
    public double F1 { get; init; }

    /// <summary>Number of samples that truly have this label.</summary>
    public int Support { get; init; }
}

/// <summary>
/// Evaluation results of a classifier, serialisable to JSON with snake_case names (<see cref="ToJson"/>) and
/// printable as a table (<see cref="ToTable"/>). Built by <see cref="ClassificationEvaluator"/>.
/// </summary>
public sealed class ClassificationMetrics
{
    /// <summary>Number of samples evaluated.</summary>
    public int Count { get; init; }

    /// <summary>The labels, in the order of <see cref="ConfusionMatrix"/>'s rows and columns.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>Share of samples whose predicted label is the true one.</summary>
    public double Accuracy { get; init; }

    /// <summary>Unweighted mean of the per-label F1 scores over <see cref="Labels"/>.</summary>
    public double MacroF1 { get; init; }

    /// <summary>Precision, recall, F1 and support per label, in <see cref="Labels"/> order.</summary>
    public IReadOnlyDictionary<string, LabelMetrics> PerLabel { get; init; } = new Dictionary<string, LabelMetrics>();

    /// <summary>Counts: row = true label, column = predicted label, both in <see cref="Labels"/> order.</summary>
    public int[][] ConfusionMatrix { get; init; } = [];

    /// <summary>The positive label of a binary evaluation with scores, else null.</summary>
    public string? PositiveLabel { get; init; }

    /// <summary>Area under the ROC curve of the positive label's score (binary with scores only; NaN when one class is absent).</summary>
    public double? RocAuc { get; init; }

    /// <summary>Average precision of the positive label's score (binary with scores only; NaN without positives).</summary>
    public double? PrAuc { get; init; }

    /// <summary>The decision threshold applied to the positive label's score (binary with scores only).</summary>
    public double? Threshold { get; init; }

    /// <summary>
    /// The headline figures by their JSON names, for <c>ModelManifest.Metrics</c>: <c>accuracy</c>, <c>macro_f1</c>,
    /// <c>f1/LABEL</c> per label, and <c>roc_auc</c>, <c>pr_auc</c>, <c>threshold</c> when present.
    /// </summary>
    public IReadOnlyDictionary<string, double> ToSummary()
    {
        Dictionary<string, double> summary = new(StringComparer.Ordinal) { ["accuracy"] = Accuracy, ["macro_f1"] = MacroF1 };
        foreach ((string label, LabelMetrics m) in PerLabel)
        {
            summary["f1/" + label] = m.F1;
        }

        if (RocAuc is double roc)
        {
            summary["roc_auc"] = roc;
        }

        if (PrAuc is double pr)
        {
            summary["pr_auc"] = pr;
        }

        if (Threshold is double t)
        {
            summary["threshold"] = t;
        }

        return summary;
    }

    /// <summary>The metrics as indented JSON with snake_case names; NaN is written as <c>"NaN"</c>.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, MetricsJsonContext.Default.ClassificationMetrics);

    /// <summary>Reads metrics written by <see cref="ToJson"/>.</summary>
    /// <exception cref="JsonException">The text is not such JSON.</exception>
    public static ClassificationMetrics FromJson(string json) =>
        JsonSerializer.Deserialize(json, MetricsJsonContext.Default.ClassificationMetrics) ?? throw new JsonException("The JSON is null.");

    /// <summary>
    /// The results as a text table in the manner of Rekognition Custom Labels' "Evaluation results": summary
    /// figures, one row per label, then the confusion matrix.
    /// </summary>
    public string ToTable()
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        StringBuilder sb = new();
        sb.Append(c, $"Evaluation results ({Count} images)").AppendLine();
        sb.Append(c, $"  Accuracy     {Accuracy:0.000}").AppendLine();
        sb.Append(c, $"  Macro F1     {MacroF1:0.000}").AppendLine();
        if (RocAuc is double roc)
        {
            sb.Append(c, $"  ROC AUC      {roc:0.000}   (positive label: {PositiveLabel})").AppendLine();
        }

        if (PrAuc is double pr)
        {
            sb.Append(c, $"  PR AUC (AP)  {pr:0.000}").AppendLine();
        }

        if (Threshold is double t)
        {
            sb.Append(c, $"  Threshold    {t:0.####}").AppendLine();
        }

        int w = Math.Max(5, Labels.Count == 0 ? 5 : Labels.Max(l => l.Length));
        sb.AppendLine();
        sb.Append("  ").Append("Label".PadRight(w)).AppendLine("  F1 score  Test images  Precision  Recall");
        foreach (string label in Labels)
        {
            LabelMetrics m = PerLabel[label];
            sb.Append("  ").Append(label.PadRight(w))
              .Append(c, $"  {m.F1,8:0.000}  {m.Support,11}  {m.Precision,9:0.000}  {m.Recall,6:0.000}").AppendLine();
        }

        sb.AppendLine();
        sb.AppendLine("  Confusion matrix (rows: true label, columns: predicted label)");
        int cw = Math.Max(w, ConfusionMatrix.Length == 0 ? 1 : ConfusionMatrix.SelectMany(r => r).DefaultIfEmpty(0).Max().ToString(c).Length);
        sb.Append("  ").Append(string.Empty.PadRight(w));
        foreach (string label in Labels)
        {
            sb.Append("  ").Append(label.PadLeft(cw));
        }

        sb.AppendLine();
        for (int r = 0; r < ConfusionMatrix.Length; r++)
        {
            sb.Append("  ").Append(Labels[r].PadRight(w));
            foreach (int v in ConfusionMatrix[r])
            {
                sb.Append("  ").Append(v.ToString(c).PadLeft(cw));
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => ToTable();
}
