using System.Globalization;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.IO;

namespace DefectDetection.Datasets;

/// <summary>Options of <see cref="ImageDataset.FromManifest"/>.</summary>
public sealed class ManifestOptions
{
    /// <summary>
    /// The local folder holding the images. <c>s3://bucket/key</c> references are looked up there by their key,
    /// then by the key's trailing parts, then by file name anywhere below it; they need this folder. Relative
    /// references are resolved against it. Null (default): the manifest's folder, then its parent folder (unless that
    /// is a file-system root). Every reference must lead inside these folders, symbolic links resolved.
    /// </summary>
    public string? ImageRoot { get; init; }

    /// <summary>
    /// The attribute holding the image label. Null (default): <c>anomaly-label</c> when present, else the first
    /// attribute whose metadata type is <c>groundtruth/image-classification</c>.
    /// </summary>
    public string? LabelAttribute { get; init; }

    /// <summary>The attribute holding the mask reference. Default <c>anomaly-mask-ref</c>.</summary>
    public string MaskAttribute { get; init; } = "anomaly-mask-ref";
}

public sealed partial class ImageDataset
{
    private const string SourceRef = "source-ref";

    /// <summary>
    /// Reads an Amazon Lookout for Vision / SageMaker Ground Truth manifest (JSON Lines, one image per line).
    /// <list type="bullet">
    /// <item><c>source-ref</c>: the image, an <c>s3://</c> URI mapped to <see cref="ManifestOptions.ImageRoot"/>
    /// or a path relative to it.</item>
    /// <item>The label attribute (<c>anomaly-label</c>): the label is its metadata's <c>class-name</c>; without one,
    /// a number 1 means <c>anomaly</c> and 0 <c>normal</c>, and a string is the label itself.</item>
    /// <item><c>anomaly-mask-ref</c>: the mask, with its metadata's <c>internal-color-map</c> giving the colour of
    /// each defect label (<see cref="LabeledImage.MaskColors"/>).</item>
    /// <item>An attribute whose metadata type is <c>groundtruth/object-detection</c>: its <c>annotations</c> boxes,
    /// named by the metadata's <c>class-map</c> (<see cref="LabeledImage.Boxes"/>).</item>
    /// </list>
    /// Blank lines are skipped. Images are not opened: <see cref="Validate"/> reports missing or unreadable files.
    /// </summary>
    /// <exception cref="DatasetException">The manifest is missing, a line is not JSON, a field is missing or malformed, a
    /// path leads outside the image folders, or an <c>s3://</c> URI comes without <see cref="ManifestOptions.ImageRoot"/>;
    /// the message names the line and field.</exception>
    public static ImageDataset FromManifest(string path, ManifestOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new ManifestOptions();
        string manifest = Path.GetFullPath(path);
        if (!File.Exists(manifest))
        {
            throw new DatasetException(manifest, 0, null, "the manifest file does not exist");
        }

        // Without an image folder, paths are looked up in the manifest's folder, then its parent (the Lookout layout:
        // manifests/ beside training-images/), never in a file-system root.
        string manifestDir = Path.GetDirectoryName(manifest)!;
        string? parent = Path.GetDirectoryName(manifestDir);
        string[] roots = options.ImageRoot is not null ? [Path.GetFullPath(options.ImageRoot)]
            : parent is null || Path.GetDirectoryName(parent) is null ? [manifestDir]
            : [manifestDir, parent];
        PathResolver resolver = new(manifest, roots, options.ImageRoot is not null);
        List<LabeledImage> items = [];
        int lineNumber = 0;
        foreach (string line in File.ReadLines(manifest))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line);
            }
            catch (JsonException ex)
            {
                throw new DatasetException(manifest, lineNumber, null, $"the line is not valid JSON ({ex.Message})", ex);
            }

            using (doc)
            {
                items.Add(ReadManifestLine(doc.RootElement, options, resolver, manifest, lineNumber));
            }
        }

        return new ImageDataset(items);
    }

    private static LabeledImage ReadManifestLine(JsonElement root, ManifestOptions options, PathResolver resolver, string manifest, int line)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new DatasetException(manifest, line, null, "expected a JSON object");
        }

        string source = RequireString(root, SourceRef, manifest, line);
        string imagePath = resolver.Resolve(source, line, SourceRef);

        string? labelAttribute = options.LabelAttribute;
        if (labelAttribute is null)
        {
            labelAttribute = root.TryGetProperty("anomaly-label", out _) ? "anomaly-label" : FindAttributeOfType(root, "groundtruth/image-classification");
            if (labelAttribute is null)
            {
                throw new DatasetException(manifest, line, "anomaly-label", "no label: expected 'anomaly-label' or an attribute with metadata type 'groundtruth/image-classification'");
            }
        }

        string label = ReadLabel(root, labelAttribute, manifest, line);
        LabeledImage item = new(imagePath, label) { Origin = $"{manifest}:{line}" };

        if (root.TryGetProperty(options.MaskAttribute, out JsonElement maskRef))
        {
            if (maskRef.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(maskRef.GetString()))
            {
                throw new DatasetException(manifest, line, options.MaskAttribute, "expected a non-empty string");
            }

            item = item with
            {
                MaskPath = resolver.Resolve(maskRef.GetString()!, line, options.MaskAttribute),
                MaskColors = ReadColorMap(root, options.MaskAttribute + "-metadata", manifest, line),
            };
        }

        string? boxAttribute = FindAttributeOfType(root, "groundtruth/object-detection");
        if (boxAttribute is not null)
        {
            item = item with { Boxes = ReadBoxes(root, boxAttribute, manifest, line) };
        }

        return item;
    }

    private static string ReadLabel(JsonElement root, string attribute, string manifest, int line)
    {
        if (!root.TryGetProperty(attribute, out JsonElement value))
        {
            throw new DatasetException(manifest, line, attribute, "the label attribute is missing");
        }

        if (root.TryGetProperty(attribute + "-metadata", out JsonElement meta) && meta.ValueKind == JsonValueKind.Object
            && meta.TryGetProperty("class-name", out JsonElement className))
        {
            if (className.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(className.GetString()))
            {
                throw new DatasetException(manifest, line, attribute + "-metadata.class-name", "expected a non-empty string");
            }

            return className.GetString()!;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt32(out int n) && n == 1 => "anomaly",
            JsonValueKind.Number when value.TryGetInt32(out int n) && n == 0 => "normal",
            JsonValueKind.String when !string.IsNullOrWhiteSpace(value.GetString()) => value.GetString()!,
            _ => throw new DatasetException(manifest, line, attribute, $"cannot tell the label from {value.GetRawText()} without a '{attribute}-metadata.class-name' (expected 0, 1 or a label name)"),
        };
    }

    private static IReadOnlyList<MaskColor> ReadColorMap(JsonElement root, string metaName, string manifest, int line)
    {
        if (!root.TryGetProperty(metaName, out JsonElement meta) || meta.ValueKind != JsonValueKind.Object
            || !meta.TryGetProperty("internal-color-map", out JsonElement map))
        {
            return [];
        }

        string field = metaName + ".internal-color-map";
        if (map.ValueKind != JsonValueKind.Object)
        {
            throw new DatasetException(manifest, line, field, "expected an object");
        }

        List<MaskColor> colors = [];
        foreach (JsonProperty entry in map.EnumerateObject())
        {
            string entryField = $"{field}.{entry.Name}";
            if (entry.Value.ValueKind != JsonValueKind.Object)
            {
                throw new DatasetException(manifest, line, entryField, "expected an object with class-name and hex-color");
            }

            string name = RequireString(entry.Value, "class-name", manifest, line, entryField + ".class-name");
            string hex = RequireString(entry.Value, "hex-color", manifest, line, entryField + ".hex-color");
            if (hex.Length != 7 || hex[0] != '#' || !uint.TryParse(hex.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint rgb))
            {
                throw new DatasetException(manifest, line, entryField + ".hex-color", $"'{hex}' is not a colour of the form #RRGGBB");
            }

            colors.Add(new MaskColor(name, (byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb));
        }

        return colors;
    }

    private static IReadOnlyList<LabeledBox> ReadBoxes(JsonElement root, string attribute, string manifest, int line)
    {
        JsonElement value = root.GetProperty(attribute);
        if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty("annotations", out JsonElement annotations) || annotations.ValueKind != JsonValueKind.Array)
        {
            throw new DatasetException(manifest, line, attribute + ".annotations", "expected an array of boxes");
        }

        Dictionary<string, string> classMap = new(StringComparer.Ordinal);
        if (root.TryGetProperty(attribute + "-metadata", out JsonElement meta) && meta.ValueKind == JsonValueKind.Object
            && meta.TryGetProperty("class-map", out JsonElement map) && map.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty p in map.EnumerateObject())
            {
                classMap[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
        }

        List<LabeledBox> boxes = [];
        int index = 0;
        foreach (JsonElement a in annotations.EnumerateArray())
        {
            string field = $"{attribute}.annotations[{index++}]";
            int Int(string name) => a.ValueKind == JsonValueKind.Object && a.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d is >= int.MinValue and <= int.MaxValue
                ? (int)Math.Round(d)
                : throw new DatasetException(manifest, line, $"{field}.{name}", "expected a number");
            int classId = Int("class_id");
            string label = classMap.TryGetValue(classId.ToString(CultureInfo.InvariantCulture), out string? n) ? n : classId.ToString(CultureInfo.InvariantCulture);
            Rectangle box = new(Int("left"), Int("top"), Int("width"), Int("height"));
            if (box.Width < 0 || box.Height < 0)
            {
                throw new DatasetException(manifest, line, field, $"the box {box} has a negative size");
            }

            boxes.Add(new LabeledBox(box, label));
        }

        return boxes;
    }

    private static string? FindAttributeOfType(JsonElement root, string type)
    {
        foreach (JsonProperty p in root.EnumerateObject())
        {
            if (p.Name.EndsWith("-metadata", StringComparison.Ordinal) && p.Value.ValueKind == JsonValueKind.Object
                && p.Value.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String
                && string.Equals(t.GetString(), type, StringComparison.Ordinal))
            {
                string attribute = p.Name[..^"-metadata".Length];
                if (root.TryGetProperty(attribute, out _))
                {
                    return attribute;
                }
            }
        }

        return null;
    }

    private static string RequireString(JsonElement obj, string name, string file, int line, string? field = null)
    {
        if (!obj.TryGetProperty(name, out JsonElement v))
        {
            throw new DatasetException(file, line, field ?? name, "the field is missing");
        }

        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
        {
            throw new DatasetException(file, line, field ?? name, $"expected a non-empty string, found {v.GetRawText()}");
        }

        return v.GetString()!;
    }

    /// <summary>
    /// Maps manifest references (s3:// URIs or paths) to local files inside the image folders: a reference that
    /// leads outside them (<c>..</c>, an absolute path, a symbolic link) is refused, and s3:// URIs are looked up
    /// only below an image folder that was given.
    /// </summary>
    private sealed class PathResolver(string file, string[] roots, bool rootGiven)
    {
        private Dictionary<string, List<string>>? _byName;

        public string Resolve(string reference, int line, string field)
        {
            if (reference.Contains('\0', StringComparison.Ordinal) || Uri.UnescapeDataString(reference).Contains('\0', StringComparison.Ordinal))
            {
                throw new DatasetException(file, line, field, "the path holds a NUL character");
            }

            if (reference.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
            {
                return Inside(ResolveS3(reference, line, field), reference, line, field);
            }

            if (Uri.TryCreate(reference, UriKind.Absolute, out Uri? uri) && uri.Scheme.Length > 1 && !uri.IsFile)
            {
                throw new DatasetException(file, line, field, $"'{reference}' is neither an s3:// URI nor a local path");
            }

            if (Path.IsPathRooted(reference))
            {
                return Inside(Path.GetFullPath(reference), reference, line, field);
            }

            foreach (string root in roots)
            {
                string candidate = Path.GetFullPath(Path.Combine(root, reference));
                if (File.Exists(candidate) && IsInside(candidate))
                {
                    return candidate;
                }
            }

            return Inside(Path.GetFullPath(Path.Combine(roots[0], reference)), reference, line, field);
        }

        private string ResolveS3(string reference, int line, string field)
        {
            string rest = reference[5..];
            int slash = rest.IndexOf('/');
            string key = slash < 0 ? string.Empty : Uri.UnescapeDataString(rest[(slash + 1)..]);
            if (key.Length == 0 || key.EndsWith('/'))
            {
                throw new DatasetException(file, line, field, $"'{reference}' names no object (expected s3://bucket/key)");
            }

            if (!rootGiven)
            {
                throw new DatasetException(file, line, field, $"'{reference}' is an S3 object: give the local folder that holds the images (ManifestOptions.ImageRoot; --images in the defect tool)");
            }

            string[] parts = key.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Any(p => p is "." or ".."))
            {
                throw new DatasetException(file, line, field, $"'{reference}' has '.' or '..' in its key, which would lead outside the image folder {roots[0]}");
            }

            foreach (string root in roots)
            {
                for (int skip = 0; skip < parts.Length; skip++)
                {
                    string candidate = Path.Combine([root, .. parts[skip..]]);
                    if (File.Exists(candidate))
                    {
                        return candidate;
                    }
                }
            }

            string name = parts[^1];
            List<string>? found = FindByName(name);
            if (found is { Count: 1 })
            {
                return found[0];
            }

            if (found is { Count: > 1 })
            {
                throw new DatasetException(file, line, field, $"'{reference}' is ambiguous: {found.Count} files named '{name}' under {roots[0]} ({found[0]}, {found[1]}, ...)");
            }

            // Not there: Validate reports the missing file with this line.
            return Path.Combine(roots[0], name);
        }

        // A link loop counts as outside.
        private bool IsInside(string path)
        {
            try
            {
                return roots.Any(root => FileSystemPaths.IsWithin(path, root));
            }
            catch (IOException)
            {
                return false;
            }
        }

        private string Inside(string path, string reference, int line, string field) => IsInside(path) ? path
            : throw new DatasetException(file, line, field,
                $"'{reference}' leads outside the image folder{(roots.Length > 1 ? "s" : string.Empty)} {string.Join(" and ", roots)} (symbolic links resolved); manifest paths must stay inside the dataset folder or the image folder given");

        // Every file below the image folders by name, each real folder read once (a link loop ends).
        private List<string>? FindByName(string name)
        {
            if (_byName is null)
            {
                _byName = new Dictionary<string, List<string>>(StringComparer.Ordinal);
                foreach (string root in roots.Distinct(FileSystemPaths.Comparer))
                {
                    if (!Directory.Exists(root))
                    {
                        continue;
                    }

                    foreach (string f in FileSystemPaths.EnumerateFiles(root, recursive: true))
                    {
                        string n = Path.GetFileName(f);
                        if (!_byName.TryGetValue(n, out List<string>? list))
                        {
                            _byName[n] = list = [];
                        }

                        list.Add(f);
                    }
                }
            }

            return _byName.GetValueOrDefault(name);
        }
    }
}
