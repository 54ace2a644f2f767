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

    public static long Write(CaseBuilder c, string folder)
    {
        if (Directory.Exists(folder))
        {
            // Stale files (e.g. an earlier expected.json) must not survive a regeneration.
            foreach (string f in Directory.GetFiles(folder))
            {
                File.Delete(f);
            }
        }

        Directory.CreateDirectory(folder);
        byte[] model = c.Model.ToByteArray();
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), model);
        long total = model.Length;
        var inputs = new JsonArray();
        for (int i = 0; i < c.Inputs.Count; i++)
        {
            (string name, TensorData data) = c.Inputs[i];
            string file = $"input.{i}.bin";
            File.WriteAllBytes(Path.Combine(folder, file), data.Raw);
            total += data.Raw.Length;
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
        string json = doc.ToJsonString(Json) + "\n";
        File.WriteAllText(Path.Combine(folder, "case.json"), json);
        return total + json.Length;
    }
}
