using DefectDetection.Imaging;
using DefectDetection.Onnx;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Roi;
using Xunit.Abstractions;

namespace DefectDetection.OnnxRuntime.Tests;

/// <summary>Float models: the managed engine and ONNX Runtime within 1e-4 of the reference tensor's largest magnitude.</summary>
public sealed class Fp32AgreementTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [SharedFact]
    public void YoloxNano_RawOutputAgrees_WithTheReferenceAndBetweenBackends()
    {
        string folder = SharedData.PathOf("models", "yolox-nano");
        OnnxModel model = OnnxModel.Load(Path.Combine(folder, "yolox-nano.onnx"));
        using IOnnxSession managed = OnnxBackends.Managed.CreateSession(model, new OnnxSessionOptions { IntraOpThreads = 2 });
        using IOnnxSession ort = new OnnxRuntimeBackend().CreateSession(model, new OnnxSessionOptions { IntraOpThreads = 2 });
        OnnxTensor<float> input = new(Agreement.ReadFloats(Path.Combine(folder, "samples", "coco-000000000285.input.f32")), [1, 3, 416, 416]);
        float[] reference = Agreement.ReadFloats(Path.Combine(folder, "samples", "coco-000000000285.output.f32"));
        float[] ours = Agreement.Run(managed, "images", input, "output"), theirs = Agreement.Run(ort, "images", input, "output");
        output.WriteLine($"YOLOX-nano relative error: managed {Agreement.RelativeError(ours, reference):G3}, ORT {Agreement.RelativeError(theirs, reference):G3}, between {Agreement.RelativeError(ours, theirs):G3}");
        Assert.True(Agreement.RelativeError(theirs, ours) <= Tolerance);
        Assert.True(Agreement.RelativeError(ours, reference) <= Tolerance);
    }

    [SharedTheory]
    [InlineData("coco-000000000285")]
    [InlineData("coco-000000000724")]
    [InlineData("coco-000000000785")]
    public void YoloxNano_Detector_FindsTheSameObjectsOnBothBackends(string sample)
    {
        string folder = SharedData.PathOf("models", "yolox-nano");
        string[] coco = ["person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear"];
        OnnxDetectorOptions options = new() { ClassNames = coco, Threads = 2 };
        using OnnxDetectorRoiDetector managed = new(Path.Combine(folder, "yolox-nano.onnx"), options);
        using OnnxDetectorRoiDetector ort = new(Path.Combine(folder, "yolox-nano.onnx"), new OnnxDetectorOptions { ClassNames = coco, Threads = 2, Backend = new OnnxRuntimeBackend() });
        using Image image = ImageCodecs.Load(Path.Combine(folder, "samples", sample + ".jpg"));
        IReadOnlyList<Detection> a = managed.DetectObjects(image.View()), b = ort.DetectObjects(image.View());
        Assert.NotEmpty(a);
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            output.WriteLine($"{sample}: {a[i]} | {b[i]}");
            Assert.Equal(a[i].ClassId, b[i].ClassId);
            Assert.Equal(a[i].Score, b[i].Score, 3);
        }
    }

    [Fact]
    public void MlNetResNet18_OutputsAndTappedStagesAgree()
    {
        string path = Agreement.MlNetResNet18Path();
        BackboneSpec spec = BackboneSpec.MlNetResNet18(path);
        using Image image = Image.Create(300, 240, PixelFormat.Rgb24);
        Random rng = new(7);
        rng.NextBytes(image.Pixels);

        // Every residual block's output (PatchCore taps two of them) and the tensor the global pooling reads.
        OnnxModel model = OnnxModel.Load(path);
        string[] taps = [.. model.Nodes.Where(n => n.OpType == "Add").Select(n => n.Outputs[0]), OnnxBackbone.FindDefaultLayer(model)];
        Assert.True(taps.Length >= 8);
        using OnnxBackbone managed = new(spec with { Taps = taps }, new OnnxBackboneOptions { Threads = 2 });
        using OnnxBackbone ort = new(spec with { Taps = taps }, new OnnxBackboneOptions { Threads = 2, Backend = new OnnxRuntimeBackend() });
        IReadOnlyList<OnnxTensor<float>> a = managed.Run(image.View()), b = ort.Run(image.View());
        for (int i = 0; i < taps.Length; i++)
        {
            double error = Agreement.RelativeError(b[i].Data, a[i].Data);
            output.WriteLine($"{taps[i]} [{string.Join(",", a[i].Shape)}]: relative error {error:G3}");
            Assert.Equal(a[i].Shape, b[i].Shape);
            Assert.True(error <= Tolerance, $"{taps[i]}: {error:G3}");
        }
    }
}
