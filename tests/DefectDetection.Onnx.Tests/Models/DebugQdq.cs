using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

public sealed class DebugQdq(ITestOutputHelper output)
{
    [SharedFact]
    public void Layers()
    {
        OnnxModel m = OnnxModel.Load(SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx"));
        float[] input = ModelData.ReadF32("models", "mobilenetv2-int8", "samples", "goldfish.input.f32");
        var names = m.Graph.Nodes.Where(n => n.OpType == "QuantizeLinear").Select(n => n.Outputs[0]).ToList();
        using var a = new InferenceSession(m, new SessionOptions { EnableQdqFusion = true, IntraOpThreads = 1, ExtraOutputs = names });
        using var b = new InferenceSession(m, new SessionOptions { EnableQdqFusion = false, IntraOpThreads = 1, ExtraOutputs = names });
        var ra = a.Run(new Dictionary<string, Tensor> { ["input"] = new DenseTensor<float>(input, [1, 3, 224, 224]) });
        var rb = b.Run(new Dictionary<string, Tensor> { ["input"] = new DenseTensor<float>(input, [1, 3, 224, 224]) });
        foreach (string n in names)
        {
            byte[] x = ra[n].As<byte>().ToArray(), y = rb[n].As<byte>().ToArray();
            int diff = 0, maxd = 0;
            for (int i = 0; i < x.Length; i++)
            {
                int d = Math.Abs(x[i] - y[i]);
                if (d != 0) diff++;
                maxd = Math.Max(maxd, d);
            }

            output.WriteLine($"{n}: {diff}/{x.Length} differ, max {maxd}");
        }
    }

    [SharedFact]
    public void Print()
    {
        OnnxModel m = OnnxModel.Load(SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx"));
        float step = MobileNetV2Int8Tests.QdqStep(m);
        float[] input = ModelData.ReadF32("models", "mobilenetv2-int8", "samples", "goldfish.input.f32");
        float[] expected = ModelData.ReadF32("models", "mobilenetv2-int8", "samples", "goldfish.mobilenetv2-int8-qdq.logits.f32");
        foreach (bool qdq in new[] { true, false })
        {
            using var s = new InferenceSession(m, new SessionOptions { EnableQdqFusion = qdq, IntraOpThreads = 1 });
            output.WriteLine(string.Join(", ", s.AppliedRewrites.Select(kv => kv.Key + "=" + kv.Value)));
            float[] y = s.Run(new Dictionary<string, Tensor> { ["input"] = new DenseTensor<float>(input, [1, 3, 224, 224]) })["output"].As<float>().ToArray();
            var hist = new SortedDictionary<int, int>();
            for (int i = 0; i < 1000; i++)
            {
                int d = (int)MathF.Round((y[i] - expected[i]) / step);
                hist[d] = hist.GetValueOrDefault(d) + 1;
            }

            output.WriteLine(string.Join(" ", hist.Select(kv => $"{kv.Key}:{kv.Value}")));
            output.WriteLine(string.Join(" ", Enumerable.Range(0, 10).Select(i => $"{y[i] / step:F1}/{expected[i] / step:F1}")));
        }
    }
}
