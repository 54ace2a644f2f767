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
    /// Reads a folder of images that all carry one label, such as a folder of good images for an anomaly model: every
    /// image file in it, whatever the files are called (hidden files skipped; files in sub-folders too when
    /// <see cref="FolderDatasetOptions.Recursive"/>). Files that are not images (by extension) are listed in
    /// <see cref="IgnoredFiles"/>.
    /// </summary>
    /// <param name="path">The folder.</param>
    /// <param name="label">The label of every image. Default <c>normal</c>.</param>
    /// <param name="options">Which files are images, and whether sub-folders are read.</param>
    /// <exception cref="DatasetException">The folder does not exist or holds no image file.</exception>
    public static ImageDataset FromImageFolder(string path, string label = "normal", FolderDatasetOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(label);
        options ??= new FolderDatasetOptions();
        string root = Path.GetFullPath(path);
        if (!Directory.Exists(root))
        {
            throw new DatasetException(root, 0, null, File.Exists(root) ? "expected a folder of images, found a file" : "the folder does not exist");
        }

        HashSet<string> extensions = new(options.Extensions, StringComparer.OrdinalIgnoreCase);
        List<LabeledImage> items = [];
        List<string> ignored = [];
        foreach (string file in FileSystemPaths.EnumerateFiles(root, options.Recursive).Order(StringComparer.Ordinal))
        {
            if (IsHidden(file))
            {
                continue;
            }

            if (extensions.Contains(Path.GetExtension(file)))
            {
                items.Add(new LabeledImage(file, label) { Origin = root });
            }
            else
            {
                ignored.Add(file);
            }
        }

        if (items.Count == 0)
        {
            throw new DatasetException(root, 0, null, $"the folder holds no image files (extensions {string.Join(" ", options.Extensions)})");
        }

        return new ImageDataset(items, [label], ignored);
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
        (ImageDataset train, ImageDataset test) = ReadTrainTest(Path.GetFullPath(path), options, "expected the sub-folders train/ and test/, each with one folder per label");
        return new DatasetSplit(train, new ImageDataset([], train.Labels), test);
    }

    /// <summary>
    /// Reads one category of the MVTec AD layout: <c>train/good/</c> (the normal images), <c>test/good/</c> and
    /// <c>test/&lt;defect&gt;/</c> (one folder per defect type), and <c>ground_truth/&lt;defect&gt;/&lt;stem&gt;_mask.png</c>,
    /// the pixel mask of each defective test image (<c>&lt;stem&gt;.png</c> is taken too). <c>good</c> is the normal
    /// label (one of <see cref="Models.Learners.DefaultNormalLabels"/>); every other label is a defect type. When
    /// <c>ground_truth/</c> exists, each test image of a defect type gets its mask as <see cref="LabeledImage.MaskPath"/>;
    /// a mask that is missing, unreadable or of another size than its image is reported by <see cref="Validate"/>,
    /// naming both files. Both parts share the union of the labels; the validation part is empty.
    /// </summary>
    /// <param name="path">The category folder (for example <c>mvtec_anomaly_detection/bottle</c>).</param>
    /// <param name="options">Which files are images.</param>
    /// <exception cref="DatasetException">The folder lacks <c>train/</c> or <c>test/</c>.</exception>
    public static DatasetSplit FromMvtecFolder(string path, FolderDatasetOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string root = Path.GetFullPath(path);
        (ImageDataset train, ImageDataset test) = ReadTrainTest(root, options, "expected the MVTec AD sub-folders train/good/ and test/ (and ground_truth/ for the masks)");
        string truth = Path.Combine(root, "ground_truth");
        if (Directory.Exists(truth))
        {
            test = new ImageDataset(test.Select(i => MvtecNormalLabel.Equals(i.Label, StringComparison.Ordinal) ? i : i with { MaskPath = MvtecMask(truth, i) }), test.Labels, test.IgnoredFiles);
        }

        return new DatasetSplit(train, new ImageDataset([], train.Labels), test);
    }

    /// <summary>The normal label of the MVTec AD layout.</summary>
    private const string MvtecNormalLabel = "good";

    // ground_truth/<label>/<stem>_mask.png, else <stem>.png beside it; the first when neither exists (Validate reports it).
    private static string MvtecMask(string truth, LabeledImage item)
    {
        string dir = Path.Combine(truth, item.Label);
        string relative = Path.GetRelativePath(item.Origin ?? dir, Path.GetDirectoryName(item.ImagePath)!);
        string folder = Path.GetFullPath(Path.Combine(dir, relative));
        string stem = Path.GetFileNameWithoutExtension(item.ImagePath);
        string mask = Path.Combine(folder, stem + "_mask.png"), plain = Path.Combine(folder, stem + ".png");
        return !File.Exists(mask) && File.Exists(plain) ? plain : mask;
    }

    // train/ and test/ as label folders, sharing the union of their labels.
    private static (ImageDataset Train, ImageDataset Test) ReadTrainTest(string root, FolderDatasetOptions? options, string expected)
    {
        string trainDir = Path.Combine(root, "train"), testDir = Path.Combine(root, "test");
        if (!Directory.Exists(trainDir) || !Directory.Exists(testDir))
        {
            throw new DatasetException(root, 0, null, expected);
        }

        ImageDataset train = FromFolder(trainDir, options), test = FromFolder(testDir, options);
        string[] labels = train.Labels.Union(test.Labels, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return (new ImageDataset(train, labels, train.IgnoredFiles), new ImageDataset(test, labels, test.IgnoredFiles));
    }

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');
}
