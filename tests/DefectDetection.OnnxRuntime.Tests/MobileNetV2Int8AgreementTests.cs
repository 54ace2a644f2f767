using DefectDetection.Onnx;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace DefectDetection.OnnxRuntime.Tests;

/// <summary>
/// MobileNetV2-int8 (QDQ) on the four reference inputs of ../shared: the managed engine against the reference logits
/// (ONNX Runtime 1.30 on an AVX-512 VNNI CPU) and against ONNX Runtime 1.32 run here, with its int8 kernels and with
/// its graph optimisations off (Quantize/DequantizeLinear around float operators).
/// </summary>
public sealed class MobileNetV2Int8AgreementTests(ITestOutputHelper output)
{
    private static readonly string[] Samples = ["goldfish", "macaw", "tabby_cat", "samoyed"];

    private static string Folder => SharedData.PathOf("models", "mobilenetv2-int8");

    [SharedFact]
    public void Managed_IsExact_OrtKeepsTheVerdicts_AndTheDeviationIsRecorded()
    {
        OnnxModel model = OnnxModel.Load(Path.Combine(Folder, "mobilenetv2-int8-qdq.onnx"));
        OnnxSessionOptions two = new() { IntraOpThreads = 2 };
        using IOnnxSession managed = OnnxBackends.Managed.CreateSession(model, two);
        using IOnnxSession ortInt8 = new OnnxRuntimeBackend().CreateSession(model, two);
        using IOnnxSession ortFloat = new OnnxRuntimeBackend(new OnnxRuntimeBackendOptions { OptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL }).CreateSession(model, two);
        double step = LogitStep();
        output.WriteLine($"ONNX Runtime {OnnxRuntimeBackend.RuntimeVersion}; logit quantisation step {step:G6}");
        output.WriteLine("| image | managed vs reference | ORT int8 kernels vs reference | ORT float (no optimisation) vs reference | top-1 ref/managed/ORT int8/ORT float |");
        foreach (string name in Samples)
        {
            float[] input = Agreement.ReadFloats(Path.Combine(Folder, "samples", $"{name}.input.f32"));
            float[] reference = Agreement.ReadFloats(Path.Combine(Folder, "samples", $"{name}.mobilenetv2-int8-qdq.logits.f32"));
            OnnxTensor<float> tensor = new(input, [1, 3, 224, 224]);
            float[] ours = Agreement.Run(managed, "input", tensor, "output");
            float[] int8 = Agreement.Run(ortInt8, "input", tensor, "output");
            float[] fp = Agreement.Run(ortFloat, "input", tensor, "output");
            double dOurs = Agreement.MaxAbsDifference(ours, reference), dInt8 = Agreement.MaxAbsDifference(int8, reference), dFloat = Agreement.MaxAbsDifference(fp, reference);
            output.WriteLine($"| {name} | {dOurs:G4} | {dInt8:G4} ({dInt8 / step:F1} steps) | {dFloat:G4} ({dFloat / step:F1} steps) | {Agreement.ArgMax(reference)}/{Agreement.ArgMax(ours)}/{Agreement.ArgMax(int8)}/{Agreement.ArgMax(fp)} |");

            Assert.Equal(reference, ours);                                   // exact, bit for bit
            Assert.Equal(Agreement.ArgMax(ours), Agreement.ArgMax(int8));     // the same verdict with ORT's int8 kernels
            Assert.Equal(Agreement.ArgMax(ours), Agreement.ArgMax(fp));       // and with ORT in float
        }
    }

    [SharedFact]
    public void QuantisedTensors_FloatOrtAgreesWithinTwoStepsWhereRoundingHasNotCompounded()
    {
        // Every DequantizeLinear output is a quantised tensor: its step is the smallest gap between its values. One-step
        // rounding differences (a float accumulation order, or ORT's saturating AVX2 int8 products) compound layer
        // after layer, so the agreement is checked on the first stage and the deviation of every tap is reported.
        OnnxModel model = OnnxModel.Load(Path.Combine(Folder, "mobilenetv2-int8-qdq.onnx"));
        string[] taps = [.. model.Nodes.Where(n => n.OpType == "DequantizeLinear" && model.NodeOutputNames.Contains(n.Outputs[0]) && !n.Inputs[0].Contains("weight", StringComparison.OrdinalIgnoreCase) && n.Inputs[0].Contains("QuantizeLinear", StringComparison.Ordinal)).Select(n => n.Outputs[0])];
        OnnxSessionOptions options = new() { IntraOpThreads = 2, ExtraOutputs = taps };
        using IOnnxSession managed = OnnxBackends.Managed.CreateSession(model, options);
        using IOnnxSession ortInt8 = new OnnxRuntimeBackend().CreateSession(model, options);
        using IOnnxSession ortFloat = new OnnxRuntimeBackend(new OnnxRuntimeBackendOptions { OptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL }).CreateSession(model, options);
        OnnxTensor<float> input = new(Agreement.ReadFloats(Path.Combine(Folder, "samples", "goldfish.input.f32")), [1, 3, 224, 224]);
        var inputs = new Dictionary<string, OnnxTensor> { ["input"] = input };
        IReadOnlyDictionary<string, OnnxTensor> a = managed.Run(inputs, taps), b = ortInt8.Run(inputs, taps), c = ortFloat.Run(inputs, taps);
        output.WriteLine("| tap | step | ORT int8 kernels (steps) | ORT float (steps) |");
        double worstEarly = 0;
        for (int i = 0; i < taps.Length; i++)
        {
            float[] ours = a[taps[i]].As<float>().Data;
            double step = Step(ours);
            double dInt8 = Agreement.MaxAbsDifference(b[taps[i]].As<float>().Data, ours) / step, dFloat = Agreement.MaxAbsDifference(c[taps[i]].As<float>().Data, ours) / step;
            output.WriteLine($"| {i}: {taps[i]} | {step:G4} | {dInt8:F1} | {dFloat:F1} |");
            if (i < 3)
            {
                worstEarly = Math.Max(worstEarly, dFloat);
            }
        }

        // ORT in float agrees with the exact integer arithmetic within two steps before the rounding compounds; ORT's
        // own int8 kernels do not even at the first convolution on this AVX2 CPU (its u8 x s8 products saturate).
        Assert.True(worstEarly <= 2.001, $"ORT (float) differs by {worstEarly:F2} steps in the first stage");

        Assert.True(taps.Length > 10);
    }

    [SharedFact]
    public void Batch16_AgreesImageByImage()
    {
        OnnxModel model = OnnxModel.Load(Path.Combine(Folder, "mobilenetv2-int8-qdq.onnx"));
        using IOnnxSession managed = OnnxBackends.Managed.CreateSession(model, new OnnxSessionOptions { IntraOpThreads = 2 });
        using IOnnxSession ort = new OnnxRuntimeBackend(new OnnxRuntimeBackendOptions { OptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL }).CreateSession(model, new OnnxSessionOptions { IntraOpThreads = 2 });
        float[] batch = new float[16 * 3 * 224 * 224];
        for (int i = 0; i < 16; i++)
        {
            Agreement.ReadFloats(Path.Combine(Folder, "samples", $"{Samples[i % 4]}.input.f32")).CopyTo(batch, i * 3 * 224 * 224);
        }

        OnnxTensor<float> tensor = new(batch, [16, 3, 224, 224]);
        float[] ours = Agreement.Run(managed, "input", tensor, "output"), theirs = Agreement.Run(ort, "input", tensor, "output");
        for (int i = 0; i < 16; i++)
        {
            float[] reference = Agreement.ReadFloats(Path.Combine(Folder, "samples", $"{Samples[i % 4]}.mobilenetv2-int8-qdq.logits.f32"));
            Assert.Equal(reference, ours.AsSpan(i * 1000, 1000).ToArray());
            Assert.Equal(Agreement.ArgMax(ours.AsSpan(i * 1000, 1000)), Agreement.ArgMax(theirs.AsSpan(i * 1000, 1000)));
        }
    }

    /// <summary>
    /// The logits' quantisation step: the smallest gap between distinct reference logits (the output is dequantised
    /// from int8, so every logit is a multiple of one scale away from the zero point).
    /// </summary>
    private static double Step(float[] values)
    {
        float[] sorted = [.. values.Distinct().Order()];
        double step = double.MaxValue;
        for (int i = 1; i < sorted.Length; i++)
        {
            step = Math.Min(step, sorted[i] - sorted[i - 1]);
        }

        return step == double.MaxValue ? 1 : step;
    }

    private static double LogitStep()
    {
        SortedSet<float> values = [];
        foreach (string name in Samples)
        {
            values.UnionWith(Agreement.ReadFloats(Path.Combine(Folder, "samples", $"{name}.mobilenetv2-int8-qdq.logits.f32")));
        }

        float[] sorted = [.. values];
        double step = double.MaxValue;
        for (int i = 1; i < sorted.Length; i++)
        {
            step = Math.Min(step, sorted[i] - sorted[i - 1]);
        }

        return step;
    }
}
