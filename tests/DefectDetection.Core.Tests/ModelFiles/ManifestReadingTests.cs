using System.Text.Json.Nodes;
using DefectDetection.ModelFiles;
using static DefectDetection.Core.Tests.ModelFiles.ModelFileBuilder;

namespace DefectDetection.Core.Tests.ModelFiles;

public class ManifestReadingTests
{
    public static TheoryData<string, string, string> MalformedFields => new()
    {
        // edit (JSON path = JSON value), the field reported, words of the reason
        { "$.format_version=\"1\"", "$.format_version", "expected an integer, found the string \"1\"" },
        { "$.format_version=true", "$.format_version", "expected an integer, found true" },
        { "$.format_version=1.5", "$.format_version", "expected an integer" },
        { "$.entries=null", "$.entries", "is null, expected an array of objects" },
        { "$.properties={}", "$.properties", "keeps settings in the learner's section" },
        { "$.image_classifier=null", "$.image_classifier", "missing; the image_classifier learner keeps its settings there" },
        { "$.image_classifier.normal_labels=null", "$.image_classifier.normal_labels", "is null, expected an array of strings" },
        { "$.image_classifier.feature_length=\"3\"", "$.image_classifier.feature_length", "expected an integer (32-bit), found the string" },
        { "$.learner=\"forest\"", "$.learner", "not a learner this library knows" },
        { "$.variation_model={}", "$.variation_model", "a file holds only its own learner's section" },
        { "$.preprocessing.mean=null", "$.preprocessing.mean", "is null, expected an array of numbers" },
        { "$.preprocessing.mean=[\"x\"]", "$.preprocessing.mean[0]", "expected a number, found the string \"x\"" },
        { "$.preprocessing.width=1e99", "$.preprocessing.width", "expected an integer (32-bit), found the number 1e99" },
        { "$.labels=[null]", "$.labels[0]", "is null, expected a string" },
        { "$.labels={}", "$.labels", "expected an array of strings, found an object" },
        { "$.backbone.embedded=\"yes\"", "$.backbone.embedded", "expected true or false" },
        { "$.created_utc=\"yesterday\"", "$.created_utc", "expected a date and time" },
        { "$.task=null", "$.task", "is null, expected a string" },
        { "$.entries[0]=null", "$.entries[0]", "is null, expected an object" },
        { "$.entries[0].shape=[2,-3]", "$.entries[0].shape", "negative dimension" },
        { "$.entries[0].shape=[65536,65536,65536]", "$.entries[0].shape", "more than" },
        { "$.entries[0].dtype=\"float16\"", "$.entries[0].dtype", "expected \"float32\"" },
        { "$.entries[0].sha256=\"abc\"", "$.entries[0].sha256", "64 hex digits" },
        { "$.entries[0].name=\"../evil\"", "$.entries[0].name", "not a valid tensor name" },
        { "$.entries[0].name=\"head/weights\"", "$.entries[1].name", "listed twice" },
    };

    [Theory]
    [MemberData(nameof(MalformedFields))]
    public void MalformedField_NamesFileEntryFieldAndExpectation(string edit, string field, string reason)
    {
        (string path, string value) = (edit[..edit.IndexOf('=')], edit[(edit.IndexOf('=') + 1)..]);
        byte[] file = Edited((m, _) => Set(m, path, JsonNode.Parse(value)));

        ModelFileException ex = LoadFails(file);

        Assert.Equal("bad.ddmodel", ex.FilePath);
        Assert.Equal("manifest.json", ex.Entry);
        Assert.Equal(field, ex.Field);
        Assert.Contains(reason, ex.Reason, StringComparison.Ordinal);
        Assert.Contains($"bad.ddmodel (manifest.json, field {field})", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("$.entries[0]", "shape", "missing; expected an array of integers")] // found by tools/Fuzz: NullReferenceException
    [InlineData("$.entries[0]", "dtype", "missing; expected a string")]
    [InlineData("$.preprocessing", "mean", "missing; expected an array of numbers")]
    [InlineData("$", "learner", "missing; expected a string")]
    [InlineData("$.image_classifier", "extractor", "missing; expected a string")]
    public void MissingField_IsRefused_NotLeftNull(string parent, string name, string reason)
    {
        ModelFileException ex = LoadFails(Edited((m, _) => Find(m, parent).AsObject().Remove(name)));
        Assert.Equal(parent + "." + name, ex.Field);
        Assert.Contains(reason, ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("$.something_new")]
    [InlineData("$.backbone.quantised")]
    [InlineData("$.entries[0].offset")]
    public void UnknownField_IsRefusedAsWrittenByANewerVersion(string path)
    {
        ModelFileException ex = LoadFails(Edited((m, _) => Set(m, path, JsonValue.Create(1))));
        Assert.Equal(path, ex.Field);
        Assert.Contains("does not know the field", ex.Reason, StringComparison.Ordinal);
        Assert.Contains("newer version", ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "older than the oldest")]
    [InlineData(-7, "older than the oldest")]
    [InlineData(3, "update the library")]
    public void FormatVersionOutOfRange_IsRefusedNamingIt(int version, string reason)
    {
        // A newer file may hold fields this reader does not know: the version is what must be reported.
        ModelFileException ex = LoadFails(Edited((m, _) =>
        {
            m["format_version"] = version;
            m["a_field_from_the_future"] = "x";
        }));
        Assert.Equal("$.format_version", ex.Field);
        Assert.Contains($"format version {version}", ex.Reason, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("{\"format_version\": 1,", "not valid JSON")]
    [InlineData("[1]", "expected an object, found an array")]
    [InlineData("{}", "missing")]
    [InlineData("{\"format_version\": 1, \"task\": \"a\", \"task\": \"b\"}", "appears twice")]
    public void BrokenManifestText_IsRefused(string json, string reason)
    {
        ModelFileException ex = LoadFails(WithManifestText(json));
        Assert.Equal("manifest.json", ex.Entry);
        Assert.Contains(reason, ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"format_version\": 1, \"task\": \"\u00ff\u00fe\"}", 31)] // invalid bytes in a value
    [InlineData("{\"format_version\": 1, \"\u00c3\": 1}", 23)] // and in a field name (found by tools/Fuzz)
    public void InvalidUtf8_IsRefusedWithItsOffset(string latin1, int offset)
    {
        ModelFileException ex = LoadFails(ZipWithManifest(System.Text.Encoding.Latin1.GetBytes(latin1)));
        Assert.Equal("manifest.json", ex.Entry);
        Assert.Contains($"not valid UTF-8 (byte {offset})", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepNesting_IsRefusedAsInvalidJson()
    {
        string deep = new string('[', 100_000) + new string(']', 100_000);
        ModelFileException ex = LoadFails(WithManifestText("{\"format_version\": 1, \"labels\": " + deep + "}"));
        Assert.Contains("not valid JSON", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void NullableFields_AcceptNull()
    {
        ModelPackage back = ModelPackage.Load(new MemoryStream(Edited((m, _) =>
        {
            m["backbone"] = null;
            m["threshold"] = null;
            m["training_data"] = null;
        })));
        Assert.Null(back.Manifest.Backbone);
        Assert.Null(back.Manifest.Threshold);
    }

    private static JsonNode Find(JsonObject root, string path) => path == "$"
        ? root
        : path.EndsWith(']')
            ? root[path[2..path.IndexOf('[')]]![int.Parse(path[(path.IndexOf('[') + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)]!
            : root[path[2..]]!;

    // Sets the value at a simple JSON path ($.a.b[0].c), creating the last property.
    private static void Set(JsonObject root, string path, JsonNode? value)
    {
        JsonNode node = root;
        string[] parts = path[2..].Replace("[", ".[", StringComparison.Ordinal).Split('.');
        for (int i = 0; i < parts.Length; i++)
        {
            bool last = i == parts.Length - 1;
            if (parts[i].StartsWith('['))
            {
                int index = int.Parse(parts[i][1..^1], System.Globalization.CultureInfo.InvariantCulture);
                if (last)
                {
                    node.AsArray()[index] = value;
                }
                else
                {
                    node = node.AsArray()[index]!;
                }
            }
            else if (last)
            {
                node.AsObject()[parts[i]] = value;
            }
            else
            {
                node = node.AsObject()[parts[i]]!;
            }
        }
    }
}
