using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;

namespace DefectDetection.Core.Tests.Metrics;

/// <summary>DeepPCB's protocol (same type, IoU above 0.33, greedy by confidence) on hand-computed cases.</summary>
public class DeepPcbProtocolTests
{
    private static readonly DetectionEvaluationOptions Protocol = new() { IouThreshold = 0.33 };

    [Fact]
    public void IouJustAboveAndBelowOneThird()
    {
        Rectangle gt = new(0, 0, 30, 30);
        // A 30x30 box shifted by 15: overlap 15x30 = 450, union 1350 -> IoU 1/3 > 0.33: a match.
        // Shifted by 16: overlap 14x30 = 420, union 1380 -> IoU 0.304: no match.
        DetectionSample[] samples =
        [
            new([new LabeledBox(gt, "open")], [new ScoredBox(new Rectangle(15, 0, 30, 30), "open", 0.9)]),
            new([new LabeledBox(gt, "open")], [new ScoredBox(new Rectangle(16, 0, 30, 30), "open", 0.8)]),
        ];
        DetectionMetrics m = DetectionEvaluator.Evaluate(samples, Protocol);
        Assert.Equal(1, m.PerLabel["open"].TruePositives);
        Assert.Equal(1, m.PerLabel["open"].FalsePositives);
        // Ranked TP, FP over 2 boxes: precision 1 at recall 1/2, nothing after -> AP 0.5.
        Assert.Equal(0.5, m.PerLabel["open"].Ap, 12);
    }

    [Fact]
    public void TwoTypes_MapIsTheMeanOfAllPointAps()
    {
        Rectangle a = new(0, 0, 30, 30), b = new(100, 100, 30, 30), c = new(200, 200, 30, 30);
        DetectionSample[] samples =
        [
            new(
                [new LabeledBox(a, "open"), new LabeledBox(b, "open"), new LabeledBox(c, "short")],
                [
                    new ScoredBox(a, "open", 0.95),                          // open TP (1/1)
                    new ScoredBox(new Rectangle(400, 400, 30, 30), "open", 0.9), // open FP (1/2)
                    new ScoredBox(new Rectangle(2, 2, 30, 30), "open", 0.85),    // open FP: duplicate of a matched box (1/3)
                    new ScoredBox(b, "open", 0.5),                           // open TP (2/4)
                    new ScoredBox(c, "open", 0.99),                          // wrong type: open FP ranked first
                    new ScoredBox(c, "short", 0.4),                          // short TP
                ]),
        ];
        DetectionMetrics m = DetectionEvaluator.Evaluate(samples, Protocol);

        // open ranked: FP(0.99) TP(0.95) FP(0.9) FP(0.85) TP(0.5); support 2.
        // precision 0, 1/2, 1/3, 1/4, 2/5; recall 0, 1/2, 1/2, 1/2, 1.
        // Envelope at recall 1/2: max(1/2, 1/3, 1/4, 2/5) = 1/2; at recall 1: 2/5. AP = 0.5 * 0.5 + 0.5 * 0.4 = 0.45.
        Assert.Equal(0.45, m.PerLabel["open"].Ap, 12);
        Assert.Equal(1.0, m.PerLabel["short"].Ap, 12);
        Assert.Equal((0.45 + 1.0) / 2, m.Map, 12);
        // P/R/F over everything: TP 3, FP 3, FN 0.
        Assert.Equal(0.5, m.Precision, 12);
        Assert.Equal(1.0, m.Recall, 12);
        Assert.Equal(2 * 0.5 / 1.5, m.FScore, 12);
    }
}
