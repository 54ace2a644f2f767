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
    public void ByDefaultGoodImagesTrainAnAnomalyModelAndLabelledOnesTheLearnerCrossValidationFavours()
    {
        string backbone = SharedData.MobileNetV2Qdq;
        for (int i = 0; i < 8; i++)
        {
            Texture($"auto/good/IMG_{i:D4}", 900 + i, 0);
            Texture($"auto/labelled/normal/{i}", 900 + i, 0);
            Texture($"auto/labelled/anomaly/{i}", 920 + i, 0, defect: true);
        }

        // No --task: a folder of good images named anything is an anomaly model's data.
        var good = Run("train", "--data", Path.Combine(_dir, "auto", "good"), "--backbone", backbone, "--input-size", "96", "--out", Path.Combine(_dir, "good.ddmodel"));
        Assert.True(good.Code == 0, good.Err);
        Assert.Contains("learner:  only good images: an anomaly model", good.Out, StringComparison.Ordinal);
        Assert.Equal(Models.Learners.PatchCore, Vision.DefectModel.LearnerOf(Path.Combine(_dir, "good.ddmodel")));

        // Labelled images: the three learners compared on out-of-fold scores, the record in --json and the model file.
        string model = Path.Combine(_dir, "auto.ddmodel");
        var labelled = Run("train", "--data", Path.Combine(_dir, "auto", "labelled"), "--backbone", backbone, "--input-size", "96", "--test-fraction", "0", "--out", model, "--json");
        Assert.True(labelled.Code == 0, labelled.Err);
        using JsonDocument doc = JsonDocument.Parse(labelled.Out);
        JsonElement choice = doc.RootElement.GetProperty("search").GetProperty("learner_choice");
        string chosen = choice.GetProperty("chosen").GetString()!;
        Assert.Equal(["classifier", "anomaly model", "combined"], choice.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.All(choice.GetProperty("candidates").EnumerateArray(), c => Assert.InRange(c.GetProperty("figures").GetProperty("roc_auc").GetDouble(), 0, 1));
        string learner = doc.RootElement.GetProperty("learner").GetString()!;
        Assert.Equal(chosen switch { "classifier" => Models.Learners.ImageClassifier, "anomaly model" => Models.Learners.PatchCore, _ => Models.Learners.Combined }, learner);
        Assert.Equal(learner, Vision.DefectModel.LearnerOf(model));

        // Without a backbone good images alone cannot train anything: the message says what would.
        var none = Run("train", "--data", Path.Combine(_dir, "auto", "good"), "--out", Path.Combine(_dir, "none.ddmodel"));
        Assert.Equal(2, none.Code);
        Assert.Contains("anomaly model, which needs --backbone", none.Err, StringComparison.Ordinal);
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
        Assert.Contains("set from labelled anomalies: best F1 over 5 normal images scored out of fold and 5 labelled anomalies", labelled.Out, StringComparison.Ordinal);
    }

    /// <summary>
    /// A Lookout for Vision export: images under <c>images/</c> and a manifest whose lines name them by s3:// URI, with
    /// the anomaly label and, for anomalies, a coloured mask; returns the manifest.
    /// </summary>
    private string LookoutManifest()
    {
        List<string> lines = [];
        for (int i = 0; i < 12; i++)
        {
            bool bad = i % 3 == 2;
            string image = Path.GetFileName(Texture($"lfv/images/photo-{i}", 600 + i, i % 2 == 0 ? 0 : 4, defect: bad));
            string line = $"{{\"source-ref\": \"s3://bucket/cookies/{image}\", \"anomaly-label\": {(bad ? 1 : 0)}";
            if (bad)
            {
                Mask($"lfv/images/mask-{i}.png");
                line += $", \"anomaly-mask-ref\": \"s3://bucket/masks/mask-{i}.png\", \"anomaly-mask-ref-metadata\": {{\"internal-color-map\": {{\"0\": {{\"class-name\": \"paint\", \"hex-color\": \"#FFFFFF\"}}}}}}";
            }

            lines.Add(line + "}");
        }

        string manifest = Path.Combine(_dir, "lfv", "train.manifest");
        File.WriteAllLines(manifest, lines);
        return manifest;
    }

    [Fact]
    public void LookoutForVisionFoldersAndManifestsReadAsTheyAre()
    {
        for (int i = 0; i < 6; i++)
        {
            Texture($"folders/train/normal/{i}", 700 + i, i);
            Texture($"folders/train/anomaly/{i}", 710 + i, i, defect: true);
            Texture($"folders/test/{(i % 2 == 0 ? "normal" : "anomaly")}/{i}", 720 + i, i, defect: i % 2 == 1);
        }

        var folders = Run("train", "--data", Path.Combine(_dir, "folders"), "--out", Path.Combine(_dir, "folders.ddmodel"), "--json");
        Assert.True(folders.Code == 0, folders.Err);
        using (JsonDocument doc = JsonDocument.Parse(folders.Out))
        {
            Assert.Equal("train/ and test/ label folders (Lookout for Vision)", doc.RootElement.GetProperty("data_layout").GetString());
            Assert.Equal(12, doc.RootElement.GetProperty("training").GetProperty("images").GetInt32());
            Assert.Equal(6, doc.RootElement.GetProperty("test").GetProperty("count").GetInt32());
        }

        string manifest = LookoutManifest(), images = Path.Combine(_dir, "lfv", "images");
        var train = Run("train", "--data", manifest, "--images", images, "--out", Path.Combine(_dir, "lfv.ddmodel"));
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("data:     Lookout for Vision / Ground Truth manifest", train.Out, StringComparison.Ordinal);
        var noFolder = Run("train", "--data", manifest, "--out", Path.Combine(_dir, "lfv2.ddmodel"));
        Assert.Equal(2, noFolder.Code);
        Assert.Contains("--images", noFolder.Err, StringComparison.Ordinal);
    }

    [SharedFact]
    public void AnAnomalyModelOnALookoutManifestTakesItsThresholdFromTheLabelledAnomaliesAndItsMasks()
    {
        string manifest = LookoutManifest(), images = Path.Combine(_dir, "lfv", "images"), model = Path.Combine(_dir, "lfv-anomaly.ddmodel");
        var train = Run("train", "--task", "anomaly", "--data", manifest, "--images", images, "--backbone", SharedData.MobileNetV2Qdq, "--input-size", "96", "--out", model);
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("training on 8 normal images and 4 labelled anomalies", train.Out, StringComparison.Ordinal);
        Assert.Contains("set from labelled anomalies: best F1 over 8 normal images scored out of fold and 4 labelled anomalies", train.Out, StringComparison.Ordinal);
        var normals = Run("train", "--task", "anomaly", "--data", manifest, "--images", images, "--backbone", SharedData.MobileNetV2Qdq, "--input-size", "96", "--out", Path.Combine(_dir, "n.ddmodel"), "--threshold-from", "normals");
        Assert.True(normals.Code == 0, normals.Err);
        Assert.Contains("set from normals only: percentile 95 of the scores of 8 normal images scored out of fold", normals.Out, StringComparison.Ordinal);

        // Evaluated on the manifest: pixel metrics from its masks, without --masks.
        var eval = Run("evaluate", "--model", model, "--data", manifest, "--images", images, "--json");
        Assert.True(eval.Code == 0, eval.Err);
        using JsonDocument doc = JsonDocument.Parse(eval.Out);
        Assert.Equal(12, doc.RootElement.GetProperty("images").GetInt32());
        Assert.Equal(JsonValueKind.Number, doc.RootElement.GetProperty("pixel_auroc").ValueKind);
        Assert.Equal(0, doc.RootElement.GetProperty("missing_masks").GetArrayLength());
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
