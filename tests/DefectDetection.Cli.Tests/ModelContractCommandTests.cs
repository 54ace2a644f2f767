using System.Text.Json;
using DefectDetection.Annotations;
using DefectDetection.Datasets;
using DefectDetection.Imaging;

namespace DefectDetection.Cli.Tests;

/// <summary>
/// The CLI on the one model contract: any model file in evaluate/predict, <c>--threshold</c>, operating points, the
/// learners that train from the CLI, pipeline detections against boxes, and pipeline files that cannot work.
/// </summary>
public sealed class ModelContractCommandTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "models", "v0.1");
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-contract-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void ThresholdChangesVerdictsWithoutRetraining_AndEvaluateListsTheOperatingPoints()
    {
        string model = Path.Combine(Fixtures, "classifier-weightfree.ddmodel");
        string bad = Path.Combine(Fixtures, "images", "test-anomaly.png"), good = Path.Combine(Fixtures, "images", "test-normal.png");
        var (code, output, err) = Run("predict", "--model", model, bad, good, "--json");
        Assert.True(code == 0, err);
        PredictionSchema.Validate(output);
        JsonElement[] rows = [.. JsonDocument.Parse(output).RootElement.EnumerateArray()];
        Assert.True(rows[0].GetProperty("is_defect").GetBoolean());
        Assert.False(rows[1].GetProperty("is_defect").GetBoolean());
        double score = rows[0].GetProperty("score").GetDouble();

        // Above the defective image's score it is judged good; below the good image's, that one is a defect.
        double above = (score + 1) / 2, below = rows[1].GetProperty("score").GetDouble() / 2;
        (code, output, err) = Run("predict", "--model", model, bad, good, "--json", "--threshold", above.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(code == 0, err);
        rows = [.. JsonDocument.Parse(output).RootElement.EnumerateArray()];
        Assert.False(rows[0].GetProperty("is_defect").GetBoolean());
        Assert.Equal(above, rows[0].GetProperty("threshold").GetDouble(), 1e-12);
        Assert.Equal(score, rows[0].GetProperty("score").GetDouble(), 1e-12);
        (code, output, _) = Run("predict", "--model", model, good, "--json", "--threshold", below.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, code);
        Assert.True(JsonDocument.Parse(output).RootElement[0].GetProperty("is_defect").GetBoolean());

        // A threshold outside the score's range names the option.
        (code, _, err) = Run("predict", "--model", model, good, "--threshold", "1.5");
        Assert.Equal(2, code);
        Assert.Contains("--threshold", err, StringComparison.Ordinal);
        (code, _, err) = Run("predict", "--model", model, good, "--threshold", "NaN");
        Assert.Equal(2, code);
        Assert.Contains("--threshold", err, StringComparison.Ordinal);

        // evaluate: operating points, and the verdicts at the given threshold.
        string data = Path.Combine(_dir, "eval");
        Directory.CreateDirectory(Path.Combine(data, "normal"));
        Directory.CreateDirectory(Path.Combine(data, "anomaly"));
        File.Copy(good, Path.Combine(data, "normal", "good.png"));
        File.Copy(bad, Path.Combine(data, "anomaly", "bad.png"));
        (code, output, err) = Run("evaluate", "--model", model, "--data", data, "--json");
        Assert.True(code == 0, err);
        JsonElement m = JsonDocument.Parse(output).RootElement;
        Assert.Equal(1.0, m.GetProperty("accuracy").GetDouble());
        Assert.Equal(1.0, m.GetProperty("image_auroc").GetDouble());
        Assert.Equal(2, m.GetProperty("operating_points").GetArrayLength());
        (code, output, _) = Run("evaluate", "--model", model, "--data", data, "--json", "--threshold", above.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, code);
        m = JsonDocument.Parse(output).RootElement;
        Assert.Equal([[1, 0], [1, 0]], m.GetProperty("confusion_matrix").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray());
        Assert.Equal(0.0, m.GetProperty("recall").GetDouble());

        // A set of one kind (the pixel-level protocol's normals only): AUROC is null, not a crash.
        Directory.Delete(Path.Combine(data, "anomaly"), recursive: true);
        (code, output, err) = Run("evaluate", "--model", model, "--data", data, "--json");
        Assert.True(code == 0, err);
        m = JsonDocument.Parse(output).RootElement;
        Assert.Equal(JsonValueKind.Null, m.GetProperty("image_auroc").ValueKind);
        Assert.Equal(JsonValueKind.Null, m.GetProperty("pr_auc").ValueKind);
        Assert.Equal(0, m.GetProperty("operating_points").GetArrayLength());
        (code, output, _) = Run("evaluate", "--model", model, "--data", data);
        Assert.Equal(0, code);
        Assert.Contains("image AUROC n/a", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAnomalyModelOnABackboneNobodyNamedTensorsForTrainsWithoutLayerNames()
    {
        // ML.NET's ResNet-18 (restoring the solution downloads it for tools/experiments/AnomalyDetection): no --layer.
        string home = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string resnet = Path.Combine(home, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.24.0", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        Assert.True(File.Exists(resnet), $"{resnet} is missing: restore the solution");
        string normals = Directory.CreateDirectory(Path.Combine(_dir, "textures", "normal")).FullName;
        for (int i = 0; i < 4; i++)
        {
            using Image t = SyntheticImages.Texture(i, 96);
            ImageCodecs.Save(t, Path.Combine(normals, $"{i}.png"));
        }

        string model = Path.Combine(_dir, "resnet.ddmodel");
        var (code, output, err) = Run("train", "--task", "anomaly", "--data", Path.Combine(_dir, "textures"), "--backbone", resnet, "--out", model, "--json",
            "--channel-order", "bgr", "--pixel-scale", "1", "--mean", "103.06,115.90,123.15", "--std", "1");
        Assert.True(code == 0, err);
        Assert.Equal(["ReLU315_Output_0", "ReLU347_Output_0"], JsonDocument.Parse(output).RootElement.GetProperty("layers").EnumerateArray().Select(e => e.GetString()));
        (code, output, err) = Run("predict", "--model", model, Path.Combine(normals, "0.png"), "--json");
        Assert.True(code == 0, err);
        PredictionSchema.Validate(output);
    }

    [Fact]
    public void TrainHelpListsEveryTask()
    {
        var (code, output, _) = Run("train", "--help");
        Assert.Equal(0, code);
        foreach (string task in new[] { "classify", "anomaly", "variation", "pin-residual", "template-difference" })
        {
            Assert.Contains(task, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void VariationTrainsFromTheCli_AndPredictLocatesTheDefect()
    {
        string normals = Directory.CreateDirectory(Path.Combine(_dir, "variation", "normal")).FullName;
        for (int i = 0; i < 8; i++)
        {
            using Image s = SyntheticImages.Pattern(10 + i, (i % 3) - 1, (i % 2) * 2);
            ImageCodecs.Save(s, Path.Combine(normals, $"{i}.png"));
        }

        string bad = Path.Combine(_dir, "bad.png");
        using (Image s = SyntheticImages.Pattern(100, 1, 1, i => SyntheticImages.Square(i, 20, 30, 6, 255)))
        {
            ImageCodecs.Save(s, bad);
        }

        string model = Path.Combine(_dir, "variation.ddmodel");
        var (code, output, err) = Run("train", "--task", "variation", "--data", Path.Combine(_dir, "variation"), "--out", model, "--json");
        Assert.True(code == 0, err);
        Assert.Equal("variation_model", JsonDocument.Parse(output).RootElement.GetProperty("learner").GetString());
        Assert.Equal(8, JsonDocument.Parse(output).RootElement.GetProperty("training_images").GetInt32());
        (code, output, err) = Run("predict", "--model", model, bad, "--json", "--overlay", Path.Combine(_dir, "overlays"));
        Assert.True(code == 0, err);
        PredictionSchema.Validate(output);
        JsonElement p = JsonDocument.Parse(output).RootElement[0];
        Assert.True(p.GetProperty("is_defect").GetBoolean());
        int[] box = [.. p.GetProperty("defects")[0].GetProperty("box").EnumerateArray().Select(v => v.GetInt32())];
        Assert.InRange(box[0], 17, 21);
        Assert.InRange(box[1], 27, 31);
        Assert.True(File.Exists(Path.Combine(_dir, "overlays", "bad.overlay.png")));
        Assert.True(File.Exists(Path.Combine(_dir, "overlays", "bad.mask.png")));

        // The same model through a pipeline with the whole-image detector: the model's located defect, in image coordinates.
        string pipeline = Path.Combine(_dir, "whole.json");
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "whole-image" }, classifiers = new { image = model } }));
        (code, output, err) = Run("detect", "--pipeline", pipeline, bad, "--json");
        Assert.True(code == 0, err);
        PredictionSchema.Validate(output);
        JsonElement d = JsonDocument.Parse(output).RootElement[0];
        Assert.True(d.GetProperty("is_defect").GetBoolean());
        Assert.Equal(box, d.GetProperty("defects")[0].GetProperty("box").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal([0, 0, 96, 80], d.GetProperty("regions")[0].GetProperty("box").EnumerateArray().Select(v => v.GetInt32()));
    }

    // A bright disc (the pin) centred with sub-pixel jitter on a dark board, noise; a defect adds a blob beside it.
    private static (Image Crop, Rectangle? Defect) Pin(Random rng, bool defect)
    {
        const int side = 48;
        Image image = Image.Create(side, side, PixelFormat.Rgb24);
        double cx = 24 + rng.NextDouble() - 0.5, cy = 24 + rng.NextDouble() - 0.5, bx = 10, by = 12;
        for (int y = 0; y < side; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = 0; x < side; x++)
            {
                bool pin = ((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) <= 64;
                bool blob = defect && ((x - bx) * (x - bx)) + ((y - by) * (y - by)) <= 9;
                byte v = (byte)Math.Clamp((pin || blob ? 210 : 40) + ((rng.NextDouble() - 0.5) * 12), 0, 255);
                row[3 * x] = v;
                row[(3 * x) + 1] = v;
                row[(3 * x) + 2] = v;
            }
        }

        return (image, defect ? Rectangle.FromEdges(6, 8, 14, 16) : null);
    }

    [Fact]
    public void PinResidualTrainsFromCropsWithVocBoxes_AndFindsTheBlob()
    {
        string crops = Directory.CreateDirectory(Path.Combine(_dir, "crops")).FullName;
        string voc = Directory.CreateDirectory(Path.Combine(_dir, "voc")).FullName;
        Random rng = new(3);
        for (int i = 0; i < 80; i++)
        {
            (Image crop, Rectangle? d) = Pin(rng, i % 5 == 2);
            using (crop)
            {
                ImageCodecs.Save(crop, Path.Combine(crops, $"pin-{i:D3}.png"));
            }

            if (d is { } box)
            {
                PascalVoc.Write(new ImageAnnotation($"pin-{i:D3}.png", 48, 48, [new LabeledBox(box, "copper")]), Path.Combine(voc, $"pin-{i:D3}.xml"));
            }
        }

        string model = Path.Combine(_dir, "pins.ddmodel");
        var (code, output, err) = Run("train", "--task", "pin-residual", "--data", crops, "--annotations", voc, "--out", model, "--json");
        Assert.True(code == 0, err);
        Assert.Equal("pin_residual", JsonDocument.Parse(output).RootElement.GetProperty("learner").GetString());

        string bad = Path.Combine(_dir, "bad-pin.png"), good = Path.Combine(_dir, "good-pin.png");
        Random test = new(99);
        (Image b, _) = Pin(test, true);
        (Image g, _) = Pin(test, false);
        using (b)
        using (g)
        {
            ImageCodecs.Save(b, bad);
            ImageCodecs.Save(g, good);
        }

        (code, output, err) = Run("predict", "--model", model, bad, good, "--json");
        Assert.True(code == 0, err);
        PredictionSchema.Validate(output);
        JsonElement[] rows = [.. JsonDocument.Parse(output).RootElement.EnumerateArray()];
        Assert.True(rows[0].GetProperty("is_defect").GetBoolean(), output);
        Assert.False(rows[1].GetProperty("is_defect").GetBoolean(), output);
        int[] found = [.. rows[0].GetProperty("defects")[0].GetProperty("box").EnumerateArray().Select(v => v.GetInt32())];
        Assert.True(Rectangle.IntersectionOverUnion(new Rectangle(found[0], found[1], found[2], found[3]), Rectangle.FromEdges(6, 8, 14, 16)) > 0.2, output);
    }

    [SharedFact]
    public void TemplateDifferenceTrainsFromADeepPcbList()
    {
        string root = SharedData.PathOf("datasets", "deeppcb");
        string[] lines = [.. File.ReadLines(Path.Combine(root, "train.txt")).Take(6)];
        foreach (string group in lines.Select(l => l.Split('/')[0]).Distinct())
        {
            Directory.CreateSymbolicLink(Path.Combine(_dir, group), Path.Combine(root, group));
        }

        string list = Path.Combine(_dir, "train.txt");
        File.WriteAllLines(list, lines);
        string model = Path.Combine(_dir, "pcb.ddmodel");
        var (code, output, err) = Run("train", "--task", "template-difference", "--data", list, "--out", model, "--json");
        Assert.True(code == 0, err);
        JsonElement r = JsonDocument.Parse(output).RootElement;
        Assert.Equal("template_difference", r.GetProperty("learner").GetString());
        Assert.Equal(6, r.GetProperty("training_images").GetInt32());

        // Six pairs of one group share no template, so predict needs the pair's template.
        DeepPcbPair pair = DeepPcbDataset.ReadList(list)[0];
        (code, _, err) = Run("predict", "--model", model, pair.TestImagePath);
        Assert.Equal(2, code);
        Assert.Contains("--reference", err, StringComparison.Ordinal);
        (code, output, err) = Run("predict", "--model", model, pair.TestImagePath, "--reference", pair.TemplateImagePath, "--json");
        Assert.True(code == 0, err);
        PredictionSchema.Validate(output);
        Assert.True(JsonDocument.Parse(output).RootElement[0].GetProperty("is_defect").GetBoolean(), output);
    }

    [Fact]
    public void PipelineFilesThatCannotWorkAreRefusedNamingTheField()
    {
        string model = Path.Combine(Fixtures, "classifier-weightfree.ddmodel");
        string image = Path.Combine(Fixtures, "images", "test-normal.png");
        string pipeline = Path.Combine(_dir, "pipeline.json");

        // A classifier keyed by a label the detector never gives.
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "sliding-window", tile_width = 48, tile_height = 48, label = "tile" }, classifiers = new { pin = model } }));
        var (code, _, err) = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, code);
        Assert.Contains("classifiers.pin", err, StringComparison.Ordinal);
        Assert.Contains("'tile'", err, StringComparison.Ordinal);

        // Tiles too small to be meant, too many tiles for the image, a board given as a template.
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "sliding-window", tile_width = 1, tile_height = 1 }, classifiers = new { @default = model } }));
        (code, _, err) = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, code);
        Assert.Contains("detector.tile_width", err, StringComparison.Ordinal);
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "sliding-window", tile_width = 8, tile_height = 8, overlap = 0.9, max_tiles = 1000 }, classifiers = new { @default = model } }));
        (code, _, err) = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, code);
        Assert.Contains("MaxTiles", err, StringComparison.Ordinal);
        string board = Path.Combine(_dir, "board.png");
        using (Image big = Image.Create(2049, 2049, PixelFormat.Gray8))
        {
            ImageCodecs.Save(big, board);
        }

        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "template-matching", template = board }, classifiers = new { @default = model } }));
        (code, _, err) = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, code);
        Assert.Contains("detector.template", err, StringComparison.Ordinal);
        Assert.Contains("2049x2049", err, StringComparison.Ordinal);

        // A template-difference pipeline given an image that is not its reference's size: exit 2 naming the image.
        string reference = Path.Combine(_dir, "reference.png");
        using (Image golden = Image.Create(64, 64, PixelFormat.Gray8))
        {
            ImageCodecs.Save(golden, reference);
        }

        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "template-difference", reference }, classifiers = new { @default = model } }));
        (code, _, err) = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, code);
        Assert.Contains(image, err, StringComparison.Ordinal);
        Assert.Contains("differ in size", err, StringComparison.Ordinal);

        // A random file as the ONNX detector, and a model file that is not one.
        string junk = Path.Combine(_dir, "junk.onnx");
        File.WriteAllBytes(junk, [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 37))]);
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "onnx-detector", model = junk }, classifiers = new { @default = model } }));
        (code, _, err) = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, code);
        Assert.Contains("junk.onnx", err, StringComparison.Ordinal);
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "sliding-window" }, classifiers = new { @default = junk } }));
        (code, _, err) = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, code);
        Assert.Contains("classifiers.default", err, StringComparison.Ordinal);

        // The threshold goes to every classifier; out of a classifier's range it names the field.
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "sliding-window", tile_width = 96, tile_height = 96 }, classifiers = new { @default = model } }));
        (code, string output, err) = Run("detect", "--pipeline", pipeline, Path.Combine(Fixtures, "images", "test-anomaly.png"), "--json");
        Assert.True(code == 0, err);
        Assert.True(JsonDocument.Parse(output).RootElement[0].GetProperty("is_defect").GetBoolean());
        (code, output, err) = Run("detect", "--pipeline", pipeline, Path.Combine(Fixtures, "images", "test-anomaly.png"), "--json", "--threshold", "0.999");
        Assert.True(code == 0, err);
        Assert.False(JsonDocument.Parse(output).RootElement[0].GetProperty("is_defect").GetBoolean());
        (code, _, err) = Run("detect", "--pipeline", pipeline, image, "--threshold", "7");
        Assert.Equal(2, code);
        Assert.Contains("classifiers.default", err, StringComparison.Ordinal);
    }

    [Fact]
    public void EvaluatePipelineScoresDetectionsAgainstVocBoxes()
    {
        // Boards with one tile of another texture; a sliding-window pipeline with the weight-free anomaly classifier
        // of the fixtures judges 96 x 96 tiles; the true box is the odd tile.
        string model = Path.Combine(Fixtures, "classifier-weightfree.ddmodel");
        string boards = Directory.CreateDirectory(Path.Combine(_dir, "boards")).FullName;
        string voc = Directory.CreateDirectory(Path.Combine(_dir, "boards-voc")).FullName;
        using Image good = ImageCodecs.Load(Path.Combine(Fixtures, "images", "test-normal.png"));
        using Image bad = ImageCodecs.Load(Path.Combine(Fixtures, "images", "test-anomaly.png"));
        for (int b = 0; b < 3; b++)
        {
            using Image board = Image.Create(192, 96, PixelFormat.Rgb24);
            for (int y = 0; y < 96; y++)
            {
                good.GetRow(y).CopyTo(board.GetRow(y)[..288]);
                (b == 1 ? good : bad).GetRow(y).CopyTo(board.GetRow(y).Slice(288, 288));
            }

            ImageCodecs.Save(board, Path.Combine(boards, $"board-{b}.png"));
            LabeledBox[] truth = b == 1 ? [] : [new LabeledBox(new Rectangle(96, 0, 96, 96), "anomaly")];
            PascalVoc.Write(new ImageAnnotation($"board-{b}.png", 192, 96, truth), Path.Combine(voc, $"board-{b}.xml"));
        }

        string pipeline = Path.Combine(_dir, "pipeline.json");
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new { detector = new { type = "sliding-window", tile_width = 96, tile_height = 96, overlap = 0 }, classifiers = new { @default = model } }));
        var (code, output, err) = Run("evaluate", "--pipeline", pipeline, "--data", boards, "--annotations", voc, "--json");
        Assert.True(code == 0, err);
        JsonElement any = JsonDocument.Parse(output).RootElement.GetProperty("any_defect");
        Assert.Equal(1.0, any.GetProperty("recall").GetDouble());
        Assert.Equal(1.0, any.GetProperty("precision").GetDouble());
        Assert.Equal(3, JsonDocument.Parse(output).RootElement.GetProperty("images").GetInt32());
    }
}
