using System.Runtime.InteropServices;
using System.Text.Json;
using DefectDetection.Testing;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>Reads the shared models' reference tensors (float32 little-endian) and reference.json.</summary>
internal static class ModelData
{
    public static float[] ReadF32(params string[] parts)
    {
        byte[] bytes = File.ReadAllBytes(SharedData.PathOf(parts));
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    public static int[] Top5(string sample, string model)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(SharedData.PathOf("models", "mobilenetv2-int8", "reference.json")));
        return doc.RootElement.GetProperty("samples").GetProperty(sample).GetProperty(model).GetProperty("top5").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    public static int[] TopK(ReadOnlySpan<float> logits, int k)
    {
        int[] idx = Enumerable.Range(0, logits.Length).ToArray();
        float[] copy = logits.ToArray();
        Array.Sort(idx, (a, b) => copy[b] != copy[a] ? copy[b].CompareTo(copy[a]) : a.CompareTo(b));
        return idx[..k];
    }

    public static IEnumerable<OnnxSessionOptions> RewriteVariants(int threads = 2)
    {
        yield return new OnnxSessionOptions { IntraOpThreads = threads };
        yield return new OnnxSessionOptions { IntraOpThreads = threads, EnableConstantFolding = false };
        yield return new OnnxSessionOptions { IntraOpThreads = threads, EnableConvBatchNormFusion = false };
        yield return new OnnxSessionOptions { IntraOpThreads = threads, EnableActivationFusion = false };
        yield return new OnnxSessionOptions { IntraOpThreads = threads, EnableQdqFusion = false };
    }

    public static string Describe(OnnxSessionOptions o)
        => $"folding={o.EnableConstantFolding} bn={o.EnableConvBatchNormFusion} act={o.EnableActivationFusion} qdq={o.EnableQdqFusion}";
}
