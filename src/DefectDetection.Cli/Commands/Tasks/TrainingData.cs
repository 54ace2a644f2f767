using DefectDetection.Annotations;
using DefectDetection.Datasets;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Cli.Commands.Tasks;

/// <summary>
/// What <c>--data</c> held: the part to train on, the part to test on (the layout's own, or one held out by a seeded
/// split), and how it was read, for people.
/// </summary>
/// <param name="Train">The images to train on.</param>
/// <param name="Test">The images to test on, or null.</param>
/// <param name="Layout">The layout found, in words.</param>
/// <param name="HeldOut">How the test part was held out of the data by a seeded split, in words; null when the layout has its own test part or none.</param>
internal sealed record TrainingParts(ImageDataset Train, ImageDataset? Test, string Layout, string? HeldOut);

/// <summary>Reads <c>--data</c> for train and evaluate: the part to train on and, when there is one, the test part.</summary>
internal static class TrainingData
{
    /// <summary>The share of each label held out for testing from label folders without a test folder, unless <c>--test-fraction</c> says otherwise.</summary>
    public const double DefaultTestFraction = 0.2;

    /// <summary>
    /// <c>--data</c> is one of:
    /// <list type="bullet">
    /// <item>an MVTec AD category (<c>train/good/</c>, <c>test/&lt;defect&gt;/</c>, <c>ground_truth/&lt;defect&gt;/&lt;stem&gt;_mask.png</c>);</item>
    /// <item>a folder with <c>train/</c> and <c>test/</c>, each of label folders (Lookout for Vision);</item>
    /// <item>a folder of label folders (<c>normal/</c>, <c>anomaly/</c>, any names): with two labels or more,
    /// <paramref name="testFraction"/> (default <see cref="DefaultTestFraction"/>) of each label is held out for testing by
    /// a split seeded with <paramref name="seed"/>;</item>
    /// <item>a flat folder whose file names carry the labels (<c>normal-1.jpg</c>, <c>test-anomaly-2.jpg</c>);</item>
    /// <item>a flat folder of images named anything: all labelled <c>normal</c> (a folder of good images);</item>
    /// <item>a splits JSON file (<c>--split</c> names the lists, default <c>train</c> / <c>test</c> of the <c>classification</c> task);</item>
    /// <item>a Lookout for Vision / Ground Truth manifest (with <c>--images DIR</c> for s3:// references).</item>
    /// </list>
    /// A source without its own test part is split only with an explicit <paramref name="testFraction"/> (label
    /// folders: also by default). Every image and mask is checked first: a missing or unreadable file, or a mask of
    /// another size than its image, ends the command naming it.
    /// </summary>
    /// <param name="data">The <c>--data</c> value.</param>
    /// <param name="images">The <c>--images</c> value.</param>
    /// <param name="split">The <c>--split</c> value.</param>
    /// <param name="testFraction">The <c>--test-fraction</c> value; null: the layout's default.</param>
    /// <param name="seed">The <c>--seed</c> value.</param>
    public static TrainingParts Read(string data, string? images, string? split, double? testFraction = null, int seed = 0)
    {
        if (testFraction is { } f && !(f >= 0 && f < 1))
        {
            throw new ArgumentException($"--test-fraction: {f} is not in [0, 1).");
        }

        (ImageDataset train, ImageDataset? test, string layout, bool labelFolders) = ReadLayout(data, images, split);
        if (train.Count == 0)
        {
            throw new DatasetException(Path.GetFullPath(data), 0, null, $"no images to train on ({layout})");
        }

        if (test is not null && testFraction > 0)
        {
            throw new ArgumentException($"--test-fraction: the data has its own test part ({layout}); leave it out.");
        }

        string? heldOut = null;
        double fraction = testFraction ?? (labelFolders && train.CountByLabel().Count(c => c.Value > 0) >= 2 ? DefaultTestFraction : 0);
        if (test is null && fraction > 0)
        {
            DatasetSplit parts = train.Split(new SplitOptions { TrainFraction = 1 - fraction, ValidationFraction = 0, TestFraction = fraction, Seed = seed });
            (train, test) = (parts.Train, parts.Test);
            IReadOnlyDictionary<string, int> counts = test.CountByLabel(), all = parts.Train.CountByLabel();
            string perLabel = string.Join(", ", counts.Where(c => c.Value > 0 || all[c.Key] > 0).Select(c => $"{c.Value} of {c.Value + all[c.Key]} {c.Key}"));
            heldOut = FormattableString.Invariant($"held out for testing: {perLabel} (--test-fraction {fraction}, --seed {seed})");
        }

        Check(train, data);
        if (test is not null)
        {
            Check(test, data);
        }

        return new TrainingParts(train, test, layout, heldOut);
    }

    /// <summary>
    /// The part evaluate uses: the layout's test part; else the part a seeded split holds out when
    /// <paramref name="testFraction"/> is given (the same as train's with the same <c>--test-fraction</c> and <c>--seed</c>);
    /// else every image.
    /// </summary>
    public static TrainingParts ReadForEvaluation(string data, string? images, string? split, double? testFraction = null, int seed = 0)
    {
        TrainingParts parts = Read(data, images, split, testFraction ?? 0, seed);
        parts = parts.Test is null ? parts with { Test = parts.Train } : parts;
        return parts.Test!.Count > 0 ? parts : throw new DatasetException(Path.GetFullPath(data), 0, null, $"no images to evaluate in the test part ({parts.Layout})");
    }

    private static (ImageDataset Train, ImageDataset? Test, string Layout, bool LabelFolders) ReadLayout(string data, string? images, string? split)
    {
        string path = Path.GetFullPath(data);
        if (File.Exists(path))
        {
            if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                string task = "classification", trainList = "train", testList = "test";
                if (split is not null)
                {
                    string[] parts = split.Split(':');
                    (task, trainList) = parts.Length == 2 ? (parts[0], parts[1]) : (task, parts[0]);
                    testList = trainList;
                }

                // Lists joined by '+' are read as one (test_normal+test_anomaly).
                ImageDataset Lists(string names) => new([.. names.Split('+').SelectMany(name => ImageDataset.FromSplitsFile(path, task, name))]);
                ImageDataset train = Lists(trainList);
                ImageDataset? test = split is null ? Lists(testList) : null;
                return (train, test, $"splits file ({task}: {trainList}{(test is null ? string.Empty : $", tested on {testList}")})", false);
            }

            return (ImageDataset.FromManifest(path, new ManifestOptions { ImageRoot = images }), null, "Lookout for Vision / Ground Truth manifest", false);
        }

        if (!Directory.Exists(path))
        {
            throw new FileNotFoundException($"--data: '{data}' is neither a file nor a folder.", data);
        }

        if (Directory.Exists(Path.Combine(path, "train")) && Directory.Exists(Path.Combine(path, "test")))
        {
            if (Directory.Exists(Path.Combine(path, "train", "good")) || Directory.Exists(Path.Combine(path, "ground_truth")))
            {
                DatasetSplit mvtec = ImageDataset.FromMvtecFolder(path);
                bool masks = mvtec.Test.Any(i => i.MaskPath is not null);
                return (mvtec.Train, mvtec.Test, $"MVTec AD (train/, test/{(masks ? ", ground_truth/ masks" : ", no ground_truth/")}; 'good' is normal)", false);
            }

            DatasetSplit parts = ImageDataset.FromLookoutForVisionFolder(path);
            return (parts.Train, parts.Test, "train/ and test/ label folders (Lookout for Vision)", false);
        }

        if (Directory.GetDirectories(path).Any(d => !Path.GetFileName(d).StartsWith('.')))
        {
            ImageDataset folders = ImageDataset.FromFolder(path);
            if (folders.Count == 0)
            {
                throw new DatasetException(path, 0, null, $"the label folders ({string.Join(", ", folders.Labels)}) hold no image files");
            }

            return (folders, null, $"label folders ({string.Join(", ", folders.Labels)})", true);
        }

        return FlatFolder(path);
    }

    // File names that name the labels (normal-1.jpg), or a folder of images named anything (all normal); a mix is refused.
    private static (ImageDataset Train, ImageDataset? Test, string Layout, bool LabelFolders) FlatFolder(string path)
    {
        ImageDataset all = ImageDataset.FromImageFolder(path, "normal", new FolderDatasetOptions { Recursive = false });
        string? named = all.Select(i => i.ImagePath).FirstOrDefault(f => FileNameDataset.LabelsNamedBy(f).Count > 0);
        if (named is null)
        {
            return (all, null, "a folder of images, all labelled normal", false);
        }

        string? unnamed = all.Select(i => i.ImagePath).FirstOrDefault(f => FileNameDataset.LabelsNamedBy(f).Count == 0);
        if (unnamed is not null)
        {
            throw new DatasetException(path, 0, null,
                $"some file names carry a label ({Path.GetFileName(named)}) and some do not ({Path.GetFileName(unnamed)}): name every file after its label (normal-1.jpg, anomaly-1.jpg), put the images in label folders (normal/, anomaly/), or keep only good images in the folder");
        }

        return (FileNameDataset.Read(path), null, "file names carry the labels (normal, anomaly)", false);
    }

    /// <summary>
    /// Every image and mask of <paramref name="data"/> exists and is readable, and every mask has its image's size;
    /// otherwise a <see cref="DatasetException"/> names the files (the first ten problems).
    /// </summary>
    private static void Check(ImageDataset data, string source)
    {
        DatasetProblem[] errors = [.. data.Validate(readHeaders: true).Problems.Where(p => p.IsError && p.Kind != DatasetProblemKind.EmptyLabel)];
        if (errors.Length > 0)
        {
            string more = errors.Length > 10 ? $"; and {errors.Length - 10} more" : string.Empty;
            throw new DatasetException(Path.GetFullPath(source), 0, null,
                $"{errors.Length} problem{(errors.Length == 1 ? string.Empty : "s")} in the data: {string.Join("; ", errors.Take(10).Select(p => p.Message))}{more}");
        }
    }

    /// <summary>The defect boxes of an image from <c>--annotations</c> (a VOC folder or a COCO file); empty without them.</summary>
    public static Func<string, IReadOnlyList<LabeledBox>> Boxes(string? annotations)
    {
        if (annotations is null)
        {
            return _ => [];
        }

        string full = Path.GetFullPath(annotations);
        if (Directory.Exists(full))
        {
            return image => File.Exists(Path.Combine(full, Path.GetFileNameWithoutExtension(image) + ".xml"))
                ? PascalVoc.Read(Path.Combine(full, Path.GetFileNameWithoutExtension(image) + ".xml")).Boxes
                : [];
        }

        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"--annotations: '{annotations}' is neither a VOC folder nor a COCO file.", annotations);
        }

        Dictionary<string, IReadOnlyList<LabeledBox>> byName = new(StringComparer.Ordinal);
        foreach (ImageAnnotation a in CocoJson.Read(full))
        {
            byName[Path.GetFileName(a.FileName)] = a.Boxes;
        }

        return image => byName.TryGetValue(Path.GetFileName(image), out IReadOnlyList<LabeledBox>? boxes) ? boxes : [];
    }

    /// <summary>The image files of a folder (not recursive), in ordinal order.</summary>
    public static string[] ImageFiles(string folder, string option)
    {
        string full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"{option}: '{folder}' is not a folder of images.");
        }

        IReadOnlyCollection<string> extensions = new FolderDatasetOptions().Extensions;
        string[] files = [.. Directory.EnumerateFiles(full).Where(f => extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal)];
        return files.Length > 0 ? files : throw new ArgumentException($"{option}: '{folder}' holds no image files.");
    }
}
