using System.Text.Json;
using DefectDetection.Metrics;

namespace DefectDetection.Core.Tests.Metrics;

public class ClassificationEvaluatorTests
{
    [Fact]
    public void Evaluate_HandComputedThreeClasses()
    {
        // scikit-learn's classification_report example: y_true [0,1,2,0,1,2], y_pred [0,2,1,0,0,1].
        string[] actual = ["a", "b", "c", "a", "b", "c"];
        string[] predicted = ["a", "c", "b", "a", "a", "b"];
        ClassificationMetrics m = ClassificationEvaluator.Evaluate(actual, predicted);

        Assert.Equal(6, m.Count);
        Assert.Equal(2 / 6.0, m.Accuracy, 12);
        Assert.Equal(2 / 3.0, m.PerLabel["a"].Precision, 12);
        Assert.Equal(1.0, m.PerLabel["a"].Recall, 12);
        Assert.Equal(0.8, m.PerLabel["a"].F1, 12);
        Assert.Equal(2, m.PerLabel["a"].Support);
        Assert.Equal(0.0, m.PerLabel["b"].F1);
        Assert.Equal(0.8 / 3, m.MacroF1, 12);
        Assert.Equal([[2, 0, 0], [1, 0, 1], [0, 2, 0]], m.ConfusionMatrix);
        Assert.Null(m.RocAuc);
    }

    [Fact]
    public void Evaluate_LabelNeverPredictedOrAbsent_CountsAsZero()
    {
        ClassificationMetrics m = ClassificationEvaluator.Evaluate(["x", "x"], ["x", "x"], ["x", "y"]);
        Assert.Equal(1.0, m.Accuracy);
        Assert.Equal(0, m.PerLabel["y"].Support);
        Assert.Equal(0.0, m.PerLabel["y"].Precision);
        Assert.Equal(0.5, m.MacroF1, 12);
    }

    [Fact]
    public void Evaluate_BadInput_Throws()
    {
        Assert.Throws<ArgumentException>(() => ClassificationEvaluator.Evaluate([], []));
        Assert.Throws<ArgumentException>(() => ClassificationEvaluator.Evaluate(["a"], ["a", "b"]));
        Assert.Throws<ArgumentException>(() => ClassificationEvaluator.Evaluate(["a"], ["z"], ["a", "b"]));
        Assert.Throws<ArgumentException>(() => ClassificationEvaluator.FromConfusionMatrix(["a", "b"], [[0, 0], [0, 0]]));
        Assert.Throws<ArgumentException>(() => ClassificationEvaluator.FromConfusionMatrix(["a", "b"], [[1, 0]]));
    }

    [Fact]
    public void EvaluateBinary_ThresholdedAndThresholdFree()
    {
        bool[] positive = [false, false, true, true];
        double[] scores = [0.1, 0.4, 0.35, 0.8];
        ClassificationMetrics m = ClassificationEvaluator.EvaluateBinary(positive, scores, threshold: 0.35);

        Assert.Equal(["normal", "anomaly"], m.Labels);
        Assert.Equal([[1, 1], [0, 2]], m.ConfusionMatrix); // 0.4 normal is a false alarm
        Assert.Equal(0.75, m.Accuracy, 12);
        Assert.Equal(2 / 3.0, m.PerLabel["anomaly"].Precision, 12);
        Assert.Equal(0.75, m.RocAuc!.Value, 12);
        Assert.Equal(0.5 + (1 / 3.0), m.PrAuc!.Value, 12);
        Assert.Equal(0.35, m.Threshold);
        Assert.Equal("anomaly", m.PositiveLabel);

        ClassificationMetrics chosen = ClassificationEvaluator.EvaluateBinary(positive, scores);
        Assert.Equal(0.35, chosen.Threshold); // F1: 0.8 -> 2/3, 0.4 -> 0.5, 0.35 -> 0.8 (best), 0.1 -> 2/3

        ClassificationMetrics oneClass = ClassificationEvaluator.EvaluateBinary([false, false], [0.2, 0.7], threshold: 0.5);
        Assert.True(double.IsNaN(oneClass.RocAuc!.Value));
        Assert.Equal(0.5, oneClass.Accuracy);
    }

    [Fact]
    public void Json_UsesSnakeCaseNames_AndRoundTrips_WithNaN()
    {
        ClassificationMetrics m = ClassificationEvaluator.EvaluateBinary([false, false], [0.2, 0.7], threshold: 0.5);
        string json = m.ToJson();
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        foreach (string name in new[] { "accuracy", "macro_f1", "per_label", "confusion_matrix", "roc_auc", "pr_auc", "threshold", "labels", "count", "positive_label" })
        {
            Assert.True(root.TryGetProperty(name, out _), name);
        }

        JsonElement normal = root.GetProperty("per_label").GetProperty("normal");
        Assert.Equal(2, normal.GetProperty("support").GetInt32());
        Assert.True(normal.TryGetProperty("f1", out _));
        Assert.Equal("NaN", root.GetProperty("roc_auc").GetString());

        ClassificationMetrics back = ClassificationMetrics.FromJson(json);
        Assert.Equal(m.Accuracy, back.Accuracy);
        Assert.True(double.IsNaN(back.RocAuc!.Value));
        Assert.Equal(m.ConfusionMatrix, back.ConfusionMatrix);
        Assert.Equal(m.PerLabel["normal"].Recall, back.PerLabel["normal"].Recall);
    }

    [Fact]
    public void ToTable_ListsEveryLabelAndTheMatrix()
    {
        ClassificationMetrics m = ClassificationEvaluator.Evaluate(["normal", "anomaly", "normal"], ["normal", "normal", "normal"]);
        string table = m.ToTable();
        Assert.Contains("Evaluation results (3 images)", table, StringComparison.Ordinal);
        Assert.Contains("Precision", table, StringComparison.Ordinal);
        Assert.Contains("Confusion matrix", table, StringComparison.Ordinal);
        Assert.Contains("anomaly", table, StringComparison.Ordinal);
        Assert.Contains("0.667", table, StringComparison.Ordinal); // accuracy 2/3
    }

    [Fact]
    public void ToSummary_HoldsTheHeadlineFigures()
    {
        ClassificationMetrics m = ClassificationEvaluator.EvaluateBinary([false, true], [0.2, 0.7], threshold: 0.5);
        IReadOnlyDictionary<string, double> s = m.ToSummary();
        Assert.Equal(1.0, s["accuracy"]);
        Assert.Equal(1.0, s["macro_f1"]);
        Assert.Equal(1.0, s["roc_auc"]);
        Assert.Equal(0.5, s["threshold"]);
        Assert.Equal(1.0, s["f1/anomaly"]);
        Assert.False(ClassificationEvaluator.Evaluate(["a"], ["a"]).ToSummary().ContainsKey("roc_auc"));
    }
}
