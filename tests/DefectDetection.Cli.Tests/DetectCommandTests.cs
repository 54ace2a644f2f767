using System.Text.Json;
using DefectDetection.Cli;
using DefectDetection.Imaging;

namespace DefectDetection.Cli.Tests;

public sealed class DetectCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-detect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using StringWriter o = new(), e = new();
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    // A dark, slightly textured patch; with a bright blob when 'defect'.
    private static Image Patch(int size, bool defect, int seed)
    {
        Random rng = new(seed);
        Image image = Image.Create(size, size, PixelFormat.Gray8);
        Span<byte> px = image.Pixels;
        for (int i = 0; i < px.Length; i++)
        {
            px[i] = (byte)(40 + rng.Next(20));
        }

        if (defect)
        {
            int cx = 8 + rng.Next(size - 16), cy = 8 + rng.Next(size - 16);
            for (int y = cy - 4; y < cy + 4; y++)
            {
                image.GetRow(y).Slice(cx - 4, 8).Fill(230);
            }
        }

        return image;
    }

    [Fact]
    public void RunsAPipelineFileWithATrainedModelAndReportsTheDefectiveTile()
    {
        foreach (string label in new[] { "normal", "anomaly" })
        {
            Directory.CreateDirectory(Path.Combine(_dir, "data", label));
            for (int i = 0; i < 12; i++)
            {
                using Image patch = Patch(32, label == "anomaly", (label.Length * 100) + i);
                ImageCodecs.Save(patch, Path.Combine(_dir, "data", label, $"{i}.png"));
            }
        }

        string model = Path.Combine(_dir, "m.ddmodel");
        var train = Run("train", "--data", Path.Combine(_dir, "data"), "--task", "classify", "--out", model);
        Assert.True(train.Code == 0, train.Err);

        File.WriteAllText(Path.Combine(_dir, "pipeline.json"), """
            {
              "detector": { "type": "sliding-window", "tile_width": 32, "tile_height": 32, "overlap": 0 },
              "classifiers": { "default": "m.ddmodel" },
              "options": { "batch_size": 2 }
            }
            """);
        using Image board = Image.Create(128, 64, PixelFormat.Gray8);
        for (int ty = 0; ty < 2; ty++)
        {
            for (int tx = 0; tx < 4; tx++)
            {
                using Image patch = Patch(32, defect: tx == 2 && ty == 0, 1000 + (ty * 4) + tx);
                for (int y = 0; y < 32; y++)
                {
                    patch.GetRow(y).CopyTo(board.GetRow((ty * 32) + y).Slice(tx * 32, 32));
                }
            }
        }

        string boardPath = Path.Combine(_dir, "board.png");
        ImageCodecs.Save(board, boardPath);
        var detect = Run("detect", "--pipeline", Path.Combine(_dir, "pipeline.json"), boardPath, "--json", "--overlay", Path.Combine(_dir, "overlays"));
        Assert.True(detect.Code == 0, detect.Err);
        using JsonDocument doc = JsonDocument.Parse(detect.Out);
        JsonElement result = doc.RootElement[0];
        PredictionSchema.Validate(detect.Out);
        Assert.True(result.GetProperty("is_defect").GetBoolean());
        JsonElement[] regions = [.. result.GetProperty("regions").EnumerateArray()];
        Assert.Equal(8, regions.Length);
        JsonElement defect = Assert.Single(result.GetProperty("defects").EnumerateArray());
        Assert.Equal("anomaly", defect.GetProperty("label").GetString());
        Assert.Equal("anomaly", result.GetProperty("label").GetString());
        Assert.Equal(new[] { 64, 0, 32, 32 }, defect.GetProperty("box").EnumerateArray().Select(v => v.GetInt32()));

        // The image's confidence is the most defective region's; the defective tile is the one region judged a defect.
        JsonElement judgedDefect = Assert.Single(regions, r => r.GetProperty("is_defect").GetBoolean());
        Assert.Equal(new[] { 64, 0, 32, 32 }, judgedDefect.GetProperty("box").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(regions.Max(r => r.GetProperty("confidence").GetDouble()), result.GetProperty("confidence").GetDouble(), 1e-6);
        Assert.True(File.Exists(Path.Combine(_dir, "overlays", "board.overlay.png")));
    }

    [Fact]
    public void InvalidPipelineFilesNameTheField()
    {
        string pipeline = Path.Combine(_dir, "bad.json");
        string image = Path.Combine(_dir, "x.png");
        using (Image img = Image.Create(8, 8, PixelFormat.Gray8))
        {
            ImageCodecs.Save(img, image);
        }

        File.WriteAllText(pipeline, """{ "detector": { "type": "sliding-window", "overlap": 2 }, "classifiers": { "default": "none.ddmodel" } }""");
        var r = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, r.Code);
        Assert.Contains("detector.overlap", r.Err);

        File.WriteAllText(pipeline, """{ "detector": { "type": "sliding-window" }, "classifiers": { "default": "none.ddmodel" } }""");
        r = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, r.Code);
        Assert.Contains("classifiers.default", r.Err);

        File.WriteAllText(pipeline, """{ "detector": { "type": "magic" }, "classifiers": {} }""");
        r = Run("detect", "--pipeline", pipeline, image);
        Assert.Equal(2, r.Code);
        Assert.Contains("detector.type", r.Err);
    }
}
