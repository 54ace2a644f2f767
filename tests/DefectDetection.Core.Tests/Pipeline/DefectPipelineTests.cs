using DefectDetection.Imaging;
using DefectDetection.Pipeline;

namespace DefectDetection.Core.Tests.Pipeline;

public sealed class DefectPipelineTests
{
    private sealed class FixedDetector(params RegionOfInterest[] regions) : IRoiDetector
    {
        public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default) => regions;
    }

    // 100x80 gray image, dark, with a bright 10x10 square at (60, 20).
    private static Image Scene()
    {
        Image image = Image.Create(100, 80, PixelFormat.Gray8);
        image.Pixels.Fill(20);
        for (int y = 20; y < 30; y++)
        {
            image.GetRow(y).Slice(60, 10).Fill(240);
        }

        return image;
    }

    [Fact]
    public void JudgesEveryRegionAtFullResolutionAndReportsDefects()
    {
        using Image image = Scene();
        BrightnessClassifier classifier = new(size: null);
        DefectPipeline pipeline = new(new FixedDetector(
            new RegionOfInterest(new Rectangle(60, 20, 10, 10), "part"),
            new RegionOfInterest(new Rectangle(0, 0, 10, 10), "part")), classifier, new DefectPipelineOptions { BatchSize = 1 });

        InspectionResult result = pipeline.Inspect(image);

        Assert.True(result.IsAnomalous);
        Defect defect = Assert.Single(result.Defects);
        Assert.Equal(new Rectangle(60, 20, 10, 10), defect.Box);
        Assert.Equal("bright", defect.Label);
        Assert.Equal(240f / 255, defect.Confidence, 4);
        Assert.Equal(240f / 255, result.Confidence, 4);
        Assert.Equal(2, result.Regions.Count);
        Assert.All(classifier.Seen, s => Assert.Equal((10, 10), (s.W, s.H)));
        Assert.Equal((100, 80), (result.ImageWidth, result.ImageHeight));
    }

    [Fact]
    public void ResizesCropsAddsContextAndPadsRegionsThatLeaveTheImage()
    {
        using Image image = Scene();
        BrightnessClassifier classifier = new(new CropSize(32, 32));
        DefectPipeline pipeline = new(new FixedDetector(
            new RegionOfInterest(new Rectangle(62, 22, 6, 6)),
            new RegionOfInterest(new Rectangle(95, 75, 10, 10))), classifier, new DefectPipelineOptions { ContextMargin = 2 });

        InspectionResult result = pipeline.Inspect(image);

        Assert.All(classifier.Seen, s => Assert.Equal((32, 32), (s.W, s.H)));
        // The first crop (10x10 with margin) is all bright; the second is dark replicated edge.
        Assert.Contains(classifier.Seen, s => Math.Abs(s.Mean - 240) < 1);
        Assert.Contains(classifier.Seen, s => Math.Abs(s.Mean - 20) < 1);
        Assert.Single(result.Defects);
        Assert.Equal(new Rectangle(62, 22, 6, 6), result.Defects[0].Box);
    }

    [Fact]
    public void RoutesRegionsToClassifiersByLabelAndSkipsUnknownLabelsWhenAsked()
    {
        using Image image = Scene();
        BrightnessClassifier pins = new(null, "pin_defect"), other = new(null, "other_defect");
        DefectPipeline pipeline = new(
            new FixedDetector(
                new RegionOfInterest(new Rectangle(60, 20, 10, 10), "pin"),
                new RegionOfInterest(new Rectangle(61, 21, 8, 8), "connector"),
                new RegionOfInterest(new Rectangle(62, 22, 6, 6), "screw")),
            other,
            new Dictionary<string, ICropClassifier> { ["pin"] = pins },
            new DefectPipelineOptions { UseDefaultClassifierForUnknownLabels = false });

        InspectionResult result = pipeline.Inspect(image);

        Assert.Single(pins.Seen);
        Assert.Empty(other.Seen);
        Assert.Equal("pin_defect", Assert.Single(result.Defects).Label);
    }

    [Fact]
    public void ImageConfidenceIsTheMostDefectiveCropsConfidence_ForGoodImagesToo()
    {
        // One meaning everywhere: the confidence that the image is a defect. A good image's is its most suspicious
        // crop's (below 0.5), not one minus it.
        using Image image = Scene();
        DefectPipeline pipeline = new(new FixedDetector(new RegionOfInterest(new Rectangle(0, 0, 10, 10))), new BrightnessClassifier(null));
        InspectionResult result = pipeline.Inspect(image);
        Assert.False(result.IsAnomalous);
        Assert.Equal(20f / 255, result.Confidence, 4);
        Assert.True(result.Confidence < 0.5f);
    }

    [Fact]
    public void BadClassifiersAndOptionsFailClearly()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DefectPipeline(new FixedDetector(), new BrightnessClassifier(null), new DefectPipelineOptions { BatchSize = 0 }));
        Assert.Throws<ArgumentException>(() => new DefectPipeline(new FixedDetector(), null, new Dictionary<string, ICropClassifier>()));

        using Image image = Scene();
        using CancellationTokenSource cts = new();
        cts.Cancel();
        DefectPipeline pipeline = new(new FixedDetector(new RegionOfInterest(new Rectangle(0, 0, 5, 5))), new BrightnessClassifier(null));
        Assert.ThrowsAny<OperationCanceledException>(() => pipeline.Inspect(image, cts.Token));
    }
}

public sealed class DefectMergingTests
{
    [Fact]
    public void MergesTouchingBoxesOfTheSameLabelOnly()
    {
        List<Defect> defects =
        [
            new(new Rectangle(0, 0, 10, 10), "a", 0.6f),
            new(new Rectangle(10, 0, 10, 10), "a", 0.9f),   // touches the first
            new(new Rectangle(25, 0, 5, 5), "a", 0.7f),     // apart
            new(new Rectangle(5, 5, 10, 10), "b", 0.8f),    // overlaps but another label
        ];
        List<Defect> merged = DefectPipeline.MergeTouching(defects);
        Assert.Equal(3, merged.Count);
        Assert.Contains(new Defect(new Rectangle(0, 0, 20, 10), "a", 0.9f), merged);
        Assert.Contains(defects[2], merged);
        Assert.Contains(defects[3], merged);
    }

    [Fact]
    public void SuppressesNearbyDuplicatesOfTheSameLabelKeepingTheMostConfident()
    {
        List<Defect> defects =
        [
            new(new Rectangle(0, 0, 10, 10), "blob", 0.6f),
            new(new Rectangle(14, 0, 10, 10), "blob", 0.9f),  // 4 px away
            new(new Rectangle(14, 0, 10, 10), "hole", 0.5f),  // other label
            new(new Rectangle(40, 0, 10, 10), "blob", 0.7f),  // far
        ];
        List<Defect> kept = DefectPipeline.SuppressDuplicates(defects, 5);
        Assert.Equal([defects[1], defects[3], defects[2]], kept);
        Assert.Equal(4, DefectPipeline.SuppressDuplicates(defects, 3).Count);
    }
}
