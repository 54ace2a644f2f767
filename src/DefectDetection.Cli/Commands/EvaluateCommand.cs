using System.CommandLine;
using System.Globalization;
using System.Text;
using DefectDetection.Cli.Commands.Tasks;
using DefectDetection.Datasets;
using DefectDetection.Metrics;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.PipelineFiles;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect evaluate</c>: scores any model file on labelled images, defect against good, with the operating points.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CliContext context)
    {
        ModelArguments model = new();
        Option<string> data = new("--data") { Description = "The images, read as train reads them; their test part is used (test/ of an MVTec AD or train/test folder, the test list of a splits .json), else every image (label folders, files named by label, a manifest with --images)." };
        Option<string> testFraction = new("--test-fraction") { Description = "Evaluate only the part of data without a test part that train held out with the same --test-fraction and --seed (default 0: every image)." };
        Option<string> seed = new("--seed") { Description = "The seed of the split that --test-fraction repeats (default 0)." };
        Option<string> images = new("--images") { Description = "The image folder of a manifest." };
        Option<string> split = new("--split") { Description = "The list of a splits .json ([task:]name, several joined by +: anomaly_detection:test_normal+test_anomaly; default classification test)." };
        Option<string> masks = new("--masks") { Description = "Models with anomaly maps: folder of ground-truth masks, matched by file stem (any non-zero pixel is a defect); adds pixel AUROC and AUPRO (as the masks of an MVTec AD folder or a manifest do)." };
        Option<string> normal = new("--normal-label") { Description = "Labels of good images, comma-separated (default: the model's normal labels and normal, good, ok, free)." };
        Option<string> pipeline = new("--pipeline") { Description = "Evaluate a pipeline file's detections instead of a model: --data is a folder of images, --annotations their true defect boxes." };
        Option<string> annotations = new("--annotations") { Description = "With --pipeline: Pascal VOC folder (STEM.xml per image) or COCO .json of the true defect boxes." };
        Option<string> iou = new("--iou") { Description = "With --pipeline: the IoU a detection needs with a true box to count (default 0.5)." };
        Option<bool> json = new("--json") { Description = "Write JSON for machines instead of text." };
        Command command = new("evaluate", "Evaluate a model of any learner on labelled images: accuracy, precision, recall, F1, confusion matrix, image AUROC, operating points (classifiers: per-label metrics; with --masks: pixel AUROC, AUPRO).")
        {
            data, testFraction, seed, images, split, masks, normal, pipeline, annotations, iou, json,
        };
        model.AddTo(command);
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse => context.Guard(() =>
        {
            OnnxCommand.RejectUnmatched(parse);
            string dataPath = TrainCommand.Required(parse.GetValue(data), "--data", "the labelled images");
            if (parse.GetValue(pipeline) is { } pipelinePath)
            {
                double matchIou = parse.GetValue(iou) is { } text
                    ? (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && v < 1 ? v : throw new ArgumentException($"--iou: '{text}' is not a number in (0, 1)."))
                    : 0.5;
                return EvaluatePipeline(context, pipelinePath, dataPath, TrainCommand.Required(parse.GetValue(annotations), "--annotations", "the true defect boxes"), matchIou, ModelArguments.ParseThreshold(parse.GetValue(model.Threshold)), parse.GetValue(json));
            }

            TrainingParts parts = TrainingData.ReadForEvaluation(dataPath, parse.GetValue(images), parse.GetValue(split),
                TrainCommand.ParseDouble(parse.GetValue(testFraction), "--test-fraction"), OnnxTensorFiles.ParseInt(parse.GetValue(seed), "--seed", 0, 0, int.MaxValue));
            ImageDataset dataset = parts.Test!;
            if (parse.GetValue(annotations) is not null)
            {
                throw new ArgumentException("--annotations: evaluates a pipeline's detections; give --pipeline too.");
            }

            using IDefectModel loaded = model.Load(parse);
            string? maskFolder = parse.GetValue(masks);
            if (maskFolder is not null && !Directory.Exists(maskFolder))
            {
                throw new DirectoryNotFoundException($"--masks: folder not found: {maskFolder}");
            }

            ModelEvaluation result = ModelEvaluator.Evaluate(loaded, dataset, new ModelEvaluationOptions
            {
                NormalLabels = parse.GetValue(normal) is { } n
                    ? n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [.. loaded.NormalLabels, .. Learners.DefaultNormalLabels],
                MaskFolder = maskFolder,
                PixelMetrics = maskFolder is not null || dataset.Any(i => i.MaskPath is not null),
            });
            if (!parse.GetValue(json))
            {
                context.Out.WriteLine($"data        {parts.Layout}{(parts.HeldOut is null ? string.Empty : $"; {parts.HeldOut}")}");
            }

            context.Out.WriteLine(parse.GetValue(json) ? result.ToJson() : Text(result));
            return CliContext.Ok;
        }));
        return command;
    }

    // Detections of a pipeline against true boxes: per label, and with every label taken as "defect".
    private static int EvaluatePipeline(CliContext context, string pipelinePath, string data, string annotations, double iou, double? threshold, bool json)
    {
        string[] files = TrainingData.ImageFiles(data, "--data");
        Func<string, IReadOnlyList<LabeledBox>> truth = TrainingData.Boxes(annotations);
        using DefectPipeline pipeline = PipelineFile.Load(pipelinePath, threshold);
        IReadOnlyList<InspectionResult> results = pipeline.InspectFiles(files);
        List<DetectionSample> byLabel = [], any = [];
        for (int i = 0; i < files.Length; i++)
        {
            IReadOnlyList<LabeledBox> t = truth(files[i]);
            ScoredBox[] found = [.. results[i].Defects.Select(d => new ScoredBox(d.Box, d.Label, d.Confidence))];
            byLabel.Add(new DetectionSample(t, found));
            any.Add(new DetectionSample([.. t.Select(b => b with { Label = "defect" })], [.. found.Select(b => b with { Label = "defect" })]));
        }

        DetectionEvaluationOptions options = new() { IouThreshold = iou };
        DetectionMetrics anyDefect = DetectionEvaluator.Evaluate(any, options), labelled = DetectionEvaluator.Evaluate(byLabel, options);
        if (json)
        {
            context.Out.WriteLine($"{{\n  \"images\": {files.Length},\n  \"any_defect\": {anyDefect.ToJson()},\n  \"by_label\": {labelled.ToJson()}\n}}");
        }
        else
        {
            CultureInfo inv = CultureInfo.InvariantCulture;
            context.Out.WriteLine(string.Create(inv, $"{files.Length} images, IoU {iou}"));
            context.Out.WriteLine(string.Create(inv, $"any defect: precision {anyDefect.Precision:F4}, recall {anyDefect.Recall:F4}, F1 {anyDefect.FScore:F4}, AP {anyDefect.Map:F4}"));
            foreach ((string label, DetectionLabelMetrics m) in labelled.PerLabel)
            {
                context.Out.WriteLine(string.Create(inv, $"  {label,-16} precision {m.Precision:F4}, recall {m.Recall:F4}, F1 {m.FScore:F4}, AP {m.Ap:F4} ({m.Support} true)"));
            }
        }

        return CliContext.Ok;
    }

    /// <summary>The evaluation as text: the summary, the confusion matrix, the operating points (at most 15, evenly chosen) and per-label metrics.</summary>
    internal static string Text(ModelEvaluation e)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        StringBuilder b = new();
        string Num(double? v) => v is { } x ? x.ToString("F4", inv) : "n/a";
        b.AppendLine(inv, $"images      {e.Images} ({e.Defects} defective)");
        b.AppendLine(inv, $"threshold   {Num(e.Threshold)}");
        b.AppendLine(inv, $"accuracy    {Num(e.Accuracy)}");
        b.AppendLine(inv, $"precision   {Num(e.Precision)}");
        b.AppendLine(inv, $"recall      {Num(e.Recall)}");
        b.AppendLine(inv, $"f1          {Num(e.F1)}");
        b.AppendLine(inv, $"image AUROC {Num(e.ImageAuroc)}");
        b.AppendLine(inv, $"PR AUC      {Num(e.PrAuc)}");
        if (e.PixelAuroc is not null || e.MissingMasks.Count > 0)
        {
            b.AppendLine(inv, $"pixel AUROC {Num(e.PixelAuroc)}");
            b.AppendLine(inv, $"AUPRO       {Num(e.Aupro)}");
            if (e.FlaggedWithMask is { } flagged)
            {
                b.AppendLine(inv, $"located     {e.TopRegionOnDefect} of {flagged} flagged defective images: the top region covers the mask");
            }

            b.AppendLine(inv, $"no mask     {(e.MissingMasks.Count == 0 ? "none" : string.Join(", ", e.MissingMasks))}");
        }

        b.AppendLine();
        b.AppendLine("Confusion matrix (rows: actual, columns: judged)");
        b.AppendLine("            good  defect");
        b.AppendLine(inv, $"good    {e.ConfusionMatrix[0][0],8}{e.ConfusionMatrix[0][1],8}");
        b.AppendLine(inv, $"defect  {e.ConfusionMatrix[1][0],8}{e.ConfusionMatrix[1][1],8}");
        if (e.OperatingPoints.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("Operating points (pick one with --threshold):");
            b.AppendLine("   threshold  precision     recall        FPR");
            int n = e.OperatingPoints.Count, shown = Math.Min(15, n);
            foreach (int k in Enumerable.Range(0, shown).Select(i => shown == 1 ? 0 : (int)Math.Round((double)i * (n - 1) / (shown - 1))).Distinct())
            {
                OperatingPoint p = e.OperatingPoints[k];
                b.AppendLine(inv, $"{p.Threshold,12:G6}{p.Precision,11:F4}{p.Recall,11:F4}{p.FalsePositiveRate,11:F4}");
            }
        }

        if (e.Labels is { } labels)
        {
            b.AppendLine();
            b.AppendLine("Per label:");
            b.Append(labels.ToTable());
        }

        return b.ToString().TrimEnd();
    }
}
