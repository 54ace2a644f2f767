using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;
using DefectDetection.Synthetic;

namespace DefectDetection.Vision.Tests.Roi;

/// <summary>
/// The whole-image detectors run tile by tile by a <see cref="DefectPipeline"/> with a small pixel budget find the
/// same regions (and the pipeline the same defects) as one run on the whole image.
/// </summary>
[Collection(AllocationCollection.Name)]
public sealed class TiledDetectionTests
{
    private const long Budget = 400_000;

    // Records the tiles a detector is given; forwards everything.
    private sealed class Recording(ITileableRoiDetector inner) : ITileableRoiDetector
    {
        public List<Rectangle> Tiles { get; } = [];

        public int MinimumTileOverlap => inner.MinimumTileOverlap;

        public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default)
        {
            Tiles.Add(new Rectangle(0, 0, image.Width, image.Height));
            return inner.Detect(image, cancellationToken);
        }

        public IReadOnlyList<RegionOfInterest> DetectTile(ImageView image, Rectangle tile, CancellationToken cancellationToken = default)
        {
            Tiles.Add(tile);
            return inner.DetectTile(image, tile, cancellationToken);
        }
    }

    // A defect when the centre of the crop is bright (a pad without its hole, copper where the mask should be).
    private sealed class CentreClassifier : ICropClassifier
    {
        public CropSize? InputSize => new CropSize(16, 16);

        public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default)
        {
            List<CropVerdict> verdicts = [];
            foreach (ImageView crop in crops)
            {
                double sum = 0;
                for (int y = 6; y < 10; y++)
                {
                    ReadOnlySpan<byte> row = crop.GetRow(y);
                    for (int i = 6 * crop.Channels; i < 10 * crop.Channels; i++)
                    {
                        sum += row[i];
                    }
                }

                double mean = sum / (16 * crop.Channels);
                verdicts.Add(new CropVerdict(mean > 120 ? "defect" : "ok", mean > 120, (float)(mean / 255), (float)mean));
            }

            return verdicts;
        }
    }

    private static (PcbBoardGenerator Generator, SyntheticBoard Board) Board(bool moved)
    {
        PcbBoardGenerator generator = new(new PcbBoardOptions
        {
            Width = 2200, Height = 1600, ComponentCount = 24, PixelsPerMm = 14,
            MaxRotationDegrees = moved ? 1 : 0, MaxTranslation = moved ? 20 : 0, MaxScaleChange = moved ? 0.01 : 0,
            DefectKinds = [PcbDefectKinds.MissingHole, PcbDefectKinds.SpuriousCopper], MinDefects = 4, MaxDefects = 4,
        }, 4);
        return (generator, generator.Generate(12));
    }

    private static void AssertSameInspection(IRoiDetector detector, Func<ITileableRoiDetector> tiledDetector, ImageView image, int minRegions)
    {
        DefectPipelineOptions options = new() { ContextMargin = 3, BatchSize = 16 };
        InspectionResult whole = new DefectPipeline(detector, new CentreClassifier(), options).Inspect(image);
        Recording recording = new(tiledDetector());
        InspectionResult tiled = new DefectPipeline(recording, new CentreClassifier(), new DefectPipelineOptions
        {
            ContextMargin = 3,
            BatchSize = 16,
            MaxDetectionPixels = Budget,
            DetectionTileOverlap = 128,
        }).Inspect(image);

        Assert.True(recording.Tiles.Count >= 6, $"{recording.Tiles.Count} tiles");
        Assert.All(recording.Tiles, t => Assert.True((long)t.Width * t.Height <= Budget, $"tile {t} exceeds the budget"));
        Assert.True(whole.Regions.Count >= minRegions, $"{whole.Regions.Count} regions");
        Assert.Equal(Regions(whole), Regions(tiled));
        for (int i = 0; i < whole.Regions.Count; i++)
        {
            RoiVerdict a = Sorted(whole)[i], b = Sorted(tiled)[i];
            Assert.Equal(a.Region.Score, b.Region.Score, 3);
        }

        Assert.Equal(Defects(whole), Defects(tiled));
    }

    [Fact]
    public void TemplateMatchingOnTilesFindsTheSamePinsAsOnTheWholeBoard()
    {
        (PcbBoardGenerator generator, SyntheticBoard board) = Board(moved: true);
        using (board)
        using (Image golden = generator.RenderGolden())
        {
            PcbPin example = generator.Layout.Pins.First(p => !p.Square);
            TemplateMatchingRoiDetector Create() => TemplateMatchingRoiDetector.FromExample(
                golden, PcbBoardGenerator.PinBox(BoardTransform.Identity, example).Inflate(4),
                new TemplateMatchingOptions { ScoreThreshold = 0.4f, Label = "pin" });
            AssertSameInspection(Create(), Create, board.Image, minRegions: generator.Layout.Pins.Count / 2);
        }
    }

    [Fact]
    public void TemplateDifferenceOnTilesFindsTheSameRegionsAsOnTheWholeBoard()
    {
        (PcbBoardGenerator generator, SyntheticBoard board) = Board(moved: false);
        using (board)
        using (Image golden = generator.RenderGolden())
        {
            TemplateDifferenceOptions options = new() { DifferenceThreshold = 60, MinArea = 12, MaxShift = 2 };
            AssertSameInspection(new TemplateDifferenceRoiDetector(golden, options), () => new TemplateDifferenceRoiDetector(golden, options), board.Image, minRegions: 3);
        }
    }

    [Fact]
    public void SlidingWindowTilesAreTheSameGridOnTilesAsOnTheWholeImage()
    {
        using Image image = Image.Create(2300, 1700, PixelFormat.Gray8);
        new Random(2).NextBytes(image.Pixels);
        SlidingWindowOptions options = new() { TileWidth = 96, TileHeight = 80, Overlap = 0.3 };
        AssertSameInspection(new SlidingWindowRoiDetector(options), () => new SlidingWindowRoiDetector(options), image, minRegions: 500);
    }

    [Fact]
    public void CroppingALargeImageAllocatesFarLessThanItsFloatCopy()
    {
        // 6000x4000 gray: a float copy would be 96 MB. Windows are cut batch by batch and resized to 16x16.
        using Image image = Image.Create(6000, 4000, PixelFormat.Gray8);
        new Random(4).NextBytes(image.Pixels);
        DefectPipeline pipeline = new(new SlidingWindowRoiDetector(new SlidingWindowOptions { TileWidth = 200, TileHeight = 200, Overlap = 0 }),
            new CentreClassifier(), new DefectPipelineOptions { MaxDetectionPixels = 1_000_000, BatchSize = 32 });
        pipeline.Inspect(image); // warm-up (JIT, pools)
        long before = GC.GetTotalAllocatedBytes(precise: true);
        InspectionResult result = pipeline.Inspect(image);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(30 * 20, result.Regions.Count);
        long floatCopy = 4L * image.Width * image.Height;
        Assert.True(allocated < floatCopy / 10, $"{allocated:N0} bytes allocated (a float copy is {floatCopy:N0})");
    }

    private static RoiVerdict[] Sorted(InspectionResult r) =>
        [.. r.Regions.OrderBy(v => (v.Region.Box.Y, v.Region.Box.X, v.Region.Box.Width, v.Region.Box.Height, v.Region.Label))];

    private static List<(Rectangle, string?, string)> Regions(InspectionResult r) =>
        [.. Sorted(r).Select(v => (v.Region.Box, v.Region.Label, v.Verdict.Label))];

    private static List<(Rectangle, string, float)> Defects(InspectionResult r) =>
        [.. r.Defects.Select(d => (d.Box, d.Label, d.Confidence)).OrderBy(d => (d.Box.Y, d.Box.X))];
}

/// <summary>
/// Tests that count process-wide allocations (<see cref="GC.GetTotalAllocatedBytes(bool)"/>) run alone: any test
/// running beside them would add its own allocations to the count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Allocation counts";
}
