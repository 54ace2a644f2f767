using System.Text.Json;
using DefectDetection.Datasets;

namespace DefectDetection.Projects;

/// <summary>Reads a file of verifications: CSV (<c>image,label[,mask]</c> or <c>image,correct|wrong</c>) or a JSON array.</summary>
internal static class VerificationFile
{
    public static List<(string Image, VerificationInput Input)> Read(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new DatasetException(full, 0, null, "the verification file does not exist");
        }

        string folder = Path.GetDirectoryName(full)!;
        return full.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ReadJson(full, folder) : ReadCsv(full, folder);
    }

    private static List<(string, VerificationInput)> ReadCsv(string path, string folder)
    {
        List<(string, VerificationInput)> rows = [];
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text) || text.TrimStart().StartsWith('#'))
            {
                continue;
            }

            string[] fields = [.. text.Split(',').Select(f => f.Trim().Trim('"'))];
            if (rows.Count == 0 && line == 1 && fields[0] is "image" or "path" or "file")
            {
                continue; // a header
            }

            if (fields.Length < 2 || fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new DatasetException(path, line, null, "expected image,label[,mask] or image,correct|wrong");
            }

            rows.Add((fields[0], Input(fields[1], fields.Length > 2 && fields[2].Length > 0 ? Path.GetFullPath(fields[2], folder) : null)));
        }

        return rows;
    }

    private static List<(string, VerificationInput)> ReadJson(string path, string folder)
    {
        List<(string, VerificationInput)> rows = [];
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new DatasetException(path, 0, "$", "expected an array of {\"image\", \"label\", \"correct\", \"mask\"} objects");
            }

            int i = 0;
            foreach (JsonElement item in doc.RootElement.EnumerateArray())
            {
                string where = $"$[{i++}]";
                string image = item.TryGetProperty("image", out JsonElement im) && im.ValueKind == JsonValueKind.String ? im.GetString()! : throw new DatasetException(path, 0, where + ".image", "missing or not a string");
                string? label = item.TryGetProperty("label", out JsonElement l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
                bool? correct = item.TryGetProperty("correct", out JsonElement c) ? c.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new DatasetException(path, 0, where + ".correct", "not true or false"),
                } : null;
                string? mask = item.TryGetProperty("mask", out JsonElement m) && m.ValueKind == JsonValueKind.String ? Path.GetFullPath(m.GetString()!, folder) : null;
                if (label is null && correct is null)
                {
                    throw new DatasetException(path, 0, where, "give a label or correct");
                }

                rows.Add((image, new VerificationInput { TrueLabel = label, Correct = correct, MaskPath = mask }));
            }
        }
        catch (JsonException e)
        {
            throw new DatasetException(path, (int)(e.LineNumber ?? 0) + 1, null, $"not valid JSON: {e.Message}", e);
        }

        return rows;
    }

    private static VerificationInput Input(string verdict, string? mask) => verdict.ToLowerInvariant() switch
    {
        "correct" or "true" or "yes" => new VerificationInput { Correct = true, MaskPath = mask },
        "wrong" or "false" or "no" => new VerificationInput { Correct = false, MaskPath = mask },
        _ => new VerificationInput { TrueLabel = verdict, MaskPath = mask },
    };
}
