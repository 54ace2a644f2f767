using DefectDetection.Annotations;
using DefectDetection.Datasets;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Cli.Commands.Tasks;

/// <summary>Reads <c>--data</c> for train and evaluate: the part to train on and, when the source has one, the test part.</summary>
internal static class TrainingData
{
    /// <summary>
    /// <c>--data</c> is a folder with one sub-folder per label; a folder with <c>train/</c> and <c>test/</c>; a flat
    /// folder whose file names carry the labels (<c>normal-1.jpg</c>, <c>test-anomaly-2.jpg</c>); a splits JSON file
    /// (<c>--split</c> names the lists, default <c>train</c> / <c>test</c> of the <c>classification</c> task); or a
    /// Lookout for Vision / Ground Truth manifest (with <c>--images DIR</c>).
    /// </summary>
    public static (ImageDataset Train, ImageDataset? Test) Read(string data, string? images, string? split)
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

                ImageDataset train = ImageDataset.FromSplitsFile(path, task, trainList);
                ImageDataset? test = split is null ? ImageDataset.FromSplitsFile(path, task, testList) : null;
                return (train, test);
            }

            return (RequireFiles(ImageDataset.FromManifest(path, new ManifestOptions { ImageRoot = images })), null);
        }

        if (!Directory.Exists(path))
        {
            throw new FileNotFoundException($"--data: '{data}' is neither a file nor a folder.", data);
        }

        if (Directory.Exists(Path.Combine(path, "train")) && Directory.Exists(Path.Combine(path, "test")))
        {
            DatasetSplit parts = ImageDataset.FromLookoutForVisionFolder(path);
            return (parts.Train, parts.Test);
        }

        return Directory.GetDirectories(path).Any(d => !Path.GetFileName(d).StartsWith('.'))
            ? (ImageDataset.FromFolder(path), null)
            : (FileNameDataset.Read(path), null);
    }

    // A manifest names its files: one that is missing is reported with its manifest line before any work starts.
    private static ImageDataset RequireFiles(ImageDataset data)
    {
        DatasetProblem? missing = data.Validate(readHeaders: false).Problems.FirstOrDefault(p => p.Kind == DatasetProblemKind.MissingFile);
        return missing is null ? data : throw new FileNotFoundException(missing.Message, missing.Path);
    }

    /// <summary>The part evaluate uses: the test part when the source has one, else all of it.</summary>
    public static ImageDataset ReadForEvaluation(string data, string? images, string? split)
    {
        (ImageDataset train, ImageDataset? test) = Read(data, images, split);
        return test ?? train;
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
