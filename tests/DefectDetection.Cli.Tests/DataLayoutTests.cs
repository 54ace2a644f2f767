using System.Text.Json;
using DefectDetection.Cli;
using DefectDetection.Imaging;

namespace DefectDetection.Cli.Tests;

/// <summary>
/// <c>--data</c> read as it is laid out: MVTec AD, label folders (with a seeded test split), a folder of good images
/// named anything; mixed sizes, gray and colour, EXIF-turned JPEGs; bad data named before any work.
/// </summary>
public sealed class DataLayoutTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-layouts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    // A 96x96 texture, with a painted square when defective, in the mixed form given by the index.
    private string Texture(string relative, int seed, int form, bool defect = false)
    {
        string stem = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(stem)!);
        using Image image = SyntheticImages.Texture(seed, 96, defect ? i => SyntheticImages.Paint(i, 40, 30, 16) : null);
        return SyntheticImages.SaveMixed(image, stem, form);
    }

    // A mask PNG of the painted square (or of another size).
    private void Mask(string relative, int width = 96, int height = 96)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using Image mask = Image.Create(width, height, PixelFormat.Gray8);
        for (int y = 30; y < 46 && y < height; y++)
        {
            mask.GetRow(y).Slice(40, 16).Fill(255);
        }

        ImageCodecs.Save(mask, path);
    }

    /// <summary>An MVTec AD category of generated textures: train/good, test/good and test/paint with masks.</summary>
    private string Mvtec()
    {
        for (int i = 0; i < 8; i++)
        {
            Texture($"mvtec/train/good/{i:D3}", 100 + i, 0);
        }

        for (int i = 0; i < 3; i++)
        {
            Texture($"mvtec/test/good/{i:D3}", 200 + i, 0);
            Texture($"mvtec/test/paint/{i:D3}", 300 + i, 0, defect: true);
            Mask($"mvtec/ground_truth/paint/{i:D3}_mask.png");
        }

        return Path.Combine(_dir, "mvtec");
    }

    [Fact]
    public void LabelFoldersHoldOutASeededTestPartThatEvaluateFindsAgain()
    {
        for (int i = 0; i < 20; i++)
        {
            Texture($"labels/normal/n{i}", i, i);
            Texture($"labels/anomaly/a{i}", 50 + i, i, defect: true);
        }

        string data = Path.Combine(_dir, "labels"), model = Path.Combine(_dir, "labels.ddmodel");
        var train = Run("train", "--data", data, "--out", model, "--seed", "3", "--json");
        Assert.True(train.Code == 0, train.Err);
        using JsonDocument doc = JsonDocument.Parse(train.Out);
        JsonElement root = doc.RootElement;
        Assert.Equal(32, root.GetProperty("training").GetProperty("images").GetInt32());
        Assert.Equal(8, root.GetProperty("test").GetProperty("count").GetInt32());
        Assert.StartsWith("label folders", root.GetProperty("data_layout").GetString(), StringComparison.Ordinal);
        Assert.Contains("4 of 20 anomaly, 4 of 20 normal (--test-fraction 0.2, --seed 3)", root.GetProperty("held_out").GetString(), StringComparison.Ordinal);

        // Evaluate: every image by default; the held-out part with the same --test-fraction and --seed.
        var all = Run("evaluate", "--model", model, "--data", data, "--json");
        Assert.True(all.Code == 0, all.Err);
        Assert.Equal(40, JsonDocument.Parse(all.Out).RootElement.GetProperty("images").GetInt32());
        var heldOut = Run("evaluate", "--model", model, "--data", data, "--test-fraction", "0.2", "--seed", "3");
        Assert.True(heldOut.Code == 0, heldOut.Err);
        Assert.Contains("held out for testing: 4 of 20 anomaly, 4 of 20 normal", heldOut.Out, StringComparison.Ordinal);
        Assert.Contains("images      8 (4 defective)", heldOut.Out, StringComparison.Ordinal);

        // --test-fraction 0 trains on every image; a data set with its own test part refuses a fraction.
        var every = Run("train", "--data", data, "--out", Path.Combine(_dir, "every.ddmodel"), "--test-fraction", "0", "--json");
        Assert.True(every.Code == 0, every.Err);
        Assert.Equal(40, JsonDocument.Parse(every.Out).RootElement.GetProperty("training").GetProperty("images").GetInt32());
        var own = Run("train", "--data", Mvtec(), "--task", "variation", "--out", Path.Combine(_dir, "own.ddmodel"), "--test-fraction", "0.3");
        Assert.Equal(2, own.Code);
        Assert.Contains("--test-fraction", own.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void AFolderOfGoodImagesNamedAnythingTrainsWithMixedSizesFormatsAndExifTurns()
    {
        for (int i = 0; i < 10; i++)
        {
            Texture($"good/IMG_{i:D4}", i, i);
        }

        var variation = Run("train", "--task", "variation", "--data", Path.Combine(_dir, "good"), "--out", Path.Combine(_dir, "v.ddmodel"));
        Assert.True(variation.Code == 0, variation.Err);
        var pins = Run("train", "--task", "pin-residual", "--data", Path.Combine(_dir, "good"), "--out", Path.Combine(_dir, "p.ddmodel"));
        Assert.True(pins.Code == 0, pins.Err);

        // The classifier needs two labels: the message says which it found.
        var classify = Run("train", "--data", Path.Combine(_dir, "good"), "--out", Path.Combine(_dir, "c.ddmodel"));
        Assert.Equal(2, classify.Code);
        Assert.Contains("two labels", classify.Err, StringComparison.Ordinal);
    }

    [SharedFact]
    public void AnomalyModelsTrainOnGoodImagesNamedAnythingAndOnMvtecWithItsMasks()
    {
        string backbone = SharedData.MobileNetV2Qdq;
        for (int i = 0; i < 6; i++)
        {
            Texture($"plain/photo {i}", i, i);
        }

        var plain = Run("train", "--task", "anomaly", "--data", Path.Combine(_dir, "plain"), "--backbone", backbone, "--input-size", "96", "--out", Path.Combine(_dir, "plain.ddmodel"));
        Assert.True(plain.Code == 0, plain.Err);
        Assert.Contains("data: a folder of images, all labelled normal; training on 6 normal images", plain.Out, StringComparison.Ordinal);
        Assert.Contains("set from normals only", plain.Out, StringComparison.Ordinal);

        string data = Mvtec(), model = Path.Combine(_dir, "mvtec.ddmodel");
        var train = Run("train", "--task", "anomaly", "--data", data, "--backbone", backbone, "--input-size", "96", "--out", model, "--json");
        Assert.True(train.Code == 0, train.Err);
        using (JsonDocument doc = JsonDocument.Parse(train.Out))
        {
            Assert.Equal(8, doc.RootElement.GetProperty("training_images").GetInt32());
            Assert.Equal("normals", doc.RootElement.GetProperty("threshold_from").GetString());
            Assert.Equal(6, doc.RootElement.GetProperty("test_images").GetInt32());
            Assert.StartsWith("MVTec AD", doc.RootElement.GetProperty("data_layout").GetString(), StringComparison.Ordinal);
        }

        // The test part with its ground_truth masks: pixel metrics without --masks.
        var eval = Run("evaluate", "--model", model, "--data", data, "--json");
        Assert.True(eval.Code == 0, eval.Err);
        using (JsonDocument doc = JsonDocument.Parse(eval.Out))
        {
            Assert.Equal(6, doc.RootElement.GetProperty("images").GetInt32());
            Assert.Equal(3, doc.RootElement.GetProperty("defects").GetInt32());
            Assert.True(doc.RootElement.GetProperty("pixel_auroc").GetDouble() > 0.5, eval.Out);
        }

        var anomalies = Run("train", "--task", "anomaly", "--data", data, "--backbone", backbone, "--out", Path.Combine(_dir, "x.ddmodel"), "--threshold-from", "anomalies");
        Assert.Equal(2, anomalies.Code);
        Assert.Contains("no labelled anomalies", anomalies.Err, StringComparison.Ordinal);
        var typo = Run("train", "--task", "anomaly", "--data", data, "--backbone", backbone, "--out", Path.Combine(_dir, "x.ddmodel"), "--threshold-from", "both");
        Assert.Equal(2, typo.Code);
        Assert.Contains("--threshold-from", typo.Err, StringComparison.Ordinal);

        // Label folders with anomalies: the labelled anomalies of the training part set the threshold, and it says so.
        for (int i = 0; i < 6; i++)
        {
            Texture($"labelled/good/{i}", 400 + i, 0);
            Texture($"labelled/scratch/{i}", 500 + i, 0, defect: true);
        }

        var labelled = Run("train", "--task", "anomaly", "--data", Path.Combine(_dir, "labelled"), "--backbone", backbone, "--input-size", "96", "--out", Path.Combine(_dir, "labelled.ddmodel"));
        Assert.True(labelled.Code == 0, labelled.Err);
        Assert.Contains("held out for testing: 1 of 6 good, 1 of 6 scratch", labelled.Out, StringComparison.Ordinal);
        Assert.Contains("set from labelled anomalies: best F1 over 1 held-out normal image and 5 labelled anomalies", labelled.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void BadDataIsNamedBeforeAnyWork()
    {
        string data = Mvtec();
        string Train(string folder, params string[] extra)
        {
            var run = Run(["train", "--task", "variation", "--data", folder, "--out", Path.Combine(_dir, "bad.ddmodel"), .. extra]);
            Assert.True(run.Code == 2, run.Err + run.Out);
            Assert.False(File.Exists(Path.Combine(_dir, "bad.ddmodel")));
            return run.Err;
        }

        // A missing mask, a mask of another size, an unreadable image.
        string mask = Path.Combine(data, "ground_truth", "paint", "001_mask.png");
        File.Delete(mask);
        Assert.Contains($"the mask file '{mask}' does not exist", Train(data), StringComparison.Ordinal);
        Mask("mvtec/ground_truth/paint/001_mask.png", width: 64);
        Assert.Contains("is 64x96 but its image", Train(data), StringComparison.Ordinal);
        Mask("mvtec/ground_truth/paint/001_mask.png");
        string broken = Path.Combine(data, "train", "good", "003.png");
        File.WriteAllText(broken, "not an image");
        Assert.Contains($"the image file '{broken}' cannot be read", Train(data), StringComparison.Ordinal);

        // Empty folders, and a folder that mixes file names with and without labels.
        Directory.CreateDirectory(Path.Combine(_dir, "empty", "normal"));
        Assert.Contains("hold no image files", Train(Path.Combine(_dir, "empty")), StringComparison.Ordinal);
        Directory.CreateDirectory(Path.Combine(_dir, "hollow", "train", "good"));
        Texture("hollow/test/good/000", 1, 0);
        Assert.Contains("no images to train on (MVTec AD", Train(Path.Combine(_dir, "hollow")), StringComparison.Ordinal);
        Directory.CreateDirectory(Path.Combine(_dir, "nothing"));
        Assert.Contains("holds no image files", Train(Path.Combine(_dir, "nothing")), StringComparison.Ordinal);
        Texture("mixed/normal-1", 1, 0);
        Texture("mixed/DSC_0002", 2, 0);
        string err = Train(Path.Combine(_dir, "mixed"));
        Assert.Contains("normal-1.png", err, StringComparison.Ordinal);
        Assert.Contains("DSC_0002.png", err, StringComparison.Ordinal);
    }
}
