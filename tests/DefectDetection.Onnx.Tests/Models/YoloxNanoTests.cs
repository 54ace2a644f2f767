using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>YOLOX-nano fp32: the raw output on the bear sample matches ONNX Runtime's within 1e-3 absolute or relative.</summary>
public sealed class YoloxNanoTests(ITestOutputHelper output)
{
    [SharedFact]
    public void MatchesOnnxRuntimeWithEveryRewriteSetting()
    {
        OnnxModel m = OnnxModel.Load(SharedData.PathOf("models", "yolox-nano", "yolox-nano.onnx"));
        float[] input = ModelData.ReadF32("models", "yolox-nano", "samples", "coco-000000000285.input.f32");
        float[] expected = ModelData.ReadF32("models", "yolox-nano", "samples", "coco-000000000285.output.f32");
        foreach (OnnxSessionOptions options in ModelData.RewriteVariants())
        {
            using var session = new OnnxSession(m, options);
            var result = session.Run(new Dictionary<string, OnnxTensor> { ["images"] = new OnnxTensor<float>(input, [1, 3, 416, 416]) });
            OnnxTensor t = result["output"];
            Assert.Equal([1, 3549, 85], t.Shape);
            float[] y = t.As<float>().ToArray();
            int bad = 0;
            float maxAbs = 0;
            for (int i = 0; i < y.Length; i++)
            {
                float d = MathF.Abs(y[i] - expected[i]);
                maxAbs = MathF.Max(maxAbs, d);
                if (d > 1e-3f && d > 1e-3f * MathF.Abs(expected[i]))
                {
                    bad++;
                }
            }

            output.WriteLine($"{ModelData.Describe(options)}: {bad} elements off, max abs diff {maxAbs}");
            Assert.Equal(0, bad);
        }
    }
}
