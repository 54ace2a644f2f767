using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.Imaging;

namespace DefectDetection.Metrics;

/// <summary>A detected box with its label and score.</summary>
/// <param name="Box">The rectangle in pixels.</param>
/// <param name="Label">The predicted label (type).</param>
/// <param name="Score">Confidence; higher ranks first.</param>
public readonly record struct ScoredBox(Rectangle Box, string Label, double Score);

/// <summary>The ground truth and the detections of one image.</summary>
/// <param name="Truth">Ground-truth boxes.</param>
/// <param name="Detections">Detected boxes (any score; <see cref="DetectionEvaluationOptions.ScoreThreshold"/> applies to P/R/F only).</param>
public sealed record DetectionSample(IReadOnlyList<LabeledBox> Truth, IReadOnlyList<ScoredBox> Detections);

/// <summary>Options of <see cref="DetectionEvaluator.Evaluate"/>.</summary>
public sealed class DetectionEvaluationOptions
{
    /// <summary>
    /// A detection matches a ground-truth box of the same label when their IoU is strictly above this value
    /// (PASCAL VOC's rule). Default 0.5; DeepPCB's protocol uses 0.33.
    /// </summary>
    public double IouThreshold { get; init; } = 0.5;

    /// <summary>Detections scoring below this are left out of precision, recall and F-score (not of AP). Default 0.</summary>
    public double ScoreThreshold { get; init; }
}

/// <summary>Detection figures of one label.</summary>
public sealed class DetectionLabelMetrics
{
    /// <summary>Average precision (VOC all-point interpolation) over all detections of this label; NaN when it has no ground truth.</summary>
    public double Ap { get; init; }

    /// <summary>Precision at the score threshold (0 when nothing is detected).</summary>
    public double Precision { get; init; }

    /// <summary>Recall at the score threshold (0 without ground truth).</summary>
    public double Recall { get; init; }

    /// <summary>F-score at the score threshold.</summary>
    public double FScore { get; init; }

    /// <summary>Matched detections at the score threshold.</summary>
    public int TruePositives { get; init; }

    /// <summary>Unmatched detections at the score threshold.</summary>
    public int FalsePositives { get; init; }

    /// <summary>Ground-truth boxes left unmatched at the score threshold.</summary>
    public int FalseNegatives { get; init; }

    /// <summary>Number of ground-truth boxes.</summary>
    public int Support { get; init; }
}

/// <summary>Object-detection results, serialisable to JSON with snake_case names.</summary>
public sealed class DetectionMetrics
{
    /// <summary>Number of images evaluated.</summary>
    public int ImageCount { get; init; }

    /// <summary>Precision over all labels at the score threshold (micro average).</summary>
    public double Precision { get; init; }

    /// <summary>Recall over all labels at the score threshold (micro average).</summary>
    public double Recall { get; init; }

    /// <summary>F-score over all labels at the score threshold.</summary>
    public double FScore { get; init; }

    /// <summary>Mean of the per-label APs over the labels that have ground truth; NaN when none has.</summary>
    public double Map { get; init; }

    /// <summary>The IoU threshold used.</summary>
    public double IouThreshold { get; init; }

    /// <summary>The score threshold used for precision, recall and F-score.</summary>
    public double ScoreThreshold { get; init; }

    /// <summary>Figures per label (ordinal order).</summary>
    public IReadOnlyDictionary<string, DetectionLabelMetrics> PerLabel { get; init; } = new Dictionary<string, DetectionLabelMetrics>();

    /// <summary>The metrics as indented JSON with snake_case names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, MetricsJsonContext.Default.DetectionMetrics);
}

/// <summary>
/// Object-detection evaluation in the PASCAL VOC manner. Per label, detections of all images are ranked by score
/// (ties keep input order); each is matched to the unmatched ground-truth box of the same label and image with the
/// highest IoU if that IoU is above the threshold; a detection whose best box is already matched is a false
/// positive. AP is the all-point interpolated area under the precision-recall curve; mAP is its mean over labels
/// with ground truth.
/// </summary>
public static class DetectionEvaluator
{
    /// <summary>Evaluates detections against ground truth.</summary>
    /// <exception cref="ArgumentException">No sample, a NaN score, or an IoU threshold outside [0, 1).</exception>
    public static DetectionMetrics Evaluate(IReadOnlyList<DetectionSample> samples, DetectionEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        options ??= new DetectionEvaluationOptions();
        if (samples.Count == 0)
        {
            throw new ArgumentException("No images to evaluate.", nameof(samples));
        }

        if (!(options.IouThreshold >= 0 && options.IouThreshold < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"IouThreshold must be in [0, 1), got {options.IouThreshold}.");
        }

        SortedSet<string> labels = new(StringComparer.Ordinal);
        foreach (DetectionSample s in samples)
        {
            ArgumentNullException.ThrowIfNull(s);
            foreach (LabeledBox t in s.Truth)
            {
                labels.Add(t.Label);
            }

            foreach (ScoredBox d in s.Detections)
            {
                if (double.IsNaN(d.Score))
                {
                    throw new ArgumentException("A detection score is NaN.", nameof(samples));
                }

                labels.Add(d.Label);
            }
        }

        Dictionary<string, DetectionLabelMetrics> perLabel = new(StringComparer.Ordinal);
        long tpAll = 0, fpAll = 0, fnAll = 0;
        double apSum = 0;
        int apCount = 0;
        foreach (string label in labels)
        {
            DetectionLabelMetrics m = EvaluateLabel(samples, label, options);
            perLabel[label] = m;
            tpAll += m.TruePositives;
            fpAll += m.FalsePositives;
            fnAll += m.FalseNegatives;
            if (m.Support > 0)
            {
                apSum += m.Ap;
                apCount++;
            }
        }

        double precision = tpAll + fpAll == 0 ? 0 : (double)tpAll / (tpAll + fpAll);
        double recall = tpAll + fnAll == 0 ? 0 : (double)tpAll / (tpAll + fnAll);
        return new DetectionMetrics
        {
            ImageCount = samples.Count,
            Precision = precision,
            Recall = recall,
            FScore = F(precision, recall),
            Map = apCount == 0 ? double.NaN : apSum / apCount,
            IouThreshold = options.IouThreshold,
            ScoreThreshold = options.ScoreThreshold,
            PerLabel = perLabel,
        };
    }

    private static DetectionLabelMetrics EvaluateLabel(IReadOnlyList<DetectionSample> samples, string label, DetectionEvaluationOptions options)
    {
        List<(double Score, int Image, Rectangle Box)> detections = [];
        List<Rectangle>[] truth = new List<Rectangle>[samples.Count];
        int support = 0;
        for (int s = 0; s < samples.Count; s++)
        {
            truth[s] = [.. samples[s].Truth.Where(t => string.Equals(t.Label, label, StringComparison.Ordinal)).Select(t => t.Box)];
            support += truth[s].Count;
            foreach (ScoredBox d in samples[s].Detections)
            {
                if (string.Equals(d.Label, label, StringComparison.Ordinal))
                {
                    detections.Add((d.Score, s, d.Box));
                }
            }
        }

        // Stable sort by descending score.
        (double Score, int Image, Rectangle Box)[] ranked = [.. detections.Select((d, i) => (d, i)).OrderByDescending(x => x.d.Score).ThenBy(x => x.i).Select(x => x.d)];
        bool[][] matched = truth.Select(t => new bool[t.Count]).ToArray();
        bool[] isTp = new bool[ranked.Length];
        for (int k = 0; k < ranked.Length; k++)
        {
            List<Rectangle> candidates = truth[ranked[k].Image];
            double best = -1;
            int bestIndex = -1;
            for (int g = 0; g < candidates.Count; g++)
            {
                double iou = Rectangle.IntersectionOverUnion(ranked[k].Box, candidates[g]);
                if (iou > best)
                {
                    best = iou;
                    bestIndex = g;
                }
            }

            if (bestIndex >= 0 && best > options.IouThreshold && !matched[ranked[k].Image][bestIndex])
            {
                matched[ranked[k].Image][bestIndex] = true;
                isTp[k] = true;
            }
        }

        // AP: all-point interpolation over the ranked list.
        double ap = double.NaN;
        if (support > 0)
        {
            double[] precision = new double[ranked.Length], recall = new double[ranked.Length];
            int tp = 0;
            for (int k = 0; k < ranked.Length; k++)
            {
                tp += isTp[k] ? 1 : 0;
                precision[k] = (double)tp / (k + 1);
                recall[k] = (double)tp / support;
            }

            for (int k = ranked.Length - 2; k >= 0; k--)
            {
                precision[k] = Math.Max(precision[k], precision[k + 1]);
            }

            ap = 0;
            double prevRecall = 0;
            for (int k = 0; k < ranked.Length; k++)
            {
                ap += (recall[k] - prevRecall) * precision[k];
                prevRecall = recall[k];
            }
        }

        // Thresholded figures: the greedy matching of a score-ranked prefix equals the prefix of the full matching.
        int tpAt = 0, fpAt = 0;
        for (int k = 0; k < ranked.Length && ranked[k].Score >= options.ScoreThreshold; k++)
        {
            if (isTp[k])
            {
                tpAt++;
            }
            else
            {
                fpAt++;
            }
        }

        double p = tpAt + fpAt == 0 ? 0 : (double)tpAt / (tpAt + fpAt);
        double r = support == 0 ? 0 : (double)tpAt / support;
        return new DetectionLabelMetrics
        {
            Ap = ap,
            Precision = p,
            Recall = r,
            FScore = F(p, r),
            TruePositives = tpAt,
            FalsePositives = fpAt,
            FalseNegatives = support - tpAt,
            Support = support,
        };
    }

    private static double F(double p, double r) => p + r == 0 ? 0 : 2 * p * r / (p + r);
}
