using DefectDetection.IO;

namespace DefectDetection.Datasets;

/// <summary>Options of <see cref="ImageDataset.FromFolder"/>.</summary>
public sealed class FolderDatasetOptions
{
    /// <summary>
    /// File extensions taken as images (case-insensitive, with the dot). Default: .jpg .jpeg .png .bmp .pbm .pgm
    /// .ppm .pnm. Narrow it when masks sit beside the images (for example only <c>.jpg</c>).
    /// </summary>
    public IReadOnlyCollection<string> Extensions { get; init; } = [".jpg", ".jpeg", ".png", ".bmp", ".pbm", ".pgm", ".ppm", ".pnm"];

    /// <summary>
    /// Also take images from folders nested inside each label folder. Default true. Symbolic links are followed,
    /// but each real folder is read once and each real file taken once, so a link loop adds nothing.
    /// </summary>
    public bool Recursive { get; init; } = true;
}

public sealed partial class ImageDataset
{
    /// <summary>
    /// Reads a folder holding one sub-folder per label (<c>normal/</c>, <c>anomaly/</c> or any names); the images
    /// of a label are the image files inside its folder. Sub-folder names are the labels (ordinal order); an empty
    /// label folder gives a label with no images, which <see cref="Validate"/> reports. Files that are not images
    /// (by extension) are listed in <see cref="IgnoredFiles"/>; hidden files (name starting with a dot) are skipped.
    /// </summary>
    /// <exception cref="DatasetException">The folder does not exist or has no sub-folder.</exception>
    public static ImageDataset FromFolder(string path, FolderDatasetOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new FolderDatasetOptions();
        string root = Path.GetFullPath(path);
        if (!Directory.Exists(root))
        {
            throw new DatasetException(root, 0, null, File.Exists(root) ? "expected a folder of label folders, found a file" : "the folder does not exist");
        }

        HashSet<string> extensions = new(options.Extensions, StringComparer.OrdinalIgnoreCase);
        string[] labelDirs = Directory.GetDirectories(root).Where(d => !IsHidden(d)).Order(StringComparer.Ordinal).ToArray();
        if (labelDirs.Length == 0)
        {
            throw new DatasetException(root, 0, null, "the folder has no label sub-folders (expected one folder per label, e.g. normal/ and anomaly/)");
        }

        List<LabeledImage> items = [];
        List<string> ignored = [];
        foreach (string file in Directory.GetFiles(root).Where(f => !IsHidden(f)).Order(StringComparer.Ordinal))
        {
            ignored.Add(file);
        }

        // Links are followed, but each real folder is entered and each real file taken once across all labels: a link
        // loop ends, and a link back to the dataset or into another label folder adds nothing.
        HashSet<string> seenFolders = new(FileSystemPaths.Comparer) { FileSystemPaths.Resolve(root) };
        seenFolders.UnionWith(labelDirs.Select(FileSystemPaths.Resolve));
        HashSet<string> seenFiles = new(FileSystemPaths.Comparer);
        List<string> labels = [];
        foreach (string dir in labelDirs)
        {
            string label = Path.GetFileName(dir);
            labels.Add(label);
            foreach (string file in FileSystemPaths.EnumerateFiles(dir, options.Recursive, seenFolders, seenFiles).Order(StringComparer.Ordinal))
            {
                if (IsHidden(file))
                {
                    continue;
                }

                if (extensions.Contains(Path.GetExtension(file)))
                {
                    items.Add(new LabeledImage(file, label) { Origin = dir });
                }
                else
                {
                    ignored.Add(file);
                }
            }
        }

        return new ImageDataset(items, labels, ignored);
    }

    /// <summary>
    /// Reads Amazon Lookout for Vision's folder layout: <c>train/</c> and <c>test/</c>, each holding one folder per
    /// label (<c>normal/</c>, <c>anomaly/</c>). Both parts share the union of the labels. The validation part is empty
    /// (cut one from the training part with <see cref="Split"/> if needed).
    /// </summary>
    /// <exception cref="DatasetException">The folder lacks <c>train/</c> or <c>test/</c>.</exception>
    public static DatasetSplit FromLookoutForVisionFolder(string path, FolderDatasetOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string root = Path.GetFullPath(path);
        string trainDir = Path.Combine(root, "train"), testDir = Path.Combine(root, "test");
        if (!Directory.Exists(trainDir) || !Directory.Exists(testDir))
        {
            throw new DatasetException(root, 0, null, "expected the sub-folders train/ and test/, each with one folder per label");
        }

        ImageDataset train = FromFolder(trainDir, options), test = FromFolder(testDir, options);
        string[] labels = train.Labels.Union(test.Labels, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return new DatasetSplit(
            new ImageDataset(train, labels, train.IgnoredFiles),
            new ImageDataset([], labels),
            new ImageDataset(test, labels, test.IgnoredFiles));
    }

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');
}
