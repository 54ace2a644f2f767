using System.Text.Json;

namespace DefectDetection.Datasets;

public sealed partial class ImageDataset
{
    /// <summary>
    /// Reads one list of a splits file such as the magnetic-tile dataset's <c>splits.json</c>: a JSON object whose
    /// <paramref name="task"/> property holds lists by name (<paramref name="split"/>). An entry is either a path
    /// string (labelled <paramref name="defaultLabel"/>) or an object with <c>image</c>, <c>label</c> (optional:
    /// <paramref name="defaultLabel"/>) and optional <c>mask</c>. Paths are relative to the file's folder.
    /// </summary>
    /// <param name="path">The splits file.</param>
    /// <param name="task">The task object, for example <c>classification</c> or <c>anomaly_detection</c>.</param>
    /// <param name="split">The list, for example <c>train</c>, <c>test</c>, <c>train_normal</c>, <c>test_anomaly</c>.</param>
    /// <param name="defaultLabel">The label of entries that carry none. Default <c>normal</c>.</param>
    /// <exception cref="DatasetException">The file is missing, not JSON, or lacks the task or list, or an entry is malformed.</exception>
    public static ImageDataset FromSplitsFile(string path, string task, string split, string defaultLabel = "normal")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(task);
        ArgumentException.ThrowIfNullOrEmpty(split);
        string file = Path.GetFullPath(path);
        if (!File.Exists(file))
        {
            throw new DatasetException(file, 0, null, "the splits file does not exist");
        }

        string dir = Path.GetDirectoryName(file)!;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(file));
        }
        catch (JsonException ex)
        {
            throw new DatasetException(file, (int)(ex.LineNumber ?? -1) + 1, null, $"not valid JSON ({ex.Message})", ex);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(task, out JsonElement taskElement) || taskElement.ValueKind != JsonValueKind.Object)
            {
                throw new DatasetException(file, 0, task, "no such task object");
            }

            if (!taskElement.TryGetProperty(split, out JsonElement list) || list.ValueKind != JsonValueKind.Array)
            {
                string known = string.Join(", ", taskElement.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Array).Select(p => p.Name));
                throw new DatasetException(file, 0, $"{task}.{split}", $"no such list (the task has: {known})");
            }

            List<LabeledImage> items = [];
            int index = 0;
            foreach (JsonElement entry in list.EnumerateArray())
            {
                string field = $"{task}.{split}[{index++}]";
                string origin = $"{file} {field}";
                if (entry.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(entry.GetString()))
                {
                    items.Add(new LabeledImage(Path.GetFullPath(Path.Combine(dir, entry.GetString()!)), defaultLabel) { Origin = origin });
                    continue;
                }

                if (entry.ValueKind != JsonValueKind.Object)
                {
                    throw new DatasetException(file, 0, field, "expected a path or an object with 'image' and 'label'");
                }

                string image = RequireString(entry, "image", file, 0, field + ".image");
                string label = entry.TryGetProperty("label", out _) ? RequireString(entry, "label", file, 0, field + ".label") : defaultLabel;
                string? mask = entry.TryGetProperty("mask", out _) ? RequireString(entry, "mask", file, 0, field + ".mask") : null;
                items.Add(new LabeledImage(Path.GetFullPath(Path.Combine(dir, image)), label)
                {
                    MaskPath = mask is null ? null : Path.GetFullPath(Path.Combine(dir, mask)),
                    Origin = origin,
                });
            }

            return new ImageDataset(items);
        }
    }
}
