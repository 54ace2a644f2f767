using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DefectDetection.ModelFiles;

namespace DefectDetection.Fuzzing;

/// <summary><see cref="ModelPackage.Load(Stream, ModelLoadOptions?, string?)"/> on bytes; documents <see cref="ModelFileException"/>.</summary>
internal sealed class ModelFileTarget : FuzzTarget
{
    public override string Name => "modelfile";

    public override InputKind Kind => InputKind.Zip;

    public override IReadOnlyList<byte[]> Seeds()
    {
        ModelManifest manifest = new()
        {
            Task = "anomaly",
            Labels = ["normal", "anomaly"],
            Preprocessing = new PreprocessingInfo { Width = 4, Height = 4, Mean = [0.5f], Std = [0.25f] },
            Backbone = new BackboneInfo { Name = "tiny", TappedLayers = ["a"] },
            Threshold = 0.5,
            TrainingData = new TrainingDataSummary { ImageCount = 2, PerLabel = new Dictionary<string, int> { ["normal"] = 2 } },
            Metrics = new Dictionary<string, double> { ["accuracy"] = 1 },
            Learner = DefectDetection.Models.Learners.VariationModel,
            Variation = new VariationSection { AbsoluteBright = 20, AbsoluteDark = 20, RelativeBright = 1, RelativeDark = 1, MaxShift = 1, MapSigma = 1, MinRegionArea = 4 },
            CreatedUtc = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
        };
        return
        [
            Save(new ModelPackage(manifest, new Dictionary<string, ModelTensor>
            {
                ["mean"] = new([2, 3], [1f, 2f, 3f, 4f, 5f, 6f]),
                ["spread"] = new([2, 3], [0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f]),
                ["empty"] = new([0], []),
            })),
            Save(new ModelPackage(new ModelManifest { CreatedUtc = manifest.CreatedUtc }, new Dictionary<string, ModelTensor>(), Encoding.UTF8.GetBytes("onnx"))),
            Save(new ModelPackage(new ModelManifest { CreatedUtc = manifest.CreatedUtc }, new Dictionary<string, ModelTensor> { ["x/y"] = new([1, 2, 2], [0f, -1f, 1e-30f, 3e38f]) })),
        ];
    }

    public override void Run(byte[] input) => ModelPackage.Load(new MemoryStream(input, writable: false), null, "fuzz.ddmodel");

    public override bool IsDocumented(Exception e) => e is ModelFileException;

    // Recomputes the manifest's hashes (and sometimes shapes) so that mutated tensors reach the checks after the hash.
    public override void Repair(List<(string Name, byte[] Bytes)> entries, Random random)
    {
        int m = entries.FindIndex(e => e.Name == "manifest.json");
        JsonNode? manifest;
        try
        {
            manifest = m >= 0 ? JsonNode.Parse(entries[m].Bytes) : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return;
        }

        if (manifest?["entries"] is not JsonArray list)
        {
            return;
        }

        foreach (JsonNode? node in list)
        {
            if (node is JsonObject o && o["name"] is JsonValue v && v.TryGetValue(out string? name)
                && entries.FirstOrDefault(e => e.Name == $"tensors/{name}.f32").Bytes is { } bytes)
            {
                o["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
                if (random.Next(4) == 0)
                {
                    o["shape"] = new JsonArray(bytes.Length / 4);
                }
            }
        }

        if (manifest["backbone"] is JsonObject b && entries.FirstOrDefault(e => e.Name == "backbone.onnx").Bytes is { } onnx)
        {
            b["sha256"] = Convert.ToHexStringLower(SHA256.HashData(onnx));
        }

        entries[m] = ("manifest.json", Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    private static byte[] Save(ModelPackage package)
    {
        using MemoryStream ms = new();
        package.Save(ms);
        return ms.ToArray();
    }
}
