using DefectDetection.Imaging.Processing;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.Tests.Backbones;

/// <summary>Taps chosen automatically for a backbone nobody named tensors for: its stage outputs at strides 8 and 16.</summary>
public sealed class StageTapTests
{
    [SharedFact]
    public void MobileNetV2GetsTheTapsItsPresetNames()
    {
        string[] taps = OnnxBackbone.StageTaps(File.ReadAllBytes(SharedData.MobileNetV2Qdq), TensorLayoutOptions.ImageNet, null);
        // Its stage outputs at stride 8 (28x28x32) and 16 (14x14x96) at 224 input, after the Q->DQ pair.
        Assert.Equal(["/features/features.6/Add_output_0_DequantizeLinear_Output", "/features/features.13/Add_output_0_DequantizeLinear_Output"], taps);
    }

    [Fact]
    public void MlNetResNet18GetsLayer2AndLayer3()
    {
        // ML.NET's ImageNet ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18): restoring the solution downloads it
        // for tools/experiments/AnomalyDetection.
        string home = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(home, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.24.0", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        Assert.True(File.Exists(path), $"{path} is missing: restore the solution (tools/experiments/AnomalyDetection downloads it)");
        Assert.Equal(["ReLU315_Output_0", "ReLU347_Output_0"], OnnxBackbone.StageTaps(File.ReadAllBytes(path), BackboneSpec.MlNetResNet18Layout, null));
    }
}
