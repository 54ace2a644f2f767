using System.Globalization;
using DefectDetection.Imaging;

namespace DefectDetection.Datasets;

/// <summary>One DeepPCB sample: an aligned template/test image pair and the typed defect boxes of the test image.</summary>
/// <param name="TestImagePath">The tested image (<c>NNN_test.jpg</c>).</param>
/// <param name="TemplateImagePath">The defect-free template (<c>NNN_temp.jpg</c>).</param>
/// <param name="AnnotationPath">The annotation file the boxes were read from.</param>
/// <param name="Defects">The defect boxes, labelled with <see cref="DeepPcbDataset.TypeNames"/>.</param>
public sealed record DeepPcbPair(string TestImagePath, string TemplateImagePath, string AnnotationPath, IReadOnlyList<LabeledBox> Defects);

/// <summary>
/// Reads the DeepPCB dataset (Tang et al.): list files (<c>train.txt</c>, <c>test.txt</c>) whose lines are
/// <c>groupG/G/NNN.jpg groupG/G_not/NNN.txt</c>, and annotation files whose lines are <c>x1 y1 x2 y2 type</c>
/// (type 1 open, 2 short, 3 mousebite, 4 spur, 5 spurious copper, 6 pin-hole). Malformed input raises a
/// <see cref="DatasetException"/> naming the file and line.
/// </summary>
public static class DeepPcbDataset
{
    /// <summary>The defect type names, index = type number - 1: open, short, mousebite, spur, copper, pin-hole.</summary>
    public static IReadOnlyList<string> TypeNames { get; } = ["open", "short", "mousebite", "spur", "copper", "pin-hole"];

    /// <summary>Reads a list file; paths in it are relative to the list file's folder.</summary>
    /// <param name="listPath">The list file (for example <c>test.txt</c>).</param>
    /// <param name="checkFiles">When true (default), a missing image or annotation file raises a <see cref="DatasetException"/>.</param>
    /// <exception cref="DatasetException">A malformed line, a malformed annotation or a missing file.</exception>
    public static IReadOnlyList<DeepPcbPair> ReadList(string listPath, bool checkFiles = true)
    {
        ArgumentNullException.ThrowIfNull(listPath);
        string[] lines = ReadLines(listPath);
        string root = Path.GetDirectoryName(Path.GetFullPath(listPath)) ?? ".";
        List<DeepPcbPair> pairs = [];
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                throw new DatasetException(listPath, i + 1, null, $"expected 'image.jpg annotation.txt', got {parts.Length} fields");
            }

            if (!parts[0].EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
            {
                throw new DatasetException(listPath, i + 1, "image", $"'{parts[0]}' does not end in .jpg");
            }

            string stem = Path.Combine(root, parts[0][..^4]);
            string test = stem + "_test.jpg", template = stem + "_temp.jpg";
            string annotation = Path.Combine(root, parts[1]);
            if (checkFiles)
            {
                foreach (string file in (ReadOnlySpan<string>)[test, template])
                {
                    if (!File.Exists(file))
                    {
                        throw new DatasetException(listPath, i + 1, "image", $"'{file}' does not exist");
                    }
                }
            }

            IReadOnlyList<LabeledBox> boxes = checkFiles || File.Exists(annotation) ? ReadAnnotation(annotation) : [];
            pairs.Add(new DeepPcbPair(test, template, annotation, boxes));
        }

        return pairs;
    }

    /// <summary>Reads one annotation file (<c>x1 y1 x2 y2 type</c> per line, spaces or commas between fields).</summary>
    /// <exception cref="DatasetException">The file is missing or a line is malformed.</exception>
    public static IReadOnlyList<LabeledBox> ReadAnnotation(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ParseAnnotation(ReadLines(path), path);
    }

    /// <summary>Parses annotation lines; <paramref name="source"/> names them in exceptions.</summary>
    internal static IReadOnlyList<LabeledBox> ParseAnnotation(IReadOnlyList<string> lines, string source)
    {
        List<LabeledBox> boxes = [];
        Span<int> v = stackalloc int[5];
        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            string[] parts = line.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 5)
            {
                throw new DatasetException(source, i + 1, null, $"expected 'x1 y1 x2 y2 type', got {parts.Length} fields");
            }

            for (int k = 0; k < 5; k++)
            {
                if (!int.TryParse(parts[k], NumberStyles.Integer, CultureInfo.InvariantCulture, out v[k]))
                {
                    throw new DatasetException(source, i + 1, FieldName(k), $"'{parts[k]}' is not an integer");
                }
            }

            if (v[2] <= v[0] || v[3] <= v[1] || v[0] < 0 || v[1] < 0)
            {
                throw new DatasetException(source, i + 1, null, $"the box ({v[0]}, {v[1]}, {v[2]}, {v[3]}) is empty or negative");
            }

            if (v[4] < 1 || v[4] > TypeNames.Count)
            {
                throw new DatasetException(source, i + 1, "type", $"type {v[4]} is not in 1..{TypeNames.Count}");
            }

            boxes.Add(new LabeledBox(Rectangle.FromEdges(v[0], v[1], v[2], v[3]), TypeNames[v[4] - 1]));
        }

        return boxes;
    }

    private static string FieldName(int k) => k switch
    {
        0 => "x1",
        1 => "y1",
        2 => "x2",
        3 => "y2",
        _ => "type",
    };

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, 0, null, $"cannot read the file ({e.Message})", e);
        }
    }
}
