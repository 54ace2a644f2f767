using System.Text;

namespace DefectDetection.Datasets;

public sealed partial class ImageDataset
{
    /// <summary>
    /// Reads a CSV list of images: <c>path,label</c> with an optional third column <c>mask</c>. A first line whose
    /// first two fields are <c>path</c>/<c>image</c>/<c>file</c> and <c>label</c>/<c>class</c> (any case) is taken as
    /// a header. Fields may be quoted ("..." with "" for a quote). Relative paths are relative to the CSV's folder.
    /// Blank lines and lines starting with <c>#</c> are skipped.
    /// </summary>
    /// <exception cref="DatasetException">The file is missing, or a line has too few fields, an empty path or label, or a broken quote.</exception>
    public static ImageDataset FromCsv(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string csv = Path.GetFullPath(path);
        if (!File.Exists(csv))
        {
            throw new DatasetException(csv, 0, null, "the CSV file does not exist");
        }

        string dir = Path.GetDirectoryName(csv)!;
        List<LabeledImage> items = [];
        int lineNumber = 0;
        bool first = true;
        foreach (string line in File.ReadLines(csv))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            List<string> fields = SplitCsvLine(line, csv, lineNumber);
            if (first)
            {
                first = false;
                if (fields.Count >= 2 && IsHeader(fields[0], "path", "image", "file", "filename", "image_path") && IsHeader(fields[1], "label", "class", "category"))
                {
                    continue;
                }
            }

            if (fields.Count < 2)
            {
                throw new DatasetException(csv, lineNumber, null, $"expected at least 2 fields (path,label), found {fields.Count}");
            }

            if (fields.Count > 3)
            {
                throw new DatasetException(csv, lineNumber, null, $"expected at most 3 fields (path,label,mask), found {fields.Count}");
            }

            string image = fields[0].Trim(), label = fields[1].Trim();
            if (image.Length == 0)
            {
                throw new DatasetException(csv, lineNumber, "path", "the path is empty");
            }

            if (label.Length == 0)
            {
                throw new DatasetException(csv, lineNumber, "label", "the label is empty");
            }

            string? nul = fields[0].Contains('\0', StringComparison.Ordinal) ? "path" : fields.Count == 3 && fields[2].Contains('\0', StringComparison.Ordinal) ? "mask" : null;
            if (nul is not null)
            {
                throw new DatasetException(csv, lineNumber, nul, "the path contains a NUL character");
            }

            string? mask = fields.Count == 3 && fields[2].Trim().Length > 0 ? Path.GetFullPath(Path.Combine(dir, fields[2].Trim())) : null;
            items.Add(new LabeledImage(Path.GetFullPath(Path.Combine(dir, image)), label) { MaskPath = mask, Origin = $"{csv}:{lineNumber}" });
        }

        return new ImageDataset(items);
    }

    private static bool IsHeader(string field, params string[] names) =>
        names.Any(n => string.Equals(field.Trim(), n, StringComparison.OrdinalIgnoreCase));

    private static List<string> SplitCsvLine(string line, string file, int lineNumber)
    {
        List<string> fields = [];
        StringBuilder sb = new();
        int i = 0;
        while (true)
        {
            sb.Clear();
            while (i < line.Length && line[i] == ' ')
            {
                i++;
            }

            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new DatasetException(file, lineNumber, $"column {fields.Count + 1}", "a quoted field is not closed");
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            sb.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    sb.Append(line[i++]);
                }

                while (i < line.Length && line[i] == ' ')
                {
                    i++;
                }

                if (i < line.Length && line[i] != ',')
                {
                    throw new DatasetException(file, lineNumber, $"column {fields.Count + 1}", "unexpected text after a closing quote");
                }
            }
            else
            {
                while (i < line.Length && line[i] != ',')
                {
                    sb.Append(line[i++]);
                }
            }

            fields.Add(sb.ToString());
            if (i >= line.Length)
            {
                return fields;
            }

            i++; // the comma
        }
    }
}
