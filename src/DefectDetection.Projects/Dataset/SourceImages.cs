using DefectDetection.Datasets;
using DefectDetection.Vision.ImageClassification;

namespace DefectDetection.Projects;

/// <summary>One image of an import's source with the split it goes to.</summary>
internal sealed record SourceImage(LabeledImage Image, EntrySplit Split);

/// <summary>An import's source, read: its images with their splits, and the layout in words.</summary>
internal sealed record SourceImages(IReadOnlyList<SourceImage> Items, string Layout)
{
    /// <summary>Reads the source of <paramref name="options"/> in the layouts <c>defect train --data</c> knows.</summary>
    public static SourceImages Read(ImportOptions options)
    {
        string path = Path.GetFullPath(options.Source);
        (ImageDataset train, ImageDataset? test, string layout) = ReadLayout(path, options);
        if (options.Split is { } split)
        {
            return new SourceImages([.. train.Concat(test ?? Empty).Select(i => new SourceImage(i, split))], layout);
        }

        if (test is null && options.TestFraction > 0 && train.Count > 0)
        {
            DatasetSplit parts = train.Split(new SplitOptions { TrainFraction = 1 - options.TestFraction, ValidationFraction = 0, TestFraction = options.TestFraction, Seed = options.Seed });
            (train, test) = (parts.Train, parts.Test);
        }
        else if (test is not null && options.TestFraction > 0)
        {
            throw new ArgumentException($"TestFraction: the source has its own test part ({layout}); leave it out.", nameof(options));
        }

        return new SourceImages([.. train.Select(i => new SourceImage(i, EntrySplit.Train)), .. (test ?? Empty).Select(i => new SourceImage(i, EntrySplit.Test))], layout);
    }

    private static ImageDataset Empty { get; } = new([]);

    private static (ImageDataset Train, ImageDataset? Test, string Layout) ReadLayout(string path, ImportOptions options)
    {
        if (File.Exists(path))
        {
            return path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)
                ? (ImageDataset.FromCsv(path), null, "CSV list")
                : (ImageDataset.FromManifest(path, new ManifestOptions { ImageRoot = options.Images }), null, "Lookout for Vision / Ground Truth manifest");
        }

        if (!Directory.Exists(path))
        {
            throw new DatasetException(path, 0, null, "neither a file nor a folder");
        }

        if (Directory.Exists(Path.Combine(path, "train")) && Directory.Exists(Path.Combine(path, "test")))
        {
            if (Directory.Exists(Path.Combine(path, "train", "good")) || Directory.Exists(Path.Combine(path, "ground_truth")))
            {
                DatasetSplit mvtec = ImageDataset.FromMvtecFolder(path);
                return (mvtec.Train, mvtec.Test, "MVTec AD folder");
            }

            DatasetSplit lfv = ImageDataset.FromLookoutForVisionFolder(path);
            return (lfv.Train, lfv.Test, "Lookout for Vision folders");
        }

        if (Directory.GetDirectories(path).Any(d => !Path.GetFileName(d).StartsWith('.')))
        {
            return (ImageDataset.FromFolder(path), null, "label folders");
        }

        ImageDataset flat = ImageDataset.FromImageFolder(path, options.Label, new FolderDatasetOptions { Recursive = false });
        bool named = flat.Count > 0 && flat.All(i => FileNameDataset.LabelsNamedBy(i.ImagePath).Count > 0);
        return named ? (FileNameDataset.Read(path), null, "files named by label") : (flat, null, $"a folder of images, all {options.Label}");
    }
}
