using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;

namespace OnnxConformance;

/// <summary>One fixture case: its folder name, opset and the code that builds its graph.</summary>
internal sealed record CaseDef(string Name, int Opset, Action<CaseBuilder> Build);

/// <summary>Writes a built case as model.onnx, input.N.bin and case.json.</summary>
internal static class CaseWriter
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static CaseBuilder Build(CaseDef def)
    {
        var builder = new CaseBuilder(def.Name, def.Opset, Rng.ForName(def.Name));
        def.Build(builder);
        return builder;
    }

    /// <summary>
    /// Writes the case. When the folder already holds exactly these files the expected outputs are kept; otherwise the
    /// folder is cleared first, so that outputs computed for other inputs never survive a change.
    /// </summary>
    public static long Write(CaseBuilder c, string folder)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal) { ["model.onnx"] = c.Model.ToByteArray() };
        var inputs = new JsonArray();
        for (int i = 0; i < c.Inputs.Count; i++)
        {
            (string name, TensorData data) = c.Inputs[i];
            string file = $"input.{i}.bin";
            files[file] = data.Raw;
            inputs.Add(new JsonObject
            {
                ["name"] = name,
                ["type"] = TensorData.TypeName(data.Type),
                ["shape"] = new JsonArray(data.Shape.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
                ["file"] = file,
            });
        }

        var doc = new JsonObject
        {
            ["name"] = c.Name,
            ["description"] = c.Description,
            ["opset"] = c.Opset,
            ["operators"] = new JsonArray(c.Model.Graph.Node.Select(n => n.OpType).Distinct().Order(StringComparer.Ordinal)
                .Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
            ["inputs"] = inputs,
            ["tolerance"] = new JsonObject
            {
                ["abs"] = c.Tolerance.Abs,
                ["rel"] = c.Tolerance.Rel,
                ["steps"] = c.Tolerance.Steps,
            },
        };
        files["case.json"] = System.Text.Encoding.UTF8.GetBytes(doc.ToJsonString(Json) + "\n");
        long total = files.Values.Sum(b => (long)b.Length);

        bool unchanged = Directory.Exists(folder) && files.All(kv =>
        {
            string path = Path.Combine(folder, kv.Key);
            return File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(kv.Value);
        }) && Directory.GetFiles(folder, "input.*.bin").Length == c.Inputs.Count;
        if (unchanged)
        {
            return total;
        }

        if (Directory.Exists(folder))
        {
            foreach (string f in Directory.GetFiles(folder))
            {
                File.Delete(f);
            }
        }

        Directory.CreateDirectory(folder);
        foreach ((string name, byte[] bytes) in files)
        {
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }

        return total;
    }
}
