using DefectDetection.Datasets;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.ImageClassification;

/// <summary>
/// Reads a flat folder whose file names carry the label, such as Lookout for Vision's cookie set
/// (<c>normal-1.jpg</c>, <c>anomaly-3.jpg</c>, <c>test-normal-1.jpg</c>): a file's label is the one of the given
/// labels that appears as a whole word of its name (words split at <c>-</c>, <c>_</c>, <c>.</c> and spaces).
/// </summary>
public static class FileNameDataset
{
    /// <summary>Reads the image files of a folder (not recursive; hidden files skipped) labelled by their names.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="labels">The labels to look for. Default: <c>normal</c> and <c>anomaly</c>.</param>
    /// <returns>The dataset (labels in ordinal order).</returns>
    /// <exception cref="DatasetException">The folder does not exist, holds no images, or a file name names no label or several.</exception>
    public static ImageDataset Read(string folder, IReadOnlyCollection<string>? labels = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string[] names = (labels ?? ["normal", "anomaly"]).ToArray();
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

            string[] words = Path.GetFileNameWithoutExtension(name).Split(['-', '_', '.', ' '], StringSplitOptions.RemoveEmptyEntries);
            string[] found = names.Where(l => words.Contains(l, StringComparer.OrdinalIgnoreCase)).ToArray();
            if (found.Length != 1)
            {
                throw new DatasetException(file, 0, null, found.Length == 0
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
}
