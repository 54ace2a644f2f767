using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DefectDetection.ModelFiles;

namespace DefectDetection.Core.Tests.ModelFiles;

/// <summary>Builds model files in memory, valid or deliberately broken, for the hostile-input tests.</summary>
internal static class ModelFileBuilder
{
    public static ModelPackage Small(float[]? weights = null) => new(
        new ModelManifest
        {
            Task = "classification",
            Labels = ["normal", "anomaly"],
            Preprocessing = new PreprocessingInfo { Width = 8, Height = 8, Mean = [0.5f], Std = [0.25f] },
            Backbone = new BackboneInfo { Name = "tiny", TappedLayers = ["layer1"] },
            Learner = DefectDetection.Models.Learners.ImageClassifier,
            ImageClassifier = new ImageClassifierSection { Extractor = "gradient-histogram", ExtractorIdentity = "test", FeatureLength = 3, NormalLabels = ["normal"], WeightFree = new WeightFreeExtractorInfo { Size = 8, Grid = 1, Bins = 3, Scales = 1 } },
            CreatedUtc = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
        },
        new Dictionary<string, ModelTensor>
        {
            ["head/weights"] = new([2, 3], weights ?? [1f, 2f, 3f, 4f, 5f, 6f]),
            ["head/bias"] = new([2], [0.5f, -0.5f]),
        });

    public static byte[] Bytes(ModelPackage package)
    {
        using MemoryStream ms = new();
        package.Save(ms);
        return ms.ToArray();
    }

    /// <summary>The entries of a model file, in order.</summary>
    public static List<(string Name, byte[] Bytes)> Entries(byte[] file)
    {
        using ZipArchive zip = new(new MemoryStream(file), ZipArchiveMode.Read);
        List<(string, byte[])> entries = [];
        foreach (ZipArchiveEntry e in zip.Entries)
        {
            using Stream s = e.Open();
            using MemoryStream ms = new();
            s.CopyTo(ms);
            entries.Add((e.FullName, ms.ToArray()));
        }

        return entries;
    }

    public static byte[] Zip(IEnumerable<(string Name, byte[] Bytes)> entries, CompressionLevel level = CompressionLevel.Optimal)
    {
        using MemoryStream ms = new();
        using (ZipArchive zip = new(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] bytes) in entries)
            {
                using Stream s = zip.CreateEntry(name, level).Open();
                s.Write(bytes);
            }
        }

        return ms.ToArray();
    }

    /// <summary>A valid small model file whose manifest JSON and entries are first changed by <paramref name="edit"/>.</summary>
    public static byte[] Edited(Action<JsonObject, Dictionary<string, byte[]>> edit, bool rehash = false)
    {
        List<(string Name, byte[] Bytes)> entries = Entries(Bytes(Small()));
        JsonObject manifest = JsonNode.Parse(entries.Single(e => e.Name == "manifest.json").Bytes)!.AsObject();
        Dictionary<string, byte[]> rest = entries.Where(e => e.Name != "manifest.json").ToDictionary(e => e.Name, e => e.Bytes);
        edit(manifest, rest);
        if (rehash)
        {
            foreach (JsonNode? entry in manifest["entries"]!.AsArray())
            {
                string name = "tensors/" + entry!["name"]!.GetValue<string>() + ".f32";
                entry["sha256"] = Convert.ToHexStringLower(SHA256.HashData(rest[name]));
            }
        }

        return Zip([("manifest.json", Encoding.UTF8.GetBytes(manifest.ToJsonString())), .. rest.Select(kv => (kv.Key, kv.Value))]);
    }

    /// <summary>A valid small model file whose manifest text is replaced.</summary>
    public static byte[] WithManifestText(string json) => ZipWithManifest(Encoding.UTF8.GetBytes(json));

    /// <summary>A valid small model file whose manifest bytes are replaced.</summary>
    public static byte[] ZipWithManifest(byte[] manifest) =>
        Zip([("manifest.json", manifest), .. Entries(Bytes(Small())).Where(e => e.Name != "manifest.json")]);

    public static ModelFileException LoadFails(byte[] file, ModelLoadOptions? options = null) =>
        Assert.Throws<ModelFileException>(() => ModelPackage.Load(new MemoryStream(file), options, "bad.ddmodel"));
}
