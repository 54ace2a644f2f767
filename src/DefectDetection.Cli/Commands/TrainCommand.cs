using System.CommandLine;
using System.Globalization;
using DefectDetection.Cli.Commands.Tasks;
using DefectDetection.Datasets;
using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect train</c>: learns a model from labelled images; the work is done by the <c>--task</c> handler.</summary>
internal static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> data = new("--data") { Description = "The images: an MVTec AD category (train/good, test/<defect>, ground_truth/ masks); a folder with train/ and test/ of label folders (Lookout for Vision); label folders (normal/, anomaly/; --test-fraction of each label is held out for testing); a folder of files named by label (normal-1.jpg); a folder of good images named anything; a splits .json; or a manifest (with --images)." };
        Option<string> testFraction = new("--test-fraction") { Description = $"Share of each label held out for testing by a split seeded with --seed, when the data has no test part (default {TrainingData.DefaultTestFraction} for label folders with two labels or more, else 0; 0 trains on every image)." };
        Option<string> thresholdFrom = new("--threshold-from") { Description = "Anomaly task: what sets the threshold, normals (a percentile of held-out normal images' scores) or anomalies (best F1 over held-out normals and the labelled anomalies of the training part); default anomalies when the training part has some, else normals. The choice is printed." };
        Option<string> task = new("--task") { Description = $"What to learn: {TaskHandlers.Describe}." };
        Option<string> annotations = new("--annotations") { Description = "pin-residual: Pascal VOC folder (STEM.xml per image) or COCO .json with the defect boxes of the --data images." };
        Option<string> pipelineFile = new("--pipeline") { Description = "pin-residual: a pipeline file whose detector cuts the training crops from the --data images (with its context margin); without it, the --data images are the crops." };
        Option<string> backbone = new("--backbone") { Description = "An ONNX backbone; without it the weight-free extractor is used." };
        Option<string[]> layer = new("--layer") { Description = "A backbone tensor to tap (repeatable; default: classify taps the tensor feeding global pooling, anomaly the backbone's stage outputs at strides 8 and 16, reported by --json).", AllowMultipleArgumentsPerToken = true };
        Option<string> output = new("--out") { Description = "The .ddmodel file to write." };
        Option<string> images = new("--images") { Description = "The image folder of a manifest (required for s3:// references; every image and mask must lie inside it)." };
        Option<string> split = new("--split") { Description = "The list of a splits .json to train on ([task:]name, several joined by +; default classification train, tested on test)." };
        Option<string> augment = new("--augment") { Description = "Augmented copies: none, hflip, vflip, flips (both), rot90, crops (comma-separated; default for the classifier: none or both flips, chosen by cross-validation); for the anomaly model: none (default) or flips (the bank also learns each normal mirrored; with --task auto flips applies to both)." };
        Option<string> inputSize = new("--input-size") { Description = "Anomaly task: the side the backbone runs at (default: 224 or 320, chosen with --tiles by validation on synthetic defects; the model's fixed input is made dynamic, only trunk layers are tapped)." };
        Option<string> tiles = new("--tiles") { Description = "Anomaly task: tiles a side (1-4) the image is cut into for the backbone, for small defects in large images (default: chosen by validation on synthetic defects; 1 turns the search off)." };
        Option<string> timeBudget = new("--time-budget") { HelpName = "SECONDS", Description = "Time the automatic configuration may take before the final training (default 300; 0: no limit)." };
        Option<string> coresetRatio = new("--coreset-ratio") { Description = "Anomaly task: share of patches kept in the memory bank, in (0, 1] (default: 0.1 for up to 100 normal images, 1 with --nearest-images 50 for more; 1 keeps every patch: more accurate with hundreds of images, slower to score)." };
        Option<string> border = new("--border") { Description = "Anomaly task: rings of edge patches whose scores are replaced by the nearest inner patch's (default: 1 or 3, chosen by validation on synthetic defects)." };
        Option<string> contextWeight = new("--context") { Description = "Anomaly task: weight of the intensity context (brightness, contrast and streaks relative to each cell's own row and column) added to the patch scores, for large uneven areas (default: 0, or 0.5 with --position 3, chosen by validation on synthetic defects; 0 = off; giving --context or --position pins both)." };
        Option<string> positionWeight = new("--position") { Description = "Anomaly task: weight of each patch's position on the part, appended to its features, for parts that fill the image the same way every time (default: chosen with --context; 0 = off)." };
        Option<string> nearestImages = new("--nearest-images") { Description = "Anomaly task: compare each image only with the bank rows of this many training images, those most like it overall (default: 50 when every patch of more than 100 normal images is kept, else 0 = the whole bank; speeds up large banks)." };
        Option<string> layerFeatures = new("--layer-features") { Description = "Anomaly task: each tapped layer with more channels is averaged down to this many features (PatchCore's per-layer pooling; default: 64 when the taps have more than 192 channels together, else every channel; 0 = every channel)." };
        Option<string> channelOrder = new("--channel-order") { Description = "Backbone input plane order, rgb or bgr (default: a known backbone's own, ML.NET's ResNet-18 is bgr 0-255 minus the mean; else ImageNet's rgb)." };
        Option<string> pixelScale = new("--pixel-scale") { Description = "Backbone: factor on 0-255 pixel values before the mean is subtracted (default 1/255 = 0.00392156863)." };
        Option<string> mean = new("--mean") { HelpName = "M1,M2,M3", Description = "Backbone: per-channel mean subtracted after scaling, in tensor order (default ImageNet 0.485,0.456,0.406)." };
        Option<string> std = new("--std") { HelpName = "S1,S2,S3", Description = "Backbone: per-channel divisor after the mean (default ImageNet 0.229,0.224,0.225)." };
        Option<string> l2 = new("--l2") { Description = "L2 regularisation of the head (default for classify: chosen by cross-validation among 1e-5 to 1e-1)." };
        Option<string> weightFreeFeatures = new("--weight-free-features") { HelpName = "yes|no", Description = "Classify with --backbone: append the weight-free gradient histograms to the backbone's features (default: chosen by cross-validation)." };
        Option<string> pooling = new("--pooling") { Description = "Pooling of backbone maps: avg, max, avg+max (default: chosen by cross-validation)." };
        Option<string> weighting = new("--class-weighting") { Description = "Head class weighting: balanced (default) or none." };
        Option<string> valFraction = new("--val-fraction") { Description = "Share of training images held out for early stopping of the head (default 0)." };
        Option<string> seed = new("--seed") { Description = "Random seed (default 0)." };
        Option<string> cache = new("--cache") { Description = "A folder to keep image features between runs (default: memory only)." };
        Option<string> normal = new("--normal-label") { Description = "Label(s) that are not defects, comma-separated (default normal, good, ok, free)." };
        Option<bool> defectThreshold = new("--defect-threshold") { Description = "With more than two labels: choose a threshold on P(defect) by cross-validation." };
        Option<bool> overwrite = new("--overwrite") { Description = "Replace an existing --out file (the backbone or data file is never replaced)." };
        Option<bool> noEmbed = new("--no-embed") { Description = "Store only the backbone's hash, not the backbone itself." };
        Option<bool> json = new("--json") { Description = "Write JSON for machines instead of text." };
        Command command = new("train", $"Learn a model from labelled images. Tasks: {TaskHandlers.Describe}.") { data, testFraction, task, annotations, pipelineFile, backbone, layer, output, images, split, augment, inputSize, tiles, timeBudget, coresetRatio, border, contextWeight, positionWeight, nearestImages, layerFeatures, channelOrder, pixelScale, mean, std, l2, pooling, weightFreeFeatures, weighting, valFraction, seed, cache, normal, thresholdFrom, defectThreshold, overwrite, noEmbed, json };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse => Guard(context, () =>
        {
            OnnxCommand.RejectUnmatched(parse);
            string taskName = parse.GetValue(task) ?? "auto";
            ITaskHandler? handler = TaskHandlers.ByName(context, taskName);
            if (handler is null)
            {
                return CliContext.BadInput;
            }

            TrainSettings settings = new()
            {
                Task = taskName,
                Data = Required(parse.GetValue(data), "--data", "the training images"),
                Annotations = parse.GetValue(annotations),
                Pipeline = parse.GetValue(pipelineFile),
                Out = Required(parse.GetValue(output), "--out", "the model file to write"),
                Backbone = parse.GetValue(backbone),
                Layers = (parse.GetValue(layer) ?? []).SelectMany(l => l.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
                Images = parse.GetValue(images),
                Split = parse.GetValue(split),
                Augment = parse.GetValue(augment),
                InputSize = parse.GetValue(inputSize) is { } side ? OnnxTensorFiles.ParseInt(side, "--input-size", 224, 32, 4096) : null,
                Tiles = parse.GetValue(tiles) is { } t ? OnnxTensorFiles.ParseInt(t, "--tiles", 1, 1, 4) : null,
                TimeBudget = TimeSpan.FromSeconds(parse.GetValue(timeBudget) is { } tb ? OnnxTensorFiles.ParseInt(tb, "--time-budget", 300, 0, 86_400) : 300),
                CoresetRatio = ParseDouble(parse.GetValue(coresetRatio), "--coreset-ratio"),
                BorderPatches = parse.GetValue(border) is { } rings ? OnnxTensorFiles.ParseInt(rings, "--border", 1, 0, 8) : null,
                ContextWeight = ParseDouble(parse.GetValue(contextWeight), "--context"),
                PositionWeight = ParseDouble(parse.GetValue(positionWeight), "--position"),
                NearestImages = parse.GetValue(nearestImages) is { } ni ? OnnxTensorFiles.ParseInt(ni, "--nearest-images", 0, 0, int.MaxValue) : null,
                MaxLayerFeatures = parse.GetValue(layerFeatures) is { } lf ? OnnxTensorFiles.ParseInt(lf, "--layer-features", 0, 0, 100_000) : null,
                Layout = Layout(parse.GetValue(channelOrder), parse.GetValue(pixelScale), parse.GetValue(mean), parse.GetValue(std)),
                L2 = ParseDouble(parse.GetValue(l2), "--l2"),
                Pooling = parse.GetValue(pooling),
                AppendWeightFree = parse.GetValue(weightFreeFeatures)?.ToLowerInvariant() switch
                {
                    null => null,
                    "yes" => true,
                    "no" => false,
                    var other => throw new ArgumentException($"--weight-free-features: '{other}' is not yes or no."),
                },
                ValidationFraction = ParseDouble(parse.GetValue(valFraction), "--val-fraction") ?? 0,
                ClassWeighting = parse.GetValue(weighting) ?? "balanced",
                Seed = OnnxTensorFiles.ParseInt(parse.GetValue(seed), "--seed", 0, 0, int.MaxValue),
                CacheDirectory = parse.GetValue(cache),
                NormalLabels = parse.GetValue(normal) is { } normalLabels
                    ? normalLabels.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : Learners.DefaultNormalLabels,
                TestFraction = ParseDouble(parse.GetValue(testFraction), "--test-fraction"),
                ThresholdFrom = parse.GetValue(thresholdFrom)?.ToLowerInvariant() switch
                {
                    null => null,
                    "normals" => AnomalyThresholdSource.Normals,
                    "anomalies" => AnomalyThresholdSource.LabelledAnomalies,
                    { } other => throw new ArgumentException($"--threshold-from: '{other}' is not normals or anomalies."),
                },
                Overwrite = parse.GetValue(overwrite),
                DefectThreshold = parse.GetValue(defectThreshold),
                NoEmbed = parse.GetValue(noEmbed),
                Json = parse.GetValue(json),
            };
            if (settings.Backbone is not null && !File.Exists(settings.Backbone))
            {
                throw new FileNotFoundException($"--backbone: '{settings.Backbone}' does not exist.", settings.Backbone);
            }

            // The model is saved by the learner (honouring --overwrite); the plan only checks it is not an input.
            new OutputPlan([settings.Backbone, File.Exists(settings.Data) ? settings.Data : null], settings.Overwrite).Claim(settings.Out, "--out");

            return handler.Train(context, settings);
        }));
        return command;
    }

    /// <summary>Runs a train/evaluate/predict body: bad data, model files and backbones end in exit code 2 with the reason.</summary>
    internal static int Guard(CliContext context, Func<int> body) => OnnxCommand.Guard(context, () =>
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (ex is DatasetException or ModelFileException)
        {
            context.Error.WriteLine($"error: {ex.Message}");
            return CliContext.BadInput;
        }
    });

    /// <summary>The backbone input layout from the command line; null when no layout option is given (the backbone's preset, else ImageNet's).</summary>
    private static TensorLayoutOptions? Layout(string? order, string? scale, string? mean, string? std)
    {
        if (order is null && scale is null && mean is null && std is null)
        {
            return null;
        }

        TensorLayoutOptions d = TensorLayoutOptions.ImageNet;
        var layout = new TensorLayoutOptions
        {
            ChannelOrder = order?.ToLowerInvariant() switch
            {
                null or "rgb" => ChannelOrder.Rgb,
                "bgr" => ChannelOrder.Bgr,
                _ => throw new ArgumentException($"--channel-order: '{order}' is not rgb or bgr."),
            },
            Scale = scale is null ? d.Scale
                : float.TryParse(scale, NumberStyles.Float, CultureInfo.InvariantCulture, out float s) && s > 0 && float.IsFinite(s) ? s
                : throw new ArgumentException($"--pixel-scale: '{scale}' is not a positive number."),
            Mean = mean is null ? d.Mean : OnnxTensorFiles.ParseFloats(mean, "--mean"),
            Std = std is null ? d.Std : OnnxTensorFiles.ParseFloats(std, "--std"),
        };
        try
        {
            layout.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--mean/--std: {e.Message}", e);
        }

        return layout;
    }

    internal static string Required(string? value, string option, string what) =>
        string.IsNullOrEmpty(value) ? throw new ArgumentException($"{option} is required ({what}).") : value;

    internal static double? ParseDouble(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0 && double.IsFinite(v)
            ? v
            : throw new ArgumentException($"{option}: '{text}' is not a non-negative number.");
    }
}
