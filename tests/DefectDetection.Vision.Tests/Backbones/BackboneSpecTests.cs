using DefectDetection.Imaging.Processing;
using DefectDetection.Vision.Backbones;

namespace DefectDetection.Vision.Tests.Backbones;

/// <summary>A backbone as a value: where its bytes come from, its input layout (presets by hash) and its taps.</summary>
public sealed class BackboneSpecTests
{
    private static string MlNetResNet18Path()
    {
        string home = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(home, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.24.0", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
    }

    [Fact]
    public void MlNetResNet18IsRecognisedByItsHashAndGetsItsOwnLayout()
    {
        string path = MlNetResNet18Path();
        Assert.True(File.Exists(path), $"{path} is missing: restore the solution (tools/experiments/AnomalyDetection downloads it)");
        using OnnxBackbone backbone = new(BackboneSpec.FromFile(path), new OnnxBackboneOptions { Threads = 1 });
        Assert.Same(BackboneSpec.MlNetResNet18Layout, backbone.Layout);
        Assert.Equal(ChannelOrder.Bgr, backbone.Layout.ChannelOrder);

        // The preset says the same; an explicit layout wins over the recognised one.
        Assert.Same(BackboneSpec.MlNetResNet18Layout, BackboneSpec.MlNetResNet18(path).Layout);
        using OnnxBackbone imageNet = new(BackboneSpec.FromFile(path) with { Layout = TensorLayoutOptions.ImageNet }, new OnnxBackboneOptions { Threads = 1 });
        Assert.Same(TensorLayoutOptions.ImageNet, imageNet.Layout);
        Assert.NotEqual(backbone.Identity, imageNet.Identity);
    }

    [SharedFact]
    public void AnyOtherModelGetsTheImageNetLayout_AndTheSameFeaturesFromFileBytesOrStream()
    {
        byte[] bytes = File.ReadAllBytes(SharedData.MobileNetV2Qdq);
        using OnnxBackbone fromFile = new(BackboneSpec.FromFile(SharedData.MobileNetV2Qdq), new OnnxBackboneOptions { Threads = 1 });
        using OnnxBackbone fromBytes = new(BackboneSpec.FromBytes(bytes, "m.onnx"), new OnnxBackboneOptions { Threads = 1 });
        using var stream = new MemoryStream(bytes);
        using OnnxBackbone fromStream = new(BackboneSpec.FromStream(stream, "m.onnx"), new OnnxBackboneOptions { Threads = 1 });
        Assert.Same(TensorLayoutOptions.ImageNet, fromFile.Layout);
        Assert.Equal("mobilenetv2-int8-qdq.onnx", fromFile.Name);
        Assert.Equal(fromFile.Identity, fromBytes.Identity);
        Assert.Equal(fromFile.Identity, fromStream.Identity);
        using Imaging.Image image = SyntheticImages.Texture(3);
        Assert.Equal(fromFile.Run(image.View())[0].Data, fromStream.Run(image.View())[0].Data);
    }

    [Fact]
    public void BadSpecsAreRefusedNamingWhatIsWrong()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.onnx");
        FileNotFoundException e = Assert.Throws<FileNotFoundException>(() => new OnnxBackbone(BackboneSpec.FromFile(missing)));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Equal("Taps", Assert.Throws<ArgumentException>(() => new OnnxBackbone(BackboneSpec.FromFile(missing) with { Taps = ["a", "a"] })).ParamName);
        Assert.Equal("Taps", Assert.Throws<ArgumentException>(() => new OnnxBackbone(BackboneSpec.FromFile(missing) with { Taps = [""] })).ParamName);
        Assert.Equal("Backbone", Assert.Throws<ArgumentException>(() => new PatchCore.PatchCoreTrainer(new PatchCore.PatchCoreOptions())).ParamName);
    }
}
