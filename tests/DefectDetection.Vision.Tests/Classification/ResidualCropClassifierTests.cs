using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Synthetic;

namespace DefectDetection.Vision.Tests.Classification;

public sealed class ResidualCropClassifierTests
{
    private const int Side = 60;
    private const double PadRadius = 9, HoleRadius = 4.5;
    private static readonly Rgb Mask = new(28, 104, 52), Copper = new(212, 182, 108), Hole = new(22, 24, 20);

    public enum Kind
    {
        Normal,
        Blob,
        Filled,
    }

    // A pad with a hole near the centre (sub-pixel jitter), sometimes a neighbouring pad on the right, noise and a
    // random gain; a blob of copper on the left, or a hole that was never drilled. Returns the defect's true box.
    internal static (Image Crop, Rectangle Truth) Draw(Random rng, Kind kind, double? blobX = null)
    {
        Image image = Image.Create(Side, Side, PixelFormat.Rgb24);
        Canvas canvas = new(image);
        canvas.Fill(Mask);
        double cx = 30 + (rng.NextDouble() * 2) - 1, cy = 30 + (rng.NextDouble() * 2) - 1;
        if (rng.Next(2) == 0 || blobX is not null)
        {
            canvas.Disc(cx + 27, cy, PadRadius, Copper);
            canvas.Disc(cx + 27, cy, HoleRadius, Hole);
        }

        canvas.Disc(cx, cy, PadRadius, Copper);
        Rectangle truth = default;
        if (kind == Kind.Filled)
        {
            truth = Rectangle.FromEdges((int)Math.Floor(cx - PadRadius), (int)Math.Floor(cy - PadRadius), (int)Math.Ceiling(cx + PadRadius), (int)Math.Ceiling(cy + PadRadius));
        }
        else
        {
            canvas.Disc(cx, cy, HoleRadius, Hole);
        }

        if (kind == Kind.Blob)
        {
            double angle = (0.6 + (rng.NextDouble() * 0.8)) * Math.PI, r = 3 + rng.NextDouble();
            double bx = cx + (blobX ?? (Math.Cos(angle) * 16)), by = cy + (blobX is null ? Math.Sin(angle) * 16 : 0);
            canvas.Disc(bx, by, r, Copper);
            truth = Rectangle.FromEdges((int)Math.Floor(bx - r), (int)Math.Floor(by - r), (int)Math.Ceiling(bx + r), (int)Math.Ceiling(by + r));
        }

        double gain = 0.8 + (rng.NextDouble() * 0.2);
        Span<byte> px = image.Pixels;
        for (int i = 0; i < px.Length; i++)
        {
            double noise = ((rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5) * 2) * 4;
            px[i] = (byte)Math.Clamp(Math.Round((px[i] * gain) + noise), 0, 255);
        }

        return (image, truth);
    }

    private static IEnumerable<LabeledCrop> Training(Random rng)
    {
        for (int i = 0; i < 240; i++)
        {
            Kind kind = i % 8 == 3 ? Kind.Blob : i % 8 == 6 ? Kind.Filled : Kind.Normal;
            (Image crop, Rectangle truth) = Draw(rng, kind);
            using (crop)
            {
                yield return new LabeledCrop(crop, kind == Kind.Normal ? [] : [new LabeledBox(kind == Kind.Blob ? truth.Inflate(2) : truth, kind.ToString())]);
            }
        }
    }

    private static readonly Lazy<ResidualCropClassifier> Trained = new(() => new ResidualCropClassifierTrainer(new ResidualCropClassifierOptions
    {
        ChannelWeights = [1, 0, -1],
        Prototypes = 4,
        JoinDistance = 6,
        Seed = 1,
    }).Fit(Training(new Random(7))));

    [Fact]
    public void NormalCropsWithOrWithoutANeighbourAreNormal()
    {
        Random rng = new(100);
        List<Image> crops = [.. Enumerable.Range(0, 30).Select(_ => Draw(rng, Kind.Normal).Crop)];
        try
        {
            IReadOnlyList<CropVerdict> verdicts = Trained.Value.Classify([.. crops.Select(c => (ImageView)c)]);
            Assert.All(verdicts, v => Assert.False(v.IsDefect, $"{v.Label} {v.Confidence}"));
            Assert.All(verdicts, v => Assert.Null(v.LocalizedDefects));
        }
        finally
        {
            crops.ForEach(c => c.Dispose());
        }
    }

    [Theory]
    [InlineData(Kind.Blob)]
    [InlineData(Kind.Filled)]
    public void ADefectIsFoundWithItsOwnBoxAndKind(Kind kind)
    {
        Random rng = new(200 + (int)kind);
        for (int i = 0; i < 12; i++)
        {
            (Image crop, Rectangle truth) = Draw(rng, kind);
            using (crop)
            {
                CropVerdict verdict = Trained.Value.Classify([crop])[0];
                Assert.True(verdict.IsDefect);
                Defect found = Assert.Single(verdict.LocalizedDefects!);
                Assert.Equal(kind.ToString(), found.Label);

                // A blob is reported with its own box (plus the 2-pixel margin), a filled hole with the pad's box.
                Rectangle expected = kind == Kind.Blob ? truth.Inflate(2) : truth;
                double iou = Rectangle.IntersectionOverUnion(found.Box, expected);
                Assert.True(iou >= 0.6, $"found {found.Box}, expected {expected} (IoU {iou:F2})");
            }
        }
    }

    [Fact]
    public void ABlobNearerTheNeighbouringPadIsLeftToTheNeighboursCrop()
    {
        // The neighbour's pad spans 18..36 px right of the centre, this crop's pad 0..9.
        Random rng = new(300);
        for (int i = 0; i < 6; i++)
        {
            (Image near, _) = Draw(rng, Kind.Blob, blobX: 19);
            (Image own, Rectangle truth) = Draw(rng, Kind.Blob, blobX: 11);
            using (near)
            using (own)
            {
                Assert.False(Trained.Value.Classify([near])[0].IsDefect);
                Defect found = Assert.Single(Trained.Value.Classify([own])[0].LocalizedDefects!);
                Assert.True(Rectangle.IntersectionOverUnion(found.Box, truth.Inflate(2)) >= 0.5, $"found {found.Box}, expected {truth.Inflate(2)}");
            }
        }
    }

    [Fact]
    public void CopperAcrossThePadAndItsHoleIsOneDefectWithItsOwnBox()
    {
        // A disc of copper on the pad's left edge: it shows beside the pad and over the hole, joined by the pad's ring.
        Random rng = new(400);
        for (int i = 0; i < 6; i++)
        {
            using Image crop = Draw(rng, Kind.Normal).Crop;
            Canvas canvas = new(crop);
            double cx = 29.5 - 9, cy = 29.5;
            canvas.Disc(cx, cy, 7, Copper);
            Rectangle truth = Rectangle.FromEdges((int)Math.Floor(cx - 7), (int)Math.Floor(cy - 7), (int)Math.Ceiling(cx + 7), (int)Math.Ceiling(cy + 7)).Inflate(2);
            Defect found = Assert.Single(Trained.Value.Classify([crop])[0].LocalizedDefects!);
            Assert.True(Rectangle.IntersectionOverUnion(found.Box, truth) >= 0.5, $"found {found.Box}, expected {truth}");
        }
    }

    [Fact]
    public void CropsWithoutTheObjectAtTheCentreAreNormal()
    {
        using Image empty = Image.Create(Side, Side, PixelFormat.Rgb24);
        new Canvas(empty).Fill(Mask);
        new Canvas(empty).Disc(6, 6, 5, Copper);
        CropVerdict verdict = Trained.Value.Classify([empty])[0];
        Assert.False(verdict.IsDefect);
    }

    [Fact]
    public void FewerNormalCropsThanPrototypesStillTrainOneModel()
    {
        // Six normal crops cannot make clusters of two for 32 prototypes: one normal model of them all (was an
        // IndexOutOfRangeException).
        Random rng = new(11);
        List<Image> crops = [.. Enumerable.Range(0, 6).Select(_ => Draw(rng, Kind.Normal).Crop)];
        try
        {
            using ResidualCropClassifier model = new ResidualCropClassifierTrainer(new ResidualCropClassifierOptions { ChannelWeights = [1, 0, -1] })
                .Fit(crops.Select(c => new LabeledCrop(c, [])));
            using Image normal = Draw(new Random(12), Kind.Normal).Crop;
            Assert.False(model.Classify([normal])[0].IsDefect);
        }
        finally
        {
            crops.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new ResidualCropClassifierTrainer(new ResidualCropClassifierOptions { ChannelWeights = [1, 0] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResidualCropClassifierTrainer(new ResidualCropClassifierOptions { Prototypes = 0 }));
        Assert.Throws<ArgumentException>(() => new ResidualCropClassifierTrainer().Fit([]));
    }

    private sealed class OneRegion(Rectangle box) : IRoiDetector
    {
        public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default) => [new RegionOfInterest(box, "pin")];
    }

    private sealed class Locator(CropSize? size, Rectangle? located) : ICropClassifier
    {
        public CropSize? InputSize => size;

        public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default) =>
        [
            .. crops.Select(c =>
            {
                Assert.Equal(size?.Width ?? 30, c.Width);
                return new CropVerdict("spur", true, 0.9f, 0.9f) { LocalizedDefects = located is { } b ? [new Defect(b, "spur", 0.8f)] : null };
            }),
        ];
    }

    [Theory]
    [InlineData(0, 45, 45, 8, 6)] // the crop at its own size: shifted by the region's corner (40-5, 30-5)
    [InlineData(60, 40, 35, 4, 3)] // a crop resized 30 -> 60: halved, then shifted
    public void ThePipelineReportsLocatedDefectsInImageCoordinates(int inputSize, int x, int y, int w, int h)
    {
        using Image image = Image.Create(100, 80, PixelFormat.Rgb24);
        CropSize? size = inputSize == 0 ? null : new CropSize(inputSize, inputSize);
        DefectPipeline pipeline = new(new OneRegion(new Rectangle(40, 30, 20, 20)), new Locator(size, new Rectangle(10, 20, 8, 6)), new DefectPipelineOptions { ContextMargin = 5 });
        Defect found = Assert.Single(pipeline.Inspect(image).Defects);
        Assert.Equal(new Rectangle(x, y, w, h), found.Box);
        Assert.Equal(0.8f, found.Confidence);

        // Without located defects the region's box is the defect's box, as before.
        DefectPipeline plain = new(new OneRegion(new Rectangle(40, 30, 20, 20)), new Locator(size, null), new DefectPipelineOptions { ContextMargin = 5 });
        Assert.Equal(new Rectangle(40, 30, 20, 20), Assert.Single(plain.Inspect(image).Defects).Box);
    }
}
