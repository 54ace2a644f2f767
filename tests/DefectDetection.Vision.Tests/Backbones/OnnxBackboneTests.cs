using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Onnx;
using DefectDetection.Testing;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Features;

namespace DefectDetection.Vision.Tests.Backbones;

/// <summary>OnnxBackbone and OnnxFeatureExtractor on the shared MobileNetV2-int8 model.</summary>
public sealed class OnnxBackboneTests
{
    private static string ModelPath => SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");

    private static string Sample(string name) => SharedData.PathOf("models", "mobilenetv2-int8", "samples", name + ".jpg");

    [Fact]
    public void ErrorsAboutABackboneFileNameTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"backbone-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, [0x08, 0x08, 0x3A, 0x00, 0x42, 0x02, 0x10, 0x11]);
        try
        {
            // ir_version 8, an empty graph and opset 17 (protobuf fields 1, 7 and 8): a model without an input.
            OnnxModelException fromFile = Assert.Throws<OnnxModelException>(() => new OnnxBackbone(BackboneSpec.FromFile(path)));
            Assert.Equal($"Model file '{path}': The model has no input.", fromFile.Message);
            OnnxModelException fromBytes = Assert.Throws<OnnxModelException>(() => new OnnxBackbone(BackboneSpec.FromBytes(File.ReadAllBytes(path), "b.onnx")));
            Assert.Equal("The model has no input.", fromBytes.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [SharedFact]
    public void TheDefaultTapIsTheLastSpatialMapBeforeGlobalPooling()
    {
        using OnnxBackbone backbone = new(BackboneSpec.FromFile(ModelPath), new OnnxBackboneOptions { Threads = 1 });
        FeatureMapShape shape = Assert.Single(backbone.LayerShapes);
        // MobileNetV2 ends with a 1280-channel 7x7 map at 224x224 input (torchvision's architecture).
        Assert.Equal((1280, 7, 7), (shape.Channels, shape.Height, shape.Width));
        Assert.Equal(backbone.Layers[0], OnnxBackbone.FindDefaultLayer(OnnxModel.Load(ModelPath)));
        Assert.Equal(64, backbone.Sha256.Length);
    }

    [SharedFact]
    public void TappingTheLogitsReproducesTheReferenceTop1Classes()
    {
        // The shared reference (ONNX Runtime) gives the top-5 classes per sample with the ImageNet preprocessing.
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(SharedData.PathOf("models", "mobilenetv2-int8", "reference.json")));
        string[] names = ["goldfish", "macaw", "tabby_cat", "samoyed"];
        using OnnxBackbone backbone = new(BackboneSpec.FromFile(ModelPath) with { Taps = ["output"] }, new OnnxBackboneOptions { BatchSize = 3, Threads = 1 });
        List<Image> images = names.Select(n => ImageCodecs.Load(Sample(n))).ToList();
        try
        {
            OnnxTensor<float> logits = Assert.Single(backbone.Run(images.Select(i => (ImageView)i).ToList()));
            Assert.Equal([4, 1000, 1, 1], logits.Shape);
            for (int n = 0; n < names.Length; n++)
            {
                float[] row = logits.Data.AsSpan(n * 1000, 1000).ToArray();
                int top1 = Array.IndexOf(row, row.Max());
                int expected = reference.RootElement.GetProperty("samples").GetProperty(names[n]).GetProperty("mobilenetv2-int8-qdq").GetProperty("top5")[0].GetInt32();
                Assert.Equal(expected, top1);
            }
        }
        finally
        {
            images.ForEach(i => i.Dispose());
        }
    }

    [SharedFact]
    public void BatchedMapsEqualSingleImageMapsAndPooledFeaturesAreChannelMeans()
    {
        using OnnxBackbone backbone = new(BackboneSpec.FromFile(ModelPath), new OnnxBackboneOptions { BatchSize = 2, Threads = 1 });
        using OnnxFeatureExtractor extractor = new(backbone);
        using Image a = ImageCodecs.Load(Sample("macaw")), b = ImageCodecs.Load(Sample("samoyed"));
        ImageView[] views = [a, b, a.View().Slice(new Rectangle(10, 20, 150, 120))];
        OnnxTensor<float> batched = Assert.Single(backbone.Run(views));
        float[][] pooled = extractor.ExtractBatch(views);
        int per = 1280 * 49;
        for (int n = 0; n < views.Length; n++)
        {
            OnnxTensor<float> single = Assert.Single(backbone.Run(views[n]));
            Assert.Equal(single.Data, batched.Data.AsSpan(n * per, per).ToArray());
            for (int c = 0; c < 1280; c++)
            {
                double sum = 0;
                for (int k = 0; k < 49; k++)
                {
                    sum += single.Data[(c * 49) + k];
                }

                Assert.Equal(sum / 49, pooled[n][c], 1e-4);
            }
        }

        Assert.Equal(pooled[1], extractor.Extract(b));

        // The input buffer is reused between runs of one batch size: earlier results stay as they were, and runs from
        // several threads at once give each image's own maps.
        OnnxTensor<float> first = Assert.Single(backbone.Run(views[0]));
        float[] copy = first.Data.ToArray();
        _ = backbone.Run(views[1]);
        Assert.Equal(copy, first.Data);
        float[][] parallel = new float[12][];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = Assert.Single(backbone.Run(views[i % 3])).Data);
        for (int i = 0; i < parallel.Length; i++)
        {
            Assert.Equal(batched.Data.AsSpan((i % 3) * per, per).ToArray(), parallel[i]);
        }
    }

    [SharedFact]
    public void TwoTapsAreConcatenatedAndUnknownOrNonFloatTapsFail()
    {
        string last = OnnxBackbone.FindDefaultLayer(OnnxModel.Load(ModelPath));
        using OnnxBackbone two = new(BackboneSpec.FromFile(ModelPath) with { Taps = [last, "output"] }, new OnnxBackboneOptions { Threads = 1 });
        using OnnxFeatureExtractor extractor = new(two);
        Assert.Equal(1280 + 1000, extractor.FeatureLength);
        Assert.Contains(last, extractor.Identity, StringComparison.Ordinal);

        OnnxModelException missing = Assert.Throws<OnnxModelException>(() => new OnnxBackbone(BackboneSpec.FromFile(ModelPath) with { Taps = ["no_such_tensor"] }));
        Assert.Contains("no_such_tensor", missing.Message, StringComparison.Ordinal);
        Assert.StartsWith($"Model file '{ModelPath}': ", missing.Message, StringComparison.Ordinal);
        Assert.Equal(ModelPath, missing.ModelPath);

        // The QuantizeLinear output feeding that DequantizeLinear is a uint8 tensor.
        string? quantized = OnnxModel.Load(ModelPath).NodeOutputNames.LastOrDefault(n => n.EndsWith("_QuantizeLinear_Output", StringComparison.Ordinal));
        if (quantized is not null)
        {
            Assert.Throws<OnnxModelException>(() => new OnnxBackbone(BackboneSpec.FromFile(ModelPath) with { Taps = [quantized] }));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxBackbone(BackboneSpec.FromFile(ModelPath), new OnnxBackboneOptions { BatchSize = 0 }));
    }
}
