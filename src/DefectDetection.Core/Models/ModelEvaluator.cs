using System.Text.Json;
using System.Text.Json.Serialization;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;

namespace DefectDetection.Models;

/// <summary>Options of <see cref="ModelEvaluator.Evaluate"/>.</summary>
public sealed class ModelEvaluationOptions
{
    /// <summary>
    /// Labels of the dataset that count as good images. Null (default): the model's <see cref="IDefectModel.NormalLabels"/>
    /// and <see cref="Learners.DefaultNormalLabels"/>.
    /// </summary>
    public IReadOnlyList<string>? NormalLabels { get; init; }

    /// <summary>
    /// A folder of ground-truth masks matched to the images by file stem (any non-zero pixel is a defect), for pixel
    /// AUROC and AUPRO of models with anomaly maps; items' own <see cref="LabeledImage.MaskPath"/> take precedence.
    /// Good images need no mask. Null: masks only from the items.
    /// </summary>
    public string? MaskFolder { get; init; }

    /// <summary>Compute pixel metrics (needs masks; holds every map in memory). Default false.</summary>
    public bool PixelMetrics { get; init; }
}

/// <summary>
/// Scores any <see cref="IDefectModel"/> on a labelled dataset: defect against good at the model's threshold
/// (accuracy, precision, recall, F1, confusion matrix), threshold-free image AUROC and PR AUC, the operating points a
/// user can choose a threshold from, per-label metrics for classifiers, and pixel AUROC / AUPRO with masks.
/// </summary>
public static class ModelEvaluator
{
    /// <summary>Evaluates a model.</summary>
    /// <param name="model">The model.</param>
    /// <param name="dataset">Labelled images.</param>
    /// <param name="options">Options.</param>
    /// <param name="progress">Receives the number of images done.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <exception cref="ArgumentException">The dataset is empty, or a mask's size differs from its image's.</exception>
    public static ModelEvaluation Evaluate(IDefectModel model, ImageDataset dataset, ModelEvaluationOptions? options = null, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new ModelEvaluationOptions();
        if (dataset.Count == 0)
        {
            throw new ArgumentException("The dataset has no images.", nameof(dataset));
        }

        HashSet<string> normal = new(options.NormalLabels ?? [.. model.NormalLabels, .. Learners.DefaultNormalLabels], StringComparer.OrdinalIgnoreCase);
        List<EvaluatedImage> items = [];
        List<AnomalyMapSample> maps = [];
        List<string> missing = [];
        foreach (LabeledImage item in dataset)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using Image image = ImageCodecs.Load(item.ImagePath);
            DefectPrediction p = model.Predict(image.View(), cancellationToken);
            bool truth = !normal.Contains(item.Label);
            items.Add(new EvaluatedImage
            {
                Image = item.ImagePath,
                Label = item.Label,
                IsDefect = truth,
                PredictedLabel = p.Label,
                PredictedDefect = p.IsDefect,
                Score = p.Score,
                Confidence = p.Confidence,
            });
            if (options.PixelMetrics && p.AnomalyMap is { } map)
            {
                byte[]? mask = truth ? ReadMask(item, options.MaskFolder, map.Width, map.Height) : new byte[map.Width * map.Height];
                if (mask is null)
                {
                    missing.Add(item.ImagePath);
                }
                else
                {
                    maps.Add(new AnomalyMapSample(map.Values, mask, map.Width, map.Height));
                    if (truth && p.IsDefect && mask.AsSpan().ContainsAnyExcept((byte)0))
                    {
                        items[^1] = items[^1] with { TopRegionOnDefect = p.Defects.Count > 0 && Covers(p.Defects[0].Box, mask, map) };
                    }
                }
            }

            progress?.Report(items.Count);
        }

        return Summarise(model, dataset, items, maps, missing, options.PixelMetrics);
    }

    private static ModelEvaluation Summarise(IDefectModel model, ImageDataset dataset, List<EvaluatedImage> items, List<AnomalyMapSample> maps, List<string> missing, bool pixel)
    {
        int tp = 0, fp = 0, fn = 0, tn = 0;
        foreach (EvaluatedImage e in items)
        {
            _ = (e.IsDefect, e.PredictedDefect) switch
            {
                (true, true) => tp++,
                (false, true) => fp++,
                (true, false) => fn++,
                _ => tn++,
            };
        }

        double[] scores = [.. items.Select(e => double.IsFinite(e.Score) ? e.Score : double.MinValue)];
        bool[] truth = [.. items.Select(e => e.IsDefect)];
        bool mixed = tp + fn > 0 && tn + fp > 0;
        double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        double recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        bool hasMasks = maps.Any(m => m.Mask.Any(v => v != 0));

        // Per-label figures for models whose labels are the dataset's (classifiers).
        ClassificationMetrics? labels = null;
        if (model.Task != DefectTask.AnomalyDetection && dataset.Labels.All(model.Labels.Contains))
        {
            labels = ClassificationEvaluator.Evaluate([.. items.Select(e => e.Label)], [.. items.Select(e => e.PredictedLabel)], model.Labels);
        }

        return new ModelEvaluation
        {
            Learner = model.Learner,
            Images = items.Count,
            Defects = tp + fn,
            Threshold = model.Threshold,
            Accuracy = (double)(tp + tn) / items.Count,
            Precision = precision,
            Recall = recall,
            F1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
            ConfusionMatrix = [[tn, fp], [fn, tp]],
            ImageAuroc = mixed ? BinaryMetrics.RocAuc(scores, truth) : null,
            PrAuc = mixed ? BinaryMetrics.AveragePrecision(scores, truth) : null,
            OperatingPoints = mixed ? OperatingPoints(scores, truth) : [],
            Labels = labels,
            PixelAuroc = pixel && hasMasks ? PixelMetrics.Auroc(maps) : null,
            Aupro = pixel && hasMasks ? PixelMetrics.Aupro(maps) : null,
            TopRegionOnDefect = pixel && hasMasks ? items.Count(e => e.TopRegionOnDefect == true) : null,
            FlaggedWithMask = pixel && hasMasks ? items.Count(e => e.TopRegionOnDefect is not null) : null,
            MissingMasks = missing,
            Items = items,
        };
    }

    /// <summary>
    /// Precision, recall and false-positive rate at every distinct score taken as the threshold (score &gt;= threshold
    /// is a defect), highest threshold first.
    /// </summary>
    public static IReadOnlyList<OperatingPoint> OperatingPoints(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positives)
    {
        if (scores.Length != positives.Length)
        {
            throw new ArgumentException("One label per score is needed.", nameof(positives));
        }

        int[] order = [.. Enumerable.Range(0, scores.Length)];
        double[] s = scores.ToArray();
        Array.Sort(order, (a, b) => s[b].CompareTo(s[a]));
        int positivesTotal = 0;
        foreach (bool p in positives)
        {
            positivesTotal += p ? 1 : 0;
        }

        int negativesTotal = scores.Length - positivesTotal;
        List<OperatingPoint> points = [];
        int tp = 0, fp = 0;
        for (int k = 0; k < order.Length; k++)
        {
            if (positives[order[k]])
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (k + 1 < order.Length && s[order[k + 1]] == s[order[k]])
            {
                continue; // ties: one point after the last image with this score
            }

            points.Add(new OperatingPoint(
                s[order[k]],
                (double)tp / (tp + fp),
                positivesTotal == 0 ? 0 : (double)tp / positivesTotal,
                negativesTotal == 0 ? 0 : (double)fp / negativesTotal));
        }

        return points;
    }

    // The item's own mask, else the file in the folder with the image's stem (any image extension); null when none.
    /// <summary>Whether an image-space box covers a non-zero pixel of a mask at the map's size.</summary>
    private static bool Covers(Rectangle box, byte[] mask, AnomalyMap map)
    {
        int x0 = Math.Clamp((int)Math.Floor(box.X / map.ScaleX), 0, map.Width), x1 = Math.Clamp((int)Math.Ceiling((box.X + box.Width) / map.ScaleX), 0, map.Width);
        int y0 = Math.Clamp((int)Math.Floor(box.Y / map.ScaleY), 0, map.Height), y1 = Math.Clamp((int)Math.Ceiling((box.Y + box.Height) / map.ScaleY), 0, map.Height);
        for (int y = y0; y < y1; y++)
        {
            if (mask.AsSpan((y * map.Width) + x0, x1 - x0).ContainsAnyExcept((byte)0))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[]? ReadMask(LabeledImage item, string? folder, int width, int height)
    {
        string? file = item.MaskPath;
        if (file is null && folder is not null)
        {
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"The mask folder was not found: {folder}");
            }

            string stem = Path.GetFileNameWithoutExtension(item.ImagePath);
            file = Directory.EnumerateFiles(folder, stem + ".*").FirstOrDefault(f => Path.GetFileNameWithoutExtension(f) == stem);
        }

        if (file is null)
        {
            return null;
        }

        using Image mask = ImageCodecs.Load(file);
        if (mask.Width != width || mask.Height != height)
        {
            throw new ArgumentException($"The mask {file} is {mask.Width}x{mask.Height} but its image's map is {width}x{height}.");
        }

        byte[] result = new byte[width * height];
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = mask.GetRow(y);
            for (int x = 0; x < width; x++)
            {
                bool on = false;
                for (int c = 0; c < mask.Channels && !on; c++)
                {
                    on = row[(x * mask.Channels) + c] != 0 && !(mask.Channels == 4 && c == 3);
                }

                result[(y * width) + x] = on ? (byte)1 : (byte)0;
            }
        }

        return result;
    }
}

/// <summary>A threshold and the precision, recall and false-positive rate it gives on the evaluated images.</summary>
/// <param name="Threshold">The threshold on <see cref="DefectPrediction.Score"/> (score &gt;= threshold is a defect).</param>
/// <param name="Precision">Share of images called defects that are.</param>
/// <param name="Recall">Share of defective images called defects.</param>
/// <param name="FalsePositiveRate">Share of good images called defects.</param>
public sealed record OperatingPoint(double Threshold, double Precision, double Recall, double FalsePositiveRate);

/// <summary>One evaluated image.</summary>
public sealed record EvaluatedImage
{
    /// <summary>The image file.</summary>
    public required string Image { get; init; }

    /// <summary>Its true label.</summary>
    public required string Label { get; init; }

    /// <summary>True when the true label is a defect.</summary>
    public required bool IsDefect { get; init; }

    /// <summary>The model's label.</summary>
    public required string PredictedLabel { get; init; }

    /// <summary>The model's verdict.</summary>
    public required bool PredictedDefect { get; init; }

    /// <summary>The model's score.</summary>
    public required double Score { get; init; }

    /// <summary>The model's confidence that the image is a defect.</summary>
    public required float Confidence { get; init; }

    /// <summary>
    /// For a defective image the model flagged, with a mask: whether the box of its first located defect (the most
    /// confident region) covers a defect pixel of the mask; else null.
    /// </summary>
    public bool? TopRegionOnDefect { get; init; }
}

/// <summary>What <see cref="ModelEvaluator.Evaluate"/> measured. Metrics that need both good and defective images are null when the set has one kind only.</summary>
public sealed record ModelEvaluation
{
    /// <summary>The learner of the model.</summary>
    public required string Learner { get; init; }

    /// <summary>Images evaluated.</summary>
    public int Images { get; init; }

    /// <summary>Defective images among them.</summary>
    public int Defects { get; init; }

    /// <summary>The threshold the verdicts used, or null when the verdict is the likeliest label.</summary>
    public double? Threshold { get; init; }

    /// <summary>Share of images judged right (defect or good).</summary>
    public double Accuracy { get; init; }

    /// <summary>Precision of the defect verdicts.</summary>
    public double Precision { get; init; }

    /// <summary>Recall of the defective images.</summary>
    public double Recall { get; init; }

    /// <summary>F1 of the defect class.</summary>
    public double F1 { get; init; }

    /// <summary>Rows: actual good, defect; columns: judged good, defect.</summary>
    public int[][] ConfusionMatrix { get; init; } = [];

    /// <summary>Threshold-free ranking quality of the scores (null with one kind of image).</summary>
    public double? ImageAuroc { get; init; }

    /// <summary>Average precision of the scores (null with one kind of image).</summary>
    public double? PrAuc { get; init; }

    /// <summary>Precision, recall and false-positive rate at each distinct score as the threshold, highest first.</summary>
    public IReadOnlyList<OperatingPoint> OperatingPoints { get; init; } = [];

    /// <summary>Per-label metrics (classifiers whose labels cover the dataset's), or null.</summary>
    public ClassificationMetrics? Labels { get; init; }

    /// <summary>Pixel AUROC over every map (null without masks of defective images).</summary>
    public double? PixelAuroc { get; init; }

    /// <summary>Area under the per-region overlap curve up to 30% false-positive rate (null without masks).</summary>
    public double? Aupro { get; init; }

    /// <summary>
    /// Flagged defective images with masks whose most confident located defect covers a defect pixel (see
    /// <see cref="EvaluatedImage.TopRegionOnDefect"/>), or null without masks.
    /// </summary>
    public int? TopRegionOnDefect { get; init; }

    /// <summary>Flagged defective images with masks: the denominator of <see cref="TopRegionOnDefect"/> (null without masks).</summary>
    public int? FlaggedWithMask { get; init; }

    /// <summary>Defective images for which no mask was found (pixel metrics leave them out).</summary>
    public IReadOnlyList<string> MissingMasks { get; init; } = [];

    /// <summary>Every image's verdict.</summary>
    public IReadOnlyList<EvaluatedImage> Items { get; init; } = [];

    /// <summary>Serialises the evaluation (snake_case; absent figures as null).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, EvaluationJsonContext.Default.ModelEvaluation);
}

/// <summary>Source-generated JSON contract of <see cref="ModelEvaluation"/>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ModelEvaluation))]
internal sealed partial class EvaluationJsonContext : JsonSerializerContext
{
}
