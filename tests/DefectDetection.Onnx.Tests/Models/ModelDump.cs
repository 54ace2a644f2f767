using DefectDetection.Onnx.Graph;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

public sealed class ModelDump(ITestOutputHelper output)
{
    [SharedTheory]
    [InlineData("mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx")]
    [InlineData("mobilenetv2-int8", "mobilenetv2-int8-dynamic.onnx")]
    [InlineData("yolox-nano", "yolox-nano.onnx")]
    public void Dump(string folder, string file)
    {
        OnnxModel model = OnnxModel.Load(SharedData.PathOf("models", folder, file));
        output.WriteLine(string.Join(", ", model.OperatorCounts.Select(kv => $"{kv.Key}={kv.Value}")));
        output.WriteLine("unsupported: " + string.Join("; ", model.UnsupportedOperators));
        int i = 0;
        foreach (GraphNode n in model.Graph.Nodes)
        {
            if (i++ < 25 || i > model.Graph.Nodes.Count - 25)
            {
                output.WriteLine($"{n.OpType} {n.Name}: [{string.Join(",", n.Inputs)}] -> [{string.Join(",", n.Outputs)}] {string.Join(" ", n.Attributes.Values.Select(a => a.Name + "=" + (a.Kind == AttributeKind.Ints ? string.Join("/", a.Ints) : a.Kind == AttributeKind.Int ? a.Int.ToString() : a.Kind == AttributeKind.Float ? a.Float.ToString() : a.Kind == AttributeKind.String ? a.String : a.Kind.ToString())))}");
            }
        }

        foreach (var kv in model.Graph.Initializers.Take(12))
        {
            output.WriteLine($"init {kv.Key} {kv.Value.ElementType} [{string.Join(",", kv.Value.Shape)}] {(kv.Value.Length == 1 ? kv.Value is DenseTensor<float> f ? f.Data[0].ToString() : "" : "")}");
        }
    }
}
