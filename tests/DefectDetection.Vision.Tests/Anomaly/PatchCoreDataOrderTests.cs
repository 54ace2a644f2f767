using DefectDetection.Vision.Backbones;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary>
/// The same images give the same PatchCore model whatever order they come in (the held-out normals of the threshold
/// and the coreset follow the images' content), and the images that set the threshold are the ones asked for.
/// </summary>
public sealed class PatchCoreDataOrderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("patchcore-order-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void AssertSameModel(PatchCoreModel expected, PatchCoreModel actual, string what)
    {
        Assert.True(expected.Threshold.Equals(actual.Threshold), $"{what}: threshold {actual.Threshold} instead of {expected.Threshold}");
        Assert.Equal(expected.CalibrationScores, actual.CalibrationScores);
        Assert.True(expected.Bank.AsSpan().SequenceEqual(actual.Bank), $"{what}: another memory bank");
        Assert.Equal(expected.Sources, actual.Sources);
    }

    [SharedFact]
    public void TheCookieNormalsGiveOneModelInOrdinalNumericAndShuffledOrder()
    {
        // Listed in ordinal order (normal-1, normal-10, ...), numeric order (normal-1, normal-2, ...) and shuffled, the 31
        // normal training cookies once held out different images for the threshold (3.32 against 3.77).
        string folder = SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "training-images");
        string[] numeric = [.. Enumerable.Range(1, 31).Select(i => Path.Combine(folder, $"normal-{i}.jpg"))];
        string[] ordinal = [.. numeric.Order(StringComparer.Ordinal)];
        string[] shuffled = [.. numeric];
        new Random(21).Shuffle(shuffled);
        PatchCoreTrainer trainer = new(new PatchCoreOptions { Backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq), Threads = 2 });
        PatchCoreModel Fit(string[] files) => trainer.Fit(new ImageDataset(files.Select(f => new LabeledImage(f, "normal"))));

        using PatchCoreModel reference = Fit(ordinal);
        Assert.Equal(31, reference.CalibrationScores.Count);
        using (PatchCoreModel model = Fit(numeric))
        {
            AssertSameModel(reference, model, "numeric order");
        }

        using (PatchCoreModel model = Fit(shuffled))
        {
            AssertSameModel(reference, model, "shuffled order");
        }
    }

    [SharedFact]
    public void DecodedImagesGiveOneModelInAnyOrder_AndLabelledAnomaliesInAnyOrderOneThreshold()
    {
        List<Image> normals = [.. Enumerable.Range(0, 7).Select(i => SyntheticImages.Texture(i, 96))];
        List<Image> anomalies = [.. Enumerable.Range(20, 3).Select(i => SyntheticImages.Texture(i, 96, img => SyntheticImages.Paint(img, 40, 30, 14)))];
        try
        {
            PatchCoreTrainer trainer = new(new PatchCoreOptions { Backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq), Threads = 2, InputSize = 96, CoresetRatio = 0.25 });
            List<ImageView> views = [.. normals.Select(i => i.View())], bad = [.. anomalies.Select(i => i.View())];
            using PatchCoreModel reference = trainer.Fit(views, bad);
            List<ImageView> reversed = [.. views.AsEnumerable().Reverse()], badReversed = [.. bad.AsEnumerable().Reverse()];
            using PatchCoreModel model = trainer.Fit(reversed, badReversed);
            AssertSameModel(reference, model, "reversed order");
        }
        finally
        {
            normals.ForEach(i => i.Dispose());
            anomalies.ForEach(i => i.Dispose());
        }
    }

    [SharedFact]
    public void TheThresholdComesFromTheImagesTheOptionsName()
    {
        ImageDataset data = new([
            .. Enumerable.Range(0, 6).Select(i => new LabeledImage(Save(SyntheticImages.Texture(i, 96), $"good-{i}.png"), "good")),
            .. Enumerable.Range(0, 2).Select(i => new LabeledImage(Save(SyntheticImages.Texture(50 + i, 96, img => SyntheticImages.Paint(img, 40, 30, 14)), $"bad-{i}.png"), "scratch")),
        ]);
        PatchCoreModel Fit(AnomalyThresholdSource source, ImageDataset d) => new PatchCoreTrainer(new PatchCoreOptions
        {
            Backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq),
            Threads = 2,
            InputSize = 96,
            CoresetRatio = 0.25,
            Threshold = new AnomalyThresholdOptions { Source = source },
        }).Fit(d);

        ImageDataset goodOnly = data.Filter(i => i.Label == "good");
        using PatchCoreModel normals = Fit(AnomalyThresholdSource.Normals, data);
        using PatchCoreModel normalsOfGoodOnly = Fit(AnomalyThresholdSource.Automatic, goodOnly);
        using PatchCoreModel anomalies = Fit(AnomalyThresholdSource.LabelledAnomalies, data);
        using PatchCoreModel automatic = Fit(AnomalyThresholdSource.Automatic, data);

        // Normals only: the labelled anomalies change nothing ('good' is a normal label by default).
        AssertSameModel(normalsOfGoodOnly, normals, "normals only");
        Assert.Equal(anomalies.Threshold, automatic.Threshold);
        Assert.NotEqual(normals.Threshold, anomalies.Threshold);

        ArgumentException e = Assert.Throws<ArgumentException>(() => Fit(AnomalyThresholdSource.LabelledAnomalies, goodOnly));
        Assert.Contains("labelled anomalies", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile(SharedData.MobileNetV2Qdq), Threshold = new AnomalyThresholdOptions { Source = (AnomalyThresholdSource)7 } }));
    }

    private string Save(Image image, string name)
    {
        string path = Path.Combine(_dir, name);
        using (image)
        {
            ImageCodecs.Save(image, path);
        }

        return path;
    }
}
