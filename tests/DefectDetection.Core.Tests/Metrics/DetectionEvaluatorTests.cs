using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;

namespace DefectDetection.Core.Tests.Metrics;

public class DetectionEvaluatorTests
{
    private static readonly Rectangle A1 = new(0, 0, 10, 10);
    private static readonly Rectangle A2 = new(20, 20, 10, 10);

    [Fact]
    public void Evaluate_HandComputedApAndThresholdedFigures()
    {
        DetectionSample[] samples =
        [
            new([new LabeledBox(A1, "a")],
            [
                new ScoredBox(A1, "a", 0.9),                      // TP
                new ScoredBox(new Rectangle(50, 50, 10, 10), "a", 0.8), // FP: no overlap
                new ScoredBox(new Rectangle(1, 0, 10, 10), "a", 0.7),   // FP: duplicate of a matched box
            ]),
            new([new LabeledBox(A2, "a")], [new ScoredBox(A2, "a", 0.6)]), // TP
        ];

        DetectionMetrics m = DetectionEvaluator.Evaluate(samples, new DetectionEvaluationOptions { IouThreshold = 0.5, ScoreThreshold = 0.65 });

        // Ranked TP FP FP TP: precision 1, 1/2, 1/3, 1/2; recall 1/2, 1/2, 1/2, 1. Envelope 1, 1/2, 1/2, 1/2.
        DetectionLabelMetrics a = m.PerLabel["a"];
        Assert.Equal(0.75, a.Ap, 12);
        Assert.Equal(0.75, m.Map, 12);
        // Score >= 0.65: TP 1, FP 2, FN 1.
        Assert.Equal(1, a.TruePositives);
        Assert.Equal(2, a.FalsePositives);
        Assert.Equal(1, a.FalseNegatives);
        Assert.Equal(1 / 3.0, m.Precision, 12);
        Assert.Equal(0.5, m.Recall, 12);
        Assert.Equal(0.4, m.FScore, 12);
    }

    [Fact]
    public void Evaluate_TypesMustMatch_AndLabelsWithoutTruthAreLeftOutOfMap()
    {
        DetectionSample[] samples =
        [
            new([new LabeledBox(A1, "open"), new LabeledBox(A2, "short")],
            [new ScoredBox(A1, "short", 0.9), new ScoredBox(A2, "short", 0.8)]),
        ];
        DetectionMetrics m = DetectionEvaluator.Evaluate(samples);
        Assert.Equal(0.0, m.PerLabel["open"].Ap); // its box was found, but under the wrong type
        Assert.Equal(1, m.PerLabel["open"].FalseNegatives);
        // short: FP (wrong place) then TP -> precision 1/2 at recall 1 -> AP 0.5
        Assert.Equal(0.5, m.PerLabel["short"].Ap, 12);
        Assert.Equal(0.25, m.Map, 12);

        DetectionMetrics extra = DetectionEvaluator.Evaluate([new([new LabeledBox(A1, "x")], [new ScoredBox(A1, "x", 1), new ScoredBox(A2, "ghost", 1)])]);
        Assert.True(double.IsNaN(extra.PerLabel["ghost"].Ap));
        Assert.Equal(1.0, extra.Map, 12);
        Assert.Equal(0.5, extra.Precision, 12);
    }

    [Fact]
    public void Evaluate_IouMustBeAboveTheThreshold()
    {
        // IoU = 50 / 100 = 0.5 exactly.
        DetectionSample[] samples = [new([new LabeledBox(A1, "a")], [new ScoredBox(new Rectangle(0, 0, 10, 5), "a", 1)])];
        Assert.Equal(0.0, DetectionEvaluator.Evaluate(samples, new DetectionEvaluationOptions { IouThreshold = 0.5 }).Recall);
        Assert.Equal(1.0, DetectionEvaluator.Evaluate(samples, new DetectionEvaluationOptions { IouThreshold = 0.49 }).Recall);
    }

    [Fact]
    public void Evaluate_EmptyAndNoDetections()
    {
        Assert.Throws<ArgumentException>(() => DetectionEvaluator.Evaluate([]));
        DetectionMetrics none = DetectionEvaluator.Evaluate([new([new LabeledBox(A1, "a")], [])]);
        Assert.Equal(0.0, none.Map);
        Assert.Equal(0.0, none.Precision);
        Assert.Equal(0.0, none.Recall);
        DetectionMetrics nothing = DetectionEvaluator.Evaluate([new([], [])]);
        Assert.True(double.IsNaN(nothing.Map));
    }

    [Fact]
    public void Json_UsesSnakeCase()
    {
        string json = DetectionEvaluator.Evaluate([new([new LabeledBox(A1, "a")], [new ScoredBox(A1, "a", 1)])]).ToJson();
        using JsonDocument doc = JsonDocument.Parse(json);
        Assert.Equal(1.0, doc.RootElement.GetProperty("map").GetDouble());
        Assert.Equal(1.0, doc.RootElement.GetProperty("f_score").GetDouble());
        Assert.Equal(1, doc.RootElement.GetProperty("per_label").GetProperty("a").GetProperty("true_positives").GetInt32());
    }
}
