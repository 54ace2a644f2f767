using DefectDetection.Vision.Backbones;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.Tests.Classification;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.Tests.Models;

/// <summary>
/// Every learner trains on one set that mixes image sizes, gray and colour (RGB and RGBA), PNG and JPEG, and photos
/// stored turned with an EXIF orientation (<see cref="SyntheticImages.SaveMixed"/>).
/// </summary>
public sealed class MixedImageSetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mixed-set-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A 128x96 texture (not square, so that a turn shows), painted with a defect when asked.
    private static Image Texture(int seed, bool defect)
    {
        using Image square = SyntheticImages.Texture(seed, 128, defect ? i => SyntheticImages.Paint(i, 60, 30, 20) : null);
        return square.View().Slice(new Rectangle(0, 0, 128, 96)).ToImage();
    }

    private string Mixed(Image image, string name, int form)
    {
        using (image)
        {
            return SyntheticImages.SaveMixed(image, Path.Combine(_dir, name), form);
        }
    }

    private ImageDataset Textures(int count, int anomalyEvery = 0) => new(Enumerable.Range(0, count).Select(i =>
    {
        bool bad = anomalyEvery > 0 && i % anomalyEvery == anomalyEvery - 1;
        return new LabeledImage(Mixed(Texture(300 + i, bad), $"texture-{i}", i), bad ? "anomaly" : "normal");
    }));

    [Fact]
    public void TheFixtureMixesSizesFormatsAndAnExifTurn()
    {
        string[] files = [.. Enumerable.Range(0, SyntheticImages.MixedForms.Length).Select(i => Mixed(Texture(i, false), $"form-{i}", i))];
        ImageInfo[] infos = [.. files.Select(f => ImageCodecs.Identify(f))];
        Assert.Equal([PixelFormat.Rgb24, PixelFormat.Gray8, PixelFormat.Rgba32, PixelFormat.Gray8, PixelFormat.Rgb24], infos.Select(i => i.PixelFormat));
        Assert.Equal([128, 96, 160, 128, 128], infos.Select(i => i.DisplayWidth));
        Assert.Equal(ExifOrientation.RightTop, infos[4].Orientation);
        using Image upright = ImageCodecs.Load(files[4]);
        using Image stored = ImageCodecs.Load(files[4], new DecoderOptions { ApplyExifOrientation = false });
        Assert.Equal((128, 96, 96, 128), (upright.Width, upright.Height, stored.Width, stored.Height));

        // Upright again: close to the texture it was made from (JPEG rounding aside).
        using Image original = Texture(4, false);
        double error = 0;
        for (int y = 0; y < 96; y++)
        {
            for (int x = 0; x < 128 * 3; x++)
            {
                error += Math.Abs(upright.GetRow(y)[x] - original.GetRow(y)[x]);
            }
        }

        Assert.InRange(error / (96 * 128 * 3), 0, 6);
    }

    [Fact]
    public void TheImageClassifierTrainsOnAMixedSet()
    {
        using ImageClassificationTrainer trainer = new(new ImageClassificationOptions { WeightFree = new() { Size = 64 }, Threads = 2 });
        using ImageClassificationModel model = trainer.Fit(Textures(20, anomalyEvery: 2));
        Assert.Equal(20, model.Training.ImageCount);
        foreach (int form in Enumerable.Range(0, SyntheticImages.MixedForms.Length))
        {
            using Image image = ImageCodecs.Load(Mixed(Texture(900 + form, false), $"probe-{form}", form));
            Assert.True(double.IsFinite(model.Predict(image.View()).Score));
        }
    }

    [SharedFact]
    public void PatchCoreTrainsOnAMixedSetAndStillFindsTheDefect()
    {
        PatchCoreTrainer trainer = new(new PatchCoreOptions { Backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq), Threads = 2, InputSize = 96, CoresetRatio = 0.25 });
        using PatchCoreModel model = trainer.Fit(Textures(10));
        using Image good = Texture(901, false), bad = Texture(902, true);
        double goodScore = model.Predict(good.View()).Score, badScore = model.Predict(bad.View()).Score;
        Assert.True(badScore > goodScore, $"defect {badScore} vs good {goodScore}");
    }

    [Fact]
    public void TheVariationModelTrainsOnAMixedSet()
    {
        ImageDataset scenes = new(Enumerable.Range(0, 10).Select(i =>
        {
            using Image gray = SyntheticImages.Pattern(10 + i, 0, 0);
            return new LabeledImage(Mixed(DefectDetection.Imaging.Processing.ColorConversion.Convert(gray, PixelFormat.Rgb24), $"scene-{i}", i), "good");
        }));
        using VariationModel model = new VariationModelTrainer(new VariationModelOptions { MaxShift = 2, Width = 96, Height = 80 }).Fit(scenes);
        using Image bad = SyntheticImages.Pattern(100, 0, 0, i => SyntheticImages.Square(i, 20, 30, 8, 255));
        using Image good = SyntheticImages.Pattern(101, 0, 0);
        Assert.True(model.Predict(bad.View()).IsDefect);
        Assert.True(model.Predict(bad.View()).Score > model.Predict(good.View()).Score);
    }

    [Fact]
    public void ThePinResidualClassifierTrainsOnMixedFormats()
    {
        // Same-size crops (their boxes are in crop coordinates): RGB PNG, gray JPEG and EXIF-turned JPEG.
        Random rng = new(7);
        int[] forms = [0, 3, 4];
        ImageDataset crops = new(Enumerable.Range(0, 120).Select(i =>
        {
            ResidualCropClassifierTests.Kind kind = i % 8 == 3 ? ResidualCropClassifierTests.Kind.Blob : ResidualCropClassifierTests.Kind.Normal;
            (Image crop, Rectangle truth) = ResidualCropClassifierTests.Draw(rng, kind);
            LabeledBox[] boxes = kind == ResidualCropClassifierTests.Kind.Normal ? [] : [new LabeledBox(truth.Inflate(2), "blob")];
            return new LabeledImage(Mixed(crop, $"crop-{i}", forms[i % forms.Length]), boxes.Length == 0 ? "normal" : "defect") { Boxes = boxes };
        }));
        using ResidualCropClassifier model = new ResidualCropClassifierTrainer(new ResidualCropClassifierOptions { Prototypes = 4, JoinDistance = 6, Seed = 1 }).Fit(crops);
        Assert.NotNull(model);
    }

    [Fact]
    public void TheTemplateDifferenceLearnerTrainsOnGrayJpegTestsAgainstPngTemplates_AndNamesAPairOfTwoSizes()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "pairs"));
        List<LabeledImage> items = [];
        for (int seed = 0; seed < 8; seed++)
        {
            (Image test, Image reference, List<LabeledBox> defects) = TracePairs.Pair(seed);
            string golden = Mixed(reference, $"pairs/reference-{seed}", 0);
            items.Add(new LabeledImage(Mixed(test, $"pairs/test-{seed}", 3), "pair") { ReferencePath = golden, Boxes = defects });
        }

        TemplateDifferenceClassifierTrainer trainer = new(new TemplateDifferenceClassifierOptions { Tolerance = 1, MaxShift = 2, Trees = 16, Augment = false, Detector = TracePairs.DetectorOptions });
        using (TemplateDifferenceCropClassifier model = trainer.Fit(new ImageDataset(items)))
        {
            Assert.NotNull(model);
        }

        // A test image whose template has another size is refused, naming the files.
        (Image other, Image otherReference, _) = TracePairs.Pair(99);
        otherReference.Dispose();
        string odd;
        using (other)
        {
            odd = Mixed(other.View().Slice(new Rectangle(0, 0, 200, 256)).ToImage(), "pairs/odd", 0);
        }

        items.Add(new LabeledImage(odd, "pair") { ReferencePath = items[0].ReferencePath });
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() => trainer.Fit(new ImageDataset(items)).Dispose());
        Assert.Contains("odd.png", e.Message, StringComparison.Ordinal);
    }
}
