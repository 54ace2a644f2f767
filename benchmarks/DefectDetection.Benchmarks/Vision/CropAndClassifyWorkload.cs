using DefectDetection.Benchmarks.Imaging;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Features;
using DefectDetection.Vision.Roi;
using DefectDetection.Synthetic;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>The crop classifier of a crop-and-classify run.</summary>
public enum CropClassifierKind
{
    /// <summary>Weight-free gradient histograms (one scale grid per crop side) and a softmax head.</summary>
    Hog,

    /// <summary>The MobileNetV2 int8 (QDQ) backbone, global-average-pooled last feature map, and a softmax head.</summary>
    MobileNetV2,
}

/// <summary>
/// The crop-and-classify workload: a generated 4608x3456 PCB board with about 500 pins, the pins found by a
/// fixed-layout detector (three fiducials registered by correlation), each pin cut with a context margin, resized
/// to the classifier input and judged by a <see cref="FeatureCropClassifier"/> (random softmax head: speed only).
/// </summary>
public sealed class CropAndClassifyWorkload : IDisposable
{
    public const int BoardWidth = 4608;
    public const int BoardHeight = 3456;
    public const int Margin = 8;

    private readonly Image _golden;
    private readonly SyntheticBoard _board;
    private readonly List<Image> _crops = [];
    private readonly OnnxFeatureExtractor? _backbone;

    public CropAndClassifyWorkload(CropClassifierKind kind, int cropSide, int threads, int batchSize = 64, int intraOpThreads = 1)
    {
        PcbBoardOptions options = new() { Width = BoardWidth, Height = BoardHeight, PixelsPerMm = 16, ComponentCount = 40 };
        PcbBoardGenerator generator = new(options, designSeed: 3);
        _golden = generator.RenderGolden();
        _board = generator.Generate(7, defective: true);
        (IReadOnlyList<RegionOfInterest> layout, Rectangle[] fiducials) = generator.GoldenLayout();
        Detector = new FixedLayoutRoiDetector(_golden, layout, fiducials);
        CropSize size = new(cropSide, cropSide);
        IFeatureExtractor extractor;
        if (kind == CropClassifierKind.Hog)
        {
            extractor = new GradientHistogramFeatureExtractor(new GradientHistogramOptions { Size = cropSide, Scales = 2 });
        }
        else
        {
            string model = Path.Combine(JpegBenchmarkFiles.SharedRoot(), "models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");
            OnnxBackbone backbone = new(
                BackboneSpec.FromFile(model) with
                {
                    Layout = new TensorLayoutOptions
                    {
                        Width = cropSide,
                        Height = cropSide,
                        Mean = TensorLayoutOptions.ImageNet.Mean,
                        Std = TensorLayoutOptions.ImageNet.Std,
                    },
                },
                new OnnxBackboneOptions { Threads = intraOpThreads, BatchSize = batchSize });
            _backbone = new OnnxFeatureExtractor(backbone, ownsBackbone: true);
            extractor = _backbone;
        }

        Classifier = new FeatureCropClassifier(extractor, RandomHead(extractor.FeatureLength), ["normal"], size);
        Pipeline = new DefectPipeline(Detector, Classifier, new DefectPipelineOptions
        {
            ContextMargin = Margin,
            BatchSize = batchSize,
            MaxDegreeOfParallelism = threads,
        });

        CropPipeline = new DefectPipeline(Detector, new CropImagesOnly(Classifier), new DefectPipelineOptions
        {
            ContextMargin = Margin,
            BatchSize = batchSize,
            MaxDegreeOfParallelism = threads,
        });

        Regions = Detector.Detect(_board.Image);
        foreach (RegionOfInterest r in Regions)
        {
            using Image padded = Cropping.CropPadded(_board.Image, r.Box.Inflate(Margin), BorderMode.Replicate);
            _crops.Add(ImageResizer.Resize(padded, cropSide, cropSide));
        }

        Crops = [.. _crops.Select(c => c.View())];
    }

    public ImageView Board => _board.Image;

    public IRoiDetector Detector { get; }

    public FeatureCropClassifier Classifier { get; }

    public DefectPipeline Pipeline { get; }

    /// <summary>The same pipeline with the classifier hidden behind a plain <see cref="ICropClassifier"/>: the pipeline
    /// cuts and resizes 8-bit crop images, which the classifier converts again (the path before crops went straight
    /// into the tensor).</summary>
    public DefectPipeline CropPipeline { get; }

    public IReadOnlyList<RegionOfInterest> Regions { get; }

    /// <summary>The crops already cut and resized to the classifier input.</summary>
    public ImageView[] Crops { get; }

    public void Dispose()
    {
        _backbone?.Dispose();
        _crops.ForEach(c => c.Dispose());
        _board.Dispose();
        _golden.Dispose();
    }

    private sealed class CropImagesOnly(ICropClassifier inner) : ICropClassifier
    {
        public CropSize? InputSize => inner.InputSize;

        public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default) =>
            inner.Classify(crops, cancellationToken);
    }

    private static SoftmaxClassifierModel RandomHead(int features)
    {
        Random rng = new(11);
        float[] weights = [.. Enumerable.Range(0, 2 * features).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.02f)];
        return SoftmaxClassifierModel.FromTensors(["normal", "defect"], new Dictionary<string, ModelTensor>
        {
            ["head/weights"] = new([2, features], weights),
            ["head/bias"] = new([2], [0.5f, -0.5f]),
            ["head/feature_mean"] = new([features], new float[features]),
            ["head/feature_scale"] = new([features], [.. Enumerable.Repeat(1f, features)]),
            ["head/temperature"] = new([1], [1f]),
        });
    }
}
