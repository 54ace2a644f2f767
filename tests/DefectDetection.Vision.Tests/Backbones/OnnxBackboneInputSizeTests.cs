using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;
using DefectDetection.Onnx;
using DefectDetection.Testing;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Features;

namespace DefectDetection.Vision.Tests.Backbones;

/// <summary>Running the MobileNetV2 backbone (exported at 224x224) at other input sizes, and batched crop classification.</summary>
public sealed class OnnxBackboneInputSizeTests
{
    private static string ModelPath => SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");

    private static TensorLayoutOptions Layout(int side) => new()
    {
        Width = side,
        Height = side,
        Mean = TensorLayoutOptions.ImageNet.Mean,
        Std = TensorLayoutOptions.ImageNet.Std,
    };

    [SharedFact]
    public void RelaxingTheInputChangesOnlyItsSpatialDimensions()
    {
        byte[] bytes = File.ReadAllBytes(ModelPath);
        OnnxModel original = OnnxModel.Load(bytes);
        byte[]? relaxedBytes = OnnxInputShapeRewriter.RelaxSpatialDimensions(bytes, "input");
        Assert.NotNull(relaxedBytes);
        OnnxModel relaxed = OnnxModel.Load(relaxedBytes);

        IReadOnlyList<Dimension> before = Assert.Single(original.Inputs).Shape, after = Assert.Single(relaxed.Inputs).Shape;
        Assert.Equal(224, before[2].Value);
        Assert.Equal(224, before[3].Value);
        Assert.Equal(before[0], after[0]);
        Assert.Equal(before[1], after[1]);
        Assert.Equal(new Dimension(null, "height"), after[2]);
        Assert.Equal(new Dimension(null, "width"), after[3]);
        Assert.Equal(original.OperatorCounts, relaxed.OperatorCounts);
        Assert.Equal(original.NodeOutputNames, relaxed.NodeOutputNames);
        Assert.Equal(original.Outputs.Select(o => $"{o.Name} {o.ElementType} {string.Join(',', o.Shape)}"), relaxed.Outputs.Select(o => $"{o.Name} {o.ElementType} {string.Join(',', o.Shape)}"));
        Assert.Null(OnnxInputShapeRewriter.RelaxSpatialDimensions(bytes, "no-such-input"));

        // At the exported size the relaxed model computes exactly what the original does.
        Random rng = new(3);
        float[] data = [.. Enumerable.Range(0, 2 * 3 * 224 * 224).Select(_ => (float)((rng.NextDouble() * 4) - 2))];
        using OnnxSession a = new(original, new OnnxSessionOptions { IntraOpThreads = 1 });
        using OnnxSession b = new(relaxed, new OnnxSessionOptions { IntraOpThreads = 1 });
        float[] la = a.Run(new Dictionary<string, OnnxTensor> { ["input"] = new OnnxTensor<float>(data, [2, 3, 224, 224]) })["output"].As<float>().ToArray();
        float[] lb = b.Run(new Dictionary<string, OnnxTensor> { ["input"] = new OnnxTensor<float>(data, [2, 3, 224, 224]) })["output"].As<float>().ToArray();
        Assert.Equal(la, lb);
    }

    [SharedTheory]
    [InlineData(64, 2)]
    [InlineData(96, 3)]
    [InlineData(224, 7)]
    public void TheBackboneRunsAtTheLayoutSizeAndTapsTheMapBeforePooling(int side, int mapSide)
    {
        using OnnxBackbone backbone = new(BackboneSpec.FromFile(ModelPath) with { Layout = Layout(side) }, new OnnxBackboneOptions { Threads = 1 });
        FeatureMapShape shape = Assert.Single(backbone.LayerShapes);
        Assert.Equal((1280, mapSide, mapSide), (shape.Channels, shape.Height, shape.Width));
        using Image image = Image.Create(side, side, PixelFormat.Rgb24);
        new Random(5).NextBytes(image.Pixels);
        OnnxTensor<float> map = Assert.Single(backbone.Run([image.View(), image.View()]));
        Assert.Equal([2, 1280, mapSide, mapSide], map.Shape);
        Assert.All(map.Data, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(map.Data.AsSpan(0, map.Data.Length / 2).ToArray(), map.Data.AsSpan(map.Data.Length / 2).ToArray());
    }

    [SharedFact]
    public void BatchedCropClassificationEqualsCropByCropFeaturesThroughTheHead()
    {
        using OnnxBackbone backbone = new(BackboneSpec.FromFile(ModelPath) with { Layout = Layout(64) }, new OnnxBackboneOptions { Threads = 1, BatchSize = 4 });
        using OnnxFeatureExtractor extractor = new(backbone);
        Random rng = new(9);
        int f = extractor.FeatureLength;
        SoftmaxClassifierModel head = SoftmaxClassifierModel.FromTensors(["normal", "defect"], new Dictionary<string, ModelTensor>
        {
            ["head/weights"] = new([2, f], [.. Enumerable.Range(0, 2 * f).Select(_ => (float)(rng.NextDouble() - 0.5))]),
            ["head/bias"] = new([2], [0f, 0f]),
            ["head/feature_mean"] = new([f], new float[f]),
            ["head/feature_scale"] = new([f], [.. Enumerable.Repeat(1f, f)]),
            ["head/temperature"] = new([1], [1f]),
        });
        FeatureCropClassifier classifier = new(extractor, head, ["normal"], new Pipeline.CropSize(64, 64));
        List<Image> crops = [];
        try
        {
            for (int i = 0; i < 7; i++)
            {
                Image crop = Image.Create(64, 64, PixelFormat.Rgb24);
                rng.NextBytes(crop.Pixels);
                crops.Add(crop);
            }

            IReadOnlyList<Pipeline.CropVerdict> verdicts = classifier.Classify([.. crops.Select(c => c.View())]);
            Assert.Equal(crops.Count, verdicts.Count);
            float[] features = new float[f], p = new float[2];
            for (int i = 0; i < crops.Count; i++)
            {
                extractor.Extract(crops[i], features);
                head.PredictProbabilities(features, p);
                Assert.Equal(p[0] < 0.5f, verdicts[i].IsDefect);
                Assert.Equal(1 - p[0], verdicts[i].Confidence, 4);
            }
        }
        finally
        {
            crops.ForEach(c => c.Dispose());
        }
    }
}

/// <summary>The pipeline's two crop paths (regions straight into the classifier, or 8-bit crop images) agree.</summary>
public sealed class CropPathTests
{
    // Hides IRegionCropClassifier so that the pipeline cuts crop images.
    private sealed class CropImagesOnly(Pipeline.ICropClassifier inner) : Pipeline.ICropClassifier
    {
        public Pipeline.CropSize? InputSize => inner.InputSize;

        public IReadOnlyList<Pipeline.CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default) =>
            inner.Classify(crops, cancellationToken);
    }

    private sealed class Regions(params Pipeline.RegionOfInterest[] regions) : Pipeline.IRoiDetector
    {
        public IReadOnlyList<Pipeline.RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default) => regions;
    }

    private static SoftmaxClassifierModel Head(int f, int seed)
    {
        Random rng = new(seed);
        return SoftmaxClassifierModel.FromTensors(["normal", "defect"], new Dictionary<string, ModelTensor>
        {
            ["head/weights"] = new([2, f], [.. Enumerable.Range(0, 2 * f).Select(_ => (float)(rng.NextDouble() - 0.5))]),
            ["head/bias"] = new([2], [0f, 0f]),
            ["head/feature_mean"] = new([f], new float[f]),
            ["head/feature_scale"] = new([f], [.. Enumerable.Repeat(1f, f)]),
            ["head/temperature"] = new([1], [1f]),
        });
    }

    private static (Pipeline.InspectionResult Direct, Pipeline.InspectionResult Crops) Both(FeatureCropClassifier classifier)
    {
        using Image image = Image.Create(300, 200, PixelFormat.Rgb24);
        new Random(3).NextBytes(image.Pixels);
        // Boxes inside, across the border and larger than the input (downscaled), with a context margin.
        Regions detector = new(
            new(new Rectangle(10, 10, 40, 30)), new(new Rectangle(-5, 150, 30, 60)), new(new Rectangle(100, 50, 150, 120)), new(new Rectangle(290, 0, 20, 20)));
        Pipeline.DefectPipelineOptions options = new() { ContextMargin = 3, BatchSize = 3 };
        return (new Pipeline.DefectPipeline(detector, classifier, options).Inspect(image),
                new Pipeline.DefectPipeline(detector, new CropImagesOnly(classifier), options).Inspect(image));
    }

    [Fact]
    public void AWeightFreeClassifierGivesTheSameVerdictsOnBothPaths()
    {
        GradientHistogramFeatureExtractor extractor = new(new GradientHistogramOptions { Size = 32, Scales = 2 });
        (Pipeline.InspectionResult direct, Pipeline.InspectionResult crops) = Both(new FeatureCropClassifier(extractor, Head(extractor.FeatureLength, 1), ["normal"], new Pipeline.CropSize(32, 32)));
        Assert.Equal(crops.Regions.Select(r => (r.Region.Box, r.Verdict.Label, r.Verdict.Confidence)), direct.Regions.Select(r => (r.Region.Box, r.Verdict.Label, r.Verdict.Confidence)));
    }

    [SharedFact]
    public void ABackboneClassifierGivesNearlyTheSameConfidencesOnBothPaths()
    {
        // The direct path resizes straight to float; the crop path rounds the resized crop to bytes first.
        using OnnxBackbone backbone = new(
            BackboneSpec.FromFile(SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx")) with
            {
                Layout = new TensorLayoutOptions { Width = 64, Height = 64, Mean = TensorLayoutOptions.ImageNet.Mean, Std = TensorLayoutOptions.ImageNet.Std },
            },
            new OnnxBackboneOptions { Threads = 1 });
        using OnnxFeatureExtractor extractor = new(backbone);
        (Pipeline.InspectionResult direct, Pipeline.InspectionResult crops) = Both(new FeatureCropClassifier(extractor, Head(extractor.FeatureLength, 2), ["normal"], new Pipeline.CropSize(64, 64)));
        Assert.Equal(crops.Regions.Count, direct.Regions.Count);
        for (int i = 0; i < crops.Regions.Count; i++)
        {
            Assert.Equal(crops.Regions[i].Region.Box, direct.Regions[i].Region.Box);
            Assert.True(Math.Abs(crops.Regions[i].Verdict.Confidence - direct.Regions[i].Verdict.Confidence) < 0.05,
                $"region {i}: {crops.Regions[i].Verdict.Confidence} vs {direct.Regions[i].Verdict.Confidence}");
        }
    }
}
