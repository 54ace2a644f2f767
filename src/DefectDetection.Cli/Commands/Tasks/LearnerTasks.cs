using System.Diagnostics;
using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.PipelineFiles;

namespace DefectDetection.Cli.Commands.Tasks;

/// <summary>
/// A task whose learner takes no CLI-specific setup beyond its data: the model comes from the one trainer contract
/// and is saved and summarised the same way for each.
/// </summary>
internal abstract class ContractTask : ITaskHandler
{
    public abstract string Name { get; }

    public abstract string Summary { get; }

    public int Train(CliContext context, TrainSettings settings)
    {
        if (File.Exists(settings.Out) && !settings.Overwrite)
        {
            throw new ArgumentException($"--out: '{settings.Out}' exists; pass --overwrite to replace it.");
        }

        Stopwatch clock = Stopwatch.StartNew();
        using IDefectModel model = Fit(settings, out int images);
        model.Save(settings.Out, new DefectModelSaveOptions { Overwrite = settings.Overwrite, EmbedBackbone = !settings.NoEmbed, DataSource = settings.Data });
        Dictionary<string, object?> summary = JsonSummary(Name, model, settings, images, clock.Elapsed.TotalSeconds);
        context.Out.WriteLine(settings.Json
            ? JsonSerializer.Serialize(summary, CliJson.Options)
            : $"trained a {model.Learner} model on {images} images in {clock.Elapsed.TotalSeconds:F1} s (labels {string.Join(", ", model.Labels)}); wrote {settings.Out}");
        return CliContext.Ok;
    }

    /// <summary>What every task's <c>--json</c> summary starts with: the model file, task, learner, labels, threshold, images and time.</summary>
    internal static Dictionary<string, object?> JsonSummary(string task, IDefectModel model, TrainSettings settings, int images, double seconds) => new()
    {
        ["model"] = Path.GetFullPath(settings.Out),
        ["task"] = task,
        ["learner"] = model.Learner,
        ["labels"] = model.Labels,
        ["threshold"] = model.Threshold,
        ["training_images"] = images,
        ["seconds"] = Math.Round(seconds, 2),
    };

    /// <summary>Reads the data and fits the model; <paramref name="images"/> counts what it was trained on.</summary>
    protected abstract IDefectModel Fit(TrainSettings settings, out int images);
}

/// <summary><c>--task variation</c>: a variation model (per-pixel mean and spread) of aligned normal images.</summary>
internal sealed class VariationTask : ContractTask
{
    public override string Name => "variation";

    public override string Summary => "variation model of aligned normal images, no backbone";

    protected override IDefectModel Fit(TrainSettings settings, out int images)
    {
        ImageDataset train = TrainingData.Read(settings.Data, settings.Images, settings.Split, settings.TestFraction, settings.Seed).Train;
        VariationModelTrainer trainer = new(new VariationModelOptions { NormalLabels = [.. settings.NormalLabels, .. Learners.DefaultNormalLabels] });
        images = train.Count(i => trainer.Options.NormalLabels.Contains(i.Label));
        return trainer.Fit(train);
    }
}

/// <summary>
/// <c>--task pin-residual</c>: the two-stage crop classifier for crops centred on one kind of object (pins, pads),
/// from crops cut by a pipeline's detector or from a folder of crops, with VOC/COCO defect boxes.
/// </summary>
internal sealed class PinResidualTask : ContractTask
{
    public override string Name => "pin-residual";

    public override string Summary => "crop classifier of pin crops cut by --pipeline's detector, defects from --annotations";

    protected override IDefectModel Fit(TrainSettings settings, out int images)
    {
        string[] files = TrainingData.ImageFiles(settings.Data, "--data");
        Func<string, IReadOnlyList<LabeledBox>> boxes = TrainingData.Boxes(settings.Annotations);
        ResidualCropClassifierTrainer trainer = new(new ResidualCropClassifierOptions { Seed = settings.Seed });
        images = files.Length;
        if (settings.Pipeline is null)
        {
            return trainer.Fit(new ImageDataset(files.Select(f => new LabeledImage(f, boxes(f).Count > 0 ? "defect" : "normal") { Boxes = boxes(f) })));
        }

        using PipelineDetector pipeline = PipelineFile.LoadDetector(settings.Pipeline);
        return trainer.Fit(Crops(files, boxes, pipeline));
    }

    // Each region the detector finds, cut with the pipeline's context margin, with the defect boxes that touch it (crop coordinates).
    private static IEnumerable<LabeledCrop> Crops(string[] files, Func<string, IReadOnlyList<LabeledBox>> boxes, PipelineDetector pipeline)
    {
        int margin = pipeline.Options.ContextMargin;
        foreach (string file in files)
        {
            using Image image = ImageCodecs.Load(file);
            IReadOnlyList<LabeledBox> defects = boxes(file);
            foreach (RegionOfInterest roi in pipeline.Detector.Detect(image))
            {
                Rectangle region = roi.Box.Inflate(margin);
                using Image crop = Cropping.CropWithContext(image, roi.Box, margin);
                yield return new LabeledCrop(crop, [.. defects
                    .Where(d => !Rectangle.Intersect(d.Box, region).IsEmpty)
                    .Select(d => d with { Box = new Rectangle(d.Box.X - region.X, d.Box.Y - region.Y, d.Box.Width, d.Box.Height) })]);
            }
        }
    }
}

/// <summary><c>--task template-difference</c>: defect types from test/golden-template pairs (a DeepPCB-style list).</summary>
internal sealed class TemplateDifferenceTask : ContractTask
{
    public override string Name => "template-difference";

    public override string Summary => "defect types from test/golden-template pairs, --data a DeepPCB list";

    protected override IDefectModel Fit(TrainSettings settings, out int images)
    {
        IReadOnlyList<DeepPcbPair> pairs = DeepPcbDataset.ReadList(settings.Data);
        images = pairs.Count;
        ImageDataset data = new(pairs.Select(p => new LabeledImage(p.TestImagePath, "pair") { ReferencePath = p.TemplateImagePath, Boxes = p.Defects, Origin = p.AnnotationPath }));
        return new TemplateDifferenceClassifierTrainer().Fit(data);
    }
}
