using System.Text.Json;
using DefectDetection.Cli;
using DefectDetection.Imaging;
using DefectDetection.ModelFiles;
using DefectDetection.Testing;

namespace DefectDetection.Cli.Tests;

public sealed class AnomalyTaskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-anomaly-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using StringWriter o = new(), e = new();
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private void Copy(string file, string folder)
    {
        Directory.CreateDirectory(Path.Combine(_dir, folder));
        File.Copy(file, Path.Combine(_dir, folder, Path.GetFileName(file)));
    }

    [SharedFact]
    public void InputSizeFlipsAndCoresetRatioShapeTheMemoryBank()
    {
        string images = SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "training-images");
        string backbone = SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");
        for (int i = 1; i <= 3; i++)
        {
            Copy(Path.Combine(images, $"normal-{i}.jpg"), "few/normal");
        }

        int Bank(string name, params string[] extra)
        {
            string[] args = ["train", "--task", "anomaly", "--data", Path.Combine(_dir, "few"), "--backbone", backbone, "--out", Path.Combine(_dir, name + ".ddmodel"), "--json", .. extra];
            var run = Run(args);
            Assert.True(run.Code == 0, run.Err);
            using JsonDocument doc = JsonDocument.Parse(run.Out);
            return doc.RootElement.GetProperty("memory_bank_patches").GetInt32();
        }

        // With every patch kept, the bank holds 3 images x (side / 8)^2 patches (stride-8 grid), four times that with flips.
        int small = Bank("s128", "--input-size", "128", "--coreset-ratio", "1");
        Assert.Equal(3 * 16 * 16, small);
        Assert.Equal(4 * small, Bank("s128f", "--input-size", "128", "--coreset-ratio", "1", "--augment", "flips"));
        Assert.Equal(4 * small, Bank("s256", "--input-size", "256", "--coreset-ratio", "1"));
        Assert.InRange(Bank("s128h", "--input-size", "128", "--coreset-ratio", "0.5"), (small / 2) - 1, (small / 2) + 1);

        var bad = Run("train", "--task", "anomaly", "--data", Path.Combine(_dir, "few"), "--backbone", backbone, "--out", Path.Combine(_dir, "bad.ddmodel"), "--augment", "rot90");
        Assert.Equal(2, bad.Code);
        Assert.Contains("--augment", bad.Err);

        // The intensity context is stored only when it is on (readers that predate it then refuse the file).
        Bank("ctx", "--input-size", "128", "--context", "0.5");
        ModelManifest withContext = ModelPackage.ReadManifest(Path.Combine(_dir, "ctx.ddmodel"));
        ModelManifest plain = ModelPackage.ReadManifest(Path.Combine(_dir, "s128.ddmodel"));
        Assert.Equal(0.5, withContext.PatchCore!.ContextWeight);
        Assert.NotNull(withContext.PatchCore.ContextModel);
        Assert.Equal(0, plain.PatchCore!.ContextWeight);
        Assert.Null(plain.PatchCore.ContextModel);
        var negative = Run("train", "--task", "anomaly", "--data", Path.Combine(_dir, "few"), "--backbone", backbone, "--out", Path.Combine(_dir, "neg.ddmodel"), "--context", "-1");
        Assert.Equal(2, negative.Code);
        Assert.Contains("context", negative.Err, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(Path.Combine(_dir, "neg.ddmodel")));

        // Position features: stored when on, two more feature columns in the bank, a negative weight refused.
        Bank("pos", "--input-size", "128", "--coreset-ratio", "1", "--position", "3");
        ModelManifest withPosition = ModelPackage.ReadManifest(Path.Combine(_dir, "pos.ddmodel"));
        Assert.Equal(3f, withPosition.PatchCore!.PositionWeight);
        Assert.Equal(0f, plain.PatchCore.PositionWeight);
        var negativePosition = Run("train", "--task", "anomaly", "--data", Path.Combine(_dir, "few"), "--backbone", backbone, "--out", Path.Combine(_dir, "negpos.ddmodel"), "--position", "-1");
        Assert.Equal(2, negativePosition.Code);
        Assert.Contains("--position", negativePosition.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "negpos.ddmodel")));

        // Layer reduction and another input layout are stored; bad values are refused.
        Bank("bgr", "--input-size", "128", "--coreset-ratio", "1", "--layer-features", "16", "--channel-order", "bgr", "--pixel-scale", "1", "--mean", "104,117,123", "--std", "58");
        ModelManifest bgr = ModelPackage.ReadManifest(Path.Combine(_dir, "bgr.ddmodel"));
        Assert.Equal((16, "Bgr", 1f), (bgr.PatchCore!.MaxLayerFeatures, bgr.Preprocessing!.ChannelOrder, bgr.Preprocessing.Scale));
        Assert.Equal([104f, 117f, 123f], bgr.Preprocessing!.Mean);
        Assert.Equal([58f], bgr.Preprocessing.Std);
        // Image retrieval ahead of the patch search is stored.
        var nearestRun = Run(["train", "--task", "anomaly", "--data", Path.Combine(_dir, "few"), "--backbone", backbone, "--out", Path.Combine(_dir, "nearest.ddmodel"), "--json", "--input-size", "128", "--coreset-ratio", "1", "--nearest-images", "2"]);
        Assert.True(nearestRun.Code == 0, nearestRun.Err);
        using (JsonDocument doc = JsonDocument.Parse(nearestRun.Out))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("nearest_images").GetInt32());
        }

        ModelManifest nearest = ModelPackage.ReadManifest(Path.Combine(_dir, "nearest.ddmodel"));
        Assert.Equal(2, nearest.PatchCore!.NearestImages);
        foreach (string[] wrong in new[] { new[] { "--channel-order", "purple" }, ["--pixel-scale", "0"], ["--mean", "1,2"], ["--std", "0"], ["--layer-features", "-3"], ["--nearest-images", "-1"], ["--nearest-images", "many"] })
        {
            var refused = Run(["train", "--task", "anomaly", "--data", Path.Combine(_dir, "few"), "--backbone", backbone, "--out", Path.Combine(_dir, "wrong.ddmodel"), .. wrong]);
            Assert.Equal(2, refused.Code);
            Assert.Contains(wrong[0] == "--std" || wrong[0] == "--mean" ? "--mean/--std" : wrong[0], refused.Err, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_dir, "wrong.ddmodel")));
        }

        // Without --json, captured output gets one line per training stage as it completes, then the summary.
        var shown = Run("train", "--task", "anomaly", "--data", Path.Combine(_dir, "few"), "--backbone", backbone, "--out", Path.Combine(_dir, "shown.ddmodel"), "--input-size", "128");
        Assert.True(shown.Code == 0, shown.Err);
        string[] stages = shown.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains(": done in ", StringComparison.Ordinal)).Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]).ToArray();
        Assert.Equal(["features", "calibration", "coreset"], stages);
        Assert.Contains("trained on 3 normal images", shown.Out, StringComparison.Ordinal);
    }

    [SharedFact]
    public void TrainsOnCookieNormalsEvaluatesWithMasksAndWritesOverlays()
    {
        string images = SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "training-images");
        string masks = SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "mask-images");
        string backbone = SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");
        for (int i = 1; i <= 10; i++)
        {
            Copy(Path.Combine(images, $"normal-{i}.jpg"), "train/normal");
        }

        for (int i = 11; i <= 14; i++)
        {
            Copy(Path.Combine(images, $"normal-{i}.jpg"), "eval/normal");
            Copy(Path.Combine(images, $"anomaly-{i}.jpg"), "eval/anomaly");
        }

        string model = Path.Combine(_dir, "cookies.ddmodel");
        var train = Run("train", "--task", "anomaly", "--data", Path.Combine(_dir, "train"), "--backbone", backbone, "--out", model, "--json");
        Assert.True(train.Code == 0, train.Err);

        // The backbone is embedded: evaluate and predict need no --backbone.
        var eval = Run("evaluate", "--model", model, "--data", Path.Combine(_dir, "eval"), "--masks", masks, "--json");
        Assert.True(eval.Code == 0, eval.Err);
        using JsonDocument doc = JsonDocument.Parse(eval.Out);
        JsonElement r = doc.RootElement;
        Assert.Equal(8, r.GetProperty("images").GetInt32());
        Assert.True(r.GetProperty("image_auroc").GetDouble() >= 0.9, eval.Out);
        Assert.True(r.GetProperty("pixel_auroc").GetDouble() >= 0.85, eval.Out);
        Assert.True(r.GetProperty("aupro").GetDouble() > 0, eval.Out);
        Assert.Equal(0, r.GetProperty("missing_masks").GetArrayLength());

        string overlays = Path.Combine(_dir, "overlays");
        var predict = Run("predict", "--model", model, "--overlay", overlays, "--json", Path.Combine(_dir, "eval", "anomaly", "anomaly-11.jpg"));
        Assert.True(predict.Code == 0, predict.Err);
        PredictionSchema.Validate(predict.Out);
        Assert.True(File.Exists(Path.Combine(overlays, "anomaly-11.overlay.png")));
        Assert.True(File.Exists(Path.Combine(overlays, "anomaly-11.mask.png")));

        // Two images named x.jpg from two folders get x.* and x-2.*; an existing mask is kept without --overwrite.
        Copy(Path.Combine(images, "anomaly-12.jpg"), "a");
        Copy(Path.Combine(images, "normal-12.jpg"), "b");
        File.Move(Path.Combine(_dir, "a", "anomaly-12.jpg"), Path.Combine(_dir, "a", "x.jpg"));
        File.Move(Path.Combine(_dir, "b", "normal-12.jpg"), Path.Combine(_dir, "b", "x.jpg"));
        string[] twins = [Path.Combine(_dir, "a", "x.jpg"), Path.Combine(_dir, "b", "x.jpg")];
        string userMask = Path.Combine(overlays, "x-2.mask.png");
        File.WriteAllText(userMask, "the user's mask");
        var refused = Run(["predict", "--model", model, "--backbone", backbone, "--overlay", overlays, .. twins]);
        Assert.True(refused.Code == 2, refused.Err);
        Assert.Contains("--overlay", refused.Err);
        Assert.Contains(userMask, refused.Err);
        Assert.Equal("the user's mask", File.ReadAllText(userMask));
        Assert.False(File.Exists(Path.Combine(overlays, "x.overlay.png"))); // every name is claimed before the first image
        var twinsRun = Run(["predict", "--model", model, "--backbone", backbone, "--overlay", overlays, "--overwrite", .. twins]);
        Assert.True(twinsRun.Code == 0, twinsRun.Err);
        using (Image first = ImageCodecs.Load(Path.Combine(overlays, "x.overlay.png")), second = ImageCodecs.Load(Path.Combine(overlays, "x-2.overlay.png")))
        {
            Assert.NotEqual(first.Pixels.ToArray(), second.Pixels.ToArray());
        }

        ImageCodecs.Load(userMask).Dispose(); // replaced by a real mask

        // The same model as the crop classifier of a pipeline (one region: the whole photo).
        string pipeline = Path.Combine(_dir, "pipeline.json");
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new
        {
            detector = new { type = "sliding-window", tile_width = 576, tile_height = 768 },
            classifiers = new { @default = model },
        }));
        var detect = Run("detect", "--pipeline", pipeline, "--json", Path.Combine(_dir, "eval", "anomaly", "anomaly-11.jpg"), Path.Combine(_dir, "eval", "normal", "normal-11.jpg"));
        Assert.True(detect.Code == 0, detect.Err);
        using (JsonDocument d = JsonDocument.Parse(detect.Out))
        {
            // Ten training normals give a rough threshold, so the region scores are compared, not the verdicts.
            Assert.Equal(2, d.RootElement.GetArrayLength());
            Assert.Equal(1, d.RootElement[0].GetProperty("regions").GetArrayLength());
            double RegionScore(int image) => d.RootElement[image].GetProperty("regions")[0].GetProperty("score").GetDouble();
            Assert.True(RegionScore(0) > RegionScore(1), detect.Out);
        }

        PredictionSchema.Validate(detect.Out);
        byte[] predictOverlay = File.ReadAllBytes(Path.Combine(overlays, "x.overlay.png"));
        var detectTwins = Run(["detect", "--pipeline", pipeline, "--overlay", overlays, .. twins]);
        Assert.True(detectTwins.Code == 2, detectTwins.Err);
        Assert.Contains(Path.Combine(overlays, "x.overlay.png") + "' already exists", detectTwins.Err);
        Assert.Equal(predictOverlay, File.ReadAllBytes(Path.Combine(overlays, "x.overlay.png")));
        string detectOverlays = Path.Combine(_dir, "detect-overlays");
        var detectRun = Run(["detect", "--pipeline", pipeline, "--overlay", detectOverlays, .. twins]);
        Assert.True(detectRun.Code == 0, detectRun.Err);
        Assert.Equal(["x-2.overlay.png", "x.overlay.png"], Directory.GetFiles(detectOverlays).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // A mask folder without this image's mask is reported, not guessed.
        Directory.CreateDirectory(Path.Combine(_dir, "empty-masks"));
        var partial = Run("evaluate", "--model", model, "--data", Path.Combine(_dir, "eval"), "--masks", Path.Combine(_dir, "empty-masks"), "--json");
        Assert.True(partial.Code == 0, partial.Err);
        using JsonDocument doc2 = JsonDocument.Parse(partial.Out);
        Assert.Equal(4, doc2.RootElement.GetProperty("missing_masks").GetArrayLength());
    }
}
