using DefectDetection.Datasets;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.ImageClassification;

/// <summary>
/// Reads a flat folder whose file names carry the label, such as Lookout for Vision's cookie set
/// (<c>normal-1.jpg</c>, <c>anomaly-3.jpg</c>, <c>test-normal-1.jpg</c>): a file's label is the one of the given
/// labels that appears as a whole word of its name (words split at <c>-</c>, <c>_</c>, <c>.</c> and spaces). A folder
/// of images of one label, whatever their names, reads with <see cref="ImageDataset.FromImageFolder"/>.
/// </summary>
public static class FileNameDataset
{
    private static readonly string[] DefaultLabels = ["normal", "anomaly"];

    /// <summary>Reads the image files of a folder (not recursive; hidden files skipped) labelled by their names.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="labels">The labels to look for. Default: <c>normal</c> and <c>anomaly</c>.</param>
    /// <returns>The dataset (labels in ordinal order).</returns>
    /// <exception cref="DatasetException">The folder does not exist, holds no images, or a file name names no label or several.</exception>
    public static ImageDataset Read(string folder, IReadOnlyCollection<string>? labels = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string[] names = (labels ?? DefaultLabels).ToArray();
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
        {
            throw new DatasetException(root, 0, null, "the folder does not exist");
        }

        HashSet<string> extensions = new(new FolderDatasetOptions().Extensions, StringComparer.OrdinalIgnoreCase);
        List<LabeledImage> items = [];
        List<string> ignored = [];
        foreach (string file in Directory.GetFiles(root).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(file);
            if (name.StartsWith('.'))
            {
                continue;
            }

            if (!extensions.Contains(Path.GetExtension(file)))
            {
                ignored.Add(file);
                continue;
            }

            IReadOnlyList<string> found = LabelsNamedBy(file, names);
            if (found.Count != 1)
            {
                throw new DatasetException(file, 0, null, found.Count == 0
                    ? $"the file name names none of the labels {string.Join(", ", names)}"
                    : $"the file name names several labels ({string.Join(", ", found)})");
            }

            items.Add(new LabeledImage(file, found[0]) { Origin = root });
        }

        if (items.Count == 0)
        {
            throw new DatasetException(root, 0, null, "the folder holds no image files");
        }

        return new ImageDataset(items, names.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The labels that a file's name names as whole words (split at <c>-</c>, <c>_</c>, <c>.</c> and spaces, any case):
    /// none, one (the file's label for <see cref="Read"/>) or several.
    /// </summary>
    /// <param name="path">The file (only its name without the extension is looked at).</param>
    /// <param name="labels">The labels to look for. Default: <c>normal</c> and <c>anomaly</c>.</param>
    public static IReadOnlyList<string> LabelsNamedBy(string path, IReadOnlyCollection<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string[] words = Path.GetFileNameWithoutExtension(path).Split(['-', '_', '.', ' '], StringSplitOptions.RemoveEmptyEntries);
        return [.. (labels ?? DefaultLabels).Where(l => words.Contains(l, StringComparer.OrdinalIgnoreCase))];
    }
}
