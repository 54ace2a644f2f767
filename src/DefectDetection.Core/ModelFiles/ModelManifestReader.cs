using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DefectDetection.Models;

namespace DefectDetection.ModelFiles;

/// <summary>
/// Reads <c>manifest.json</c> strictly, in three steps, so that every malformed manifest ends in one
/// <see cref="ModelFileException"/> naming the field (a JSON path) and what was expected:
/// <list type="number">
/// <item>the format version, first, so a file of another format version is refused as such (whatever else it holds);</item>
/// <item>the JSON checked against the contract (<see cref="ModelJsonContext"/>'s metadata): value kinds and ranges,
/// no null where the contract has none (collections, their elements, dictionary values), no such field missing, no
/// field given twice, and no field this library does not know (a newer writer's);</item>
/// <item>after deserialising, the entries: names, element type, shapes and hashes.</item>
/// </list>
/// </summary>
internal static class ModelManifestReader
{
    private const string Entry = ModelPackage.ManifestEntry;
    private const int MaxDepth = 64;

    public static ModelManifest Read(byte[] json, string file)
    {
        // JsonDocument leaves strings undecoded until read, where invalid UTF-8 would throw InvalidOperationException.
        if (!Utf8.IsValid(json))
        {
            int offset = 0;
            while (Rune.DecodeFromUtf8(json.AsSpan(offset), out _, out int length) == OperationStatus.Done)
            {
                offset += length;
            }

            throw new ModelFileException(file, Entry, $"the manifest is not valid UTF-8 (byte {offset})");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            throw new ModelFileException(file, Entry, $"the manifest is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})", ex);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error(file, "$", $"expected an object, found {Found(root)}");
            }

            int version = CheckFormatVersion(root, file);
            CheckContract(root, ModelJsonContext.Default.ModelManifest, "$", file, version);
            ModelManifest manifest;
            try
            {
                manifest = root.Deserialize(ModelJsonContext.Default.ModelManifest) ?? throw Error(file, "$", "expected an object, found null");
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException)
            {
                // The contract check above should leave nothing for the serializer to refuse; this keeps the promise if it does.
                throw Error(file, (ex as JsonException)?.Path ?? "$", "the value does not fit the manifest contract", ex);
            }

            if (version == 1)
            {
                manifest = ManifestV1.Upgrade(manifest, file);
            }
            else if (manifest.Properties is not null)
            {
                throw Error(file, "$.properties", $"format version {version} keeps settings in the learner's section, not in properties");
            }

            Validate(manifest, file);
            return manifest;
        }
    }

    private static ModelFileException Error(string file, string path, string reason, Exception? inner = null) => new(file, Entry, path, reason, inner);

    private static int CheckFormatVersion(JsonElement root, string file)
    {
        const string path = "$.format_version";
        if (!root.TryGetProperty("format_version", out JsonElement v))
        {
            throw Error(file, path, "missing; expected the integer format version");
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int version))
        {
            throw Error(file, path, $"expected an integer, found {Found(v)}");
        }

        if (version > ModelPackage.CurrentFormatVersion)
        {
            string writer = root.TryGetProperty("library_version", out JsonElement lv) && lv.ValueKind == JsonValueKind.String ? lv.GetString()! : "unknown";
            throw Error(file, path,
                $"the file has format version {version} (written by library version {writer}), but this library (version {ModelPackage.LibraryVersion}) reads format versions {ModelPackage.OldestFormatVersion} to {ModelPackage.CurrentFormatVersion}; update the library");
        }

        if (version < ModelPackage.OldestFormatVersion)
        {
            throw Error(file, path,
                $"the file has format version {version}, older than the oldest this library (version {ModelPackage.LibraryVersion}) reads ({ModelPackage.OldestFormatVersion}); save the model again with a library that reads both");
        }

        return version;
    }

    // Walks the JSON beside the contract's metadata; the deserializer then only meets values it accepts.
    private static void CheckContract(JsonElement e, JsonTypeInfo info, string path, string file, int version)
    {
        Type? underlying = Nullable.GetUnderlyingType(info.Type);
        if (underlying is not null)
        {
            if (e.ValueKind != JsonValueKind.Null)
            {
                CheckContract(e, TypeInfo(underlying), path, file, version);
            }

            return;
        }

        if (e.ValueKind == JsonValueKind.Null)
        {
            throw Error(file, path, $"is null, expected {Describe(info)}");
        }

        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                Expect(e, JsonValueKind.Object, info, path, file);
                HashSet<string> seen = new(StringComparer.Ordinal);
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    string child = ChildPath(path, p.Name);
                    if (!seen.Add(p.Name))
                    {
                        throw Error(file, child, "the field appears twice");
                    }

                    JsonPropertyInfo property = info.Properties.FirstOrDefault(x => x.Name == p.Name)
                        ?? throw Error(file, child,
                            $"this library (version {ModelPackage.LibraryVersion}, format version {ModelPackage.CurrentFormatVersion}) does not know the field, so the file was written by a newer version; update the library");
                    if (p.Value.ValueKind == JsonValueKind.Null && (property.IsSetNullable || Nullable.GetUnderlyingType(property.PropertyType) is not null))
                    {
                        continue;
                    }

                    CheckContract(p.Value, TypeInfo(property.PropertyType), child, file, version);
                }

                // The source-generated reader sets every init property, so a missing one would be null, not its default.
                foreach (JsonPropertyInfo property in info.Properties)
                {
                    // Format version 1 named no learner (the reader derives it from the task and properties).
                    if (!seen.Contains(property.Name) && !property.IsSetNullable && !property.PropertyType.IsValueType
                        && !(version == 1 && path == "$" && property.Name == "learner"))
                    {
                        throw Error(file, ChildPath(path, property.Name), $"missing; expected {Describe(TypeInfo(property.PropertyType))}");
                    }
                }

                break;

            case JsonTypeInfoKind.Enumerable:
                Expect(e, JsonValueKind.Array, info, path, file);
                JsonTypeInfo element = TypeInfo(info.ElementType!);
                int i = 0;
                foreach (JsonElement item in e.EnumerateArray())
                {
                    CheckContract(item, element, $"{path}[{i++}]", file, version);
                }

                break;

            case JsonTypeInfoKind.Dictionary:
                Expect(e, JsonValueKind.Object, info, path, file);
                JsonTypeInfo value = TypeInfo(info.ElementType!);
                HashSet<string> keys = new(StringComparer.Ordinal);
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    string child = ChildPath(path, p.Name);
                    if (!keys.Add(p.Name))
                    {
                        throw Error(file, child, "the key appears twice");
                    }

                    CheckContract(p.Value, value, child, file, version);
                }

                break;

            default:
                if (!FitsValue(e, info.Type))
                {
                    throw Error(file, path, $"expected {Describe(info)}, found {Found(e)}");
                }

                break;
        }
    }

    private static void Expect(JsonElement e, JsonValueKind kind, JsonTypeInfo info, string path, string file)
    {
        if (e.ValueKind != kind)
        {
            throw Error(file, path, $"expected {Describe(info)}, found {Found(e)}");
        }
    }

    private static bool FitsValue(JsonElement e, Type type) => e.ValueKind switch
    {
        JsonValueKind.Number when type == typeof(int) => e.TryGetInt32(out _),
        JsonValueKind.Number when type == typeof(long) => e.TryGetInt64(out _),
        JsonValueKind.Number when type == typeof(float) => e.TryGetSingle(out float f) && (float.IsFinite(f) || !double.IsFinite(e.GetDouble())),
        JsonValueKind.Number when type == typeof(double) => e.TryGetDouble(out _),
        JsonValueKind.String when type == typeof(float) || type == typeof(double) => e.GetString() is "NaN" or "Infinity" or "-Infinity",
        JsonValueKind.String when type == typeof(string) => true,
        JsonValueKind.String when type == typeof(DateTimeOffset) => e.TryGetDateTimeOffset(out _),
        JsonValueKind.True or JsonValueKind.False => type == typeof(bool),
        _ => false,
    };

    private static JsonTypeInfo TypeInfo(Type type) =>
        ModelJsonContext.Default.GetTypeInfo(type) ?? throw new InvalidOperationException($"The manifest contract has no metadata for {type}.");

    private static string Describe(JsonTypeInfo info)
    {
        Type t = info.Type;
        Type? underlying = Nullable.GetUnderlyingType(t);
        if (underlying is not null)
        {
            return Describe(TypeInfo(underlying)) + " or null";
        }

        return info.Kind switch
        {
            JsonTypeInfoKind.Object => "an object",
            JsonTypeInfoKind.Enumerable => $"an array of {Plural(TypeInfo(info.ElementType!))}",
            JsonTypeInfoKind.Dictionary => $"an object whose values are {Plural(TypeInfo(info.ElementType!))}",
            _ when t == typeof(int) => "an integer (32-bit)",
            _ when t == typeof(long) => "an integer (64-bit)",
            _ when t == typeof(float) || t == typeof(double) => "a number",
            _ when t == typeof(string) => "a string",
            _ when t == typeof(bool) => "true or false",
            _ when t == typeof(DateTimeOffset) => "a date and time (ISO 8601 string)",
            _ => "a value of another kind",
        };
    }

    private static string Plural(JsonTypeInfo info)
    {
        string one = Describe(info); // "an integer (32-bit)" -> "integers (32-bit)"
        string noun = one.StartsWith("an ", StringComparison.Ordinal) ? one[3..] : one.StartsWith("a ", StringComparison.Ordinal) ? one[2..] : one;
        int note = noun.IndexOf(" (", StringComparison.Ordinal);
        return note < 0 ? noun + "s" : noun[..note] + "s" + noun[note..];
    }

    private static string Found(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "the string " + Shorten(e.GetRawText()),
        JsonValueKind.Number => "the number " + Shorten(e.GetRawText()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";

    private static string ChildPath(string path, string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? $"{path}.{name}"
            : $"{path}['{Shorten(name).Replace("'", "\\'", StringComparison.Ordinal)}']";

    // Container-level rules the contract cannot express: the entries' names, element type, shapes and hashes.
    private static void Validate(ModelManifest m, string file)
    {
        HashSet<string> names = new(StringComparer.Ordinal);
        for (int i = 0; i < m.Entries.Count; i++)
        {
            TensorEntryInfo info = m.Entries[i];
            string at = $"$.entries[{i}]";
            if (!ModelPackage.IsValidName(info.Name))
            {
                throw Error(file, at + ".name", $"'{Shorten(info.Name)}' is not a valid tensor name (letters, digits, '_', '-', '.', '/'; no empty or '..' parts; at most 200 characters)");
            }

            if (!names.Add(info.Name))
            {
                throw Error(file, at + ".name", $"the tensor '{info.Name}' is listed twice");
            }

            if (info.Dtype != "float32")
            {
                throw Error(file, at + ".dtype", $"expected \"float32\", found \"{Shorten(info.Dtype)}\"");
            }

            if (ModelTensor.ElementCount(info.Shape) < 0)
            {
                throw Error(file, at + ".shape",
                    $"the shape [{string.Join(", ", info.Shape.Take(8))}{(info.Shape.Count > 8 ? ", ..." : "")}] has a negative dimension or more than {ModelTensor.MaxElements.ToString("N0", CultureInfo.InvariantCulture)} values");
            }

            if (!IsSha256(info.Sha256))
            {
                throw Error(file, at + ".sha256", $"expected 64 hex digits, found \"{Shorten(info.Sha256)}\"");
            }
        }

        object?[] sections = [m.ImageClassifier, m.PatchCore, m.Variation, m.PinResidual, m.TemplateDifference, m.Combined];
        string[] learners = [Learners.ImageClassifier, Learners.PatchCore, Learners.VariationModel, Learners.PinResidual, Learners.TemplateDifference, Learners.Combined];
        // An empty learner is a bare package (tensors and a manifest, no learner's model): it holds no section.
        int index = Array.IndexOf(learners, m.Learner);
        if (index < 0 && m.Learner.Length > 0)
        {
            throw Error(file, "$.learner", $"'{Shorten(m.Learner)}' is not a learner this library knows ({string.Join(", ", learners)}); update the library");
        }

        for (int i = 0; i < sections.Length; i++)
        {
            if ((sections[i] is null) == (i == index))
            {
                // Each section's JSON name is its learner's name.
                string field = "$." + learners[i];
                throw Error(file, field, i == index ? $"missing; the {m.Learner} learner keeps its settings there" : $"present in a file of the {m.Learner} learner; a file holds only its own learner's section");
            }
        }

        if (m.Combined is { } combined)
        {
            ValidateMembers(combined, learners, file);
        }

        if (m.Backbone is { Embedded: true } b && !IsSha256(b.Sha256))
        {
            throw Error(file, "$.backbone.sha256", "an embedded backbone needs its SHA-256 (64 hex digits)");
        }
    }

    private static void ValidateMembers(CombinedSection combined, string[] learners, string file)
    {
        HashSet<string> names = new(StringComparer.Ordinal);
        for (int i = 0; i < combined.Members.Count; i++)
        {
            CombinedMember member = combined.Members[i];
            string at = $"$.{Learners.Combined}.members[{i}]";
            if (member.Name.Length is 0 or > 64 || !member.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                throw Error(file, at + ".name", $"'{Shorten(member.Name)}' is not a valid member name (1-64 letters, digits, '_', '-')");
            }

            if (!names.Add(member.Name))
            {
                throw Error(file, at + ".name", $"the member '{member.Name}' is listed twice");
            }

            if (member.Learner == Learners.Combined || !learners.Contains(member.Learner))
            {
                throw Error(file, at + ".learner", $"'{Shorten(member.Learner)}' is not a learner a combined model can hold");
            }

            if (member.Bytes < 0)
            {
                throw Error(file, at + ".bytes", $"expected a size of at least 0, found {member.Bytes}");
            }

            if (!IsSha256(member.Sha256))
            {
                throw Error(file, at + ".sha256", $"expected 64 hex digits, found \"{Shorten(member.Sha256)}\"");
            }

            if (member.Transform is not ("logit" or "score"))
            {
                throw Error(file, at + ".transform", $"expected \"logit\" or \"score\", found \"{Shorten(member.Transform)}\"");
            }

            if (!double.IsFinite(member.Center) || !double.IsFinite(member.Scale) || member.Scale <= 0)
            {
                throw Error(file, at + ".scale", $"expected a finite center and a positive finite scale, found {member.Center.ToString(CultureInfo.InvariantCulture)} and {member.Scale.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        if (combined.Members.Count < 2)
        {
            throw Error(file, $"$.{Learners.Combined}.members", $"a combined model needs at least two members, found {combined.Members.Count}");
        }

        if (!double.IsFinite(combined.ConfidenceScale) || combined.ConfidenceScale <= 0)
        {
            throw Error(file, $"$.{Learners.Combined}.confidence_scale", $"expected a positive finite number, found {combined.ConfidenceScale.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static bool IsSha256(string? s) => s is { Length: 64 } && s.All(char.IsAsciiHexDigit);
}
