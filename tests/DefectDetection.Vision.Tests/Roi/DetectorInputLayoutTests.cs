using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Onnx;
using DefectDetection.Onnx.Tests.Helpers;
using DefectDetection.Pipeline;
using DefectDetection.Vision.PipelineFiles;

namespace DefectDetection.Vision.Tests.Roi;

/// <summary>
/// The <c>onnx-detector</c> pipeline type feeds each decoder its own input: Ultralytics' YOLOv5/v8 exports RGB scaled to
/// 0..1, YOLOX BGR 0..255. Checked with tiny detectors whose class score is the mean of their first input plane, so the
/// score shows which colour arrived there and how it was scaled.
/// </summary>
public sealed class DetectorInputLayoutTests : IDisposable
{
    private const int Side = 64, Candidates = 8;
    private readonly string _dir = Directory.CreateTempSubdirectory("detector-layout-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // YOLOv8: [1, 4 + classes, candidates], here one class whose score is mean(plane 0); every candidate the box (24, 24)-(40, 40).
    private static byte[] YoloV8() => new GraphBuilder()
        .Input("images", TensorElementType.Float32, 1, 3, Side, Side)
        .Output("output0", TensorElementType.Float32, 1, 5, Candidates)
        .Initializer("starts", [0L], 1).Initializer("ends", [1L], 1).Initializer("axes", [1L], 1)
        .Initializer("boxes", [.. Enumerable.Repeat(32f, Candidates), .. Enumerable.Repeat(32f, Candidates), .. Enumerable.Repeat(16f, Candidates), .. Enumerable.Repeat(16f, Candidates)], 1, 4, Candidates)
        .Initializer("score_shape", [1L, 1L, Candidates], 3)
        .Node("Slice", ["images", "starts", "ends", "axes"], ["plane0"])
        .Node("ReduceMean", ["plane0"], ["mean"], ("axes", new long[] { 1, 2, 3 }), ("keepdims", 1L))
        .Node("Reshape", ["mean", "one_by_one"], ["mean3"])
        .Initializer("one_by_one", [1L, 1L, 1L], 3)
        .Node("Expand", ["mean3", "score_shape"], ["scores"])
        .Node("Concat", ["boxes", "scores"], ["output0"], ("axis", 1L))
        .ToBytes();

    // YOLOv5: [1, candidates, 5 + classes]: box, objectness = mean(plane 0), one class at 1.
    private static byte[] YoloV5() => new GraphBuilder()
        .Input("images", TensorElementType.Float32, 1, 3, Side, Side)
        .Output("output0", TensorElementType.Float32, 1, Candidates, 6)
        .Initializer("starts", [0L], 1).Initializer("ends", [1L], 1).Initializer("axes", [1L], 1)
        .Initializer("boxes", [.. Enumerable.Range(0, Candidates).SelectMany(_ => new[] { 32f, 32f, 16f, 16f })], 1, Candidates, 4)
        .Initializer("class_score", [.. Enumerable.Repeat(1f, Candidates)], 1, Candidates, 1)
        .Initializer("obj_shape", [1L, Candidates, 1L], 3)
        .Initializer("one_by_one", [1L, 1L, 1L], 3)
        .Node("Slice", ["images", "starts", "ends", "axes"], ["plane0"])
        .Node("ReduceMean", ["plane0"], ["mean"], ("axes", new long[] { 1, 2, 3 }), ("keepdims", 1L))
        .Node("Reshape", ["mean", "one_by_one"], ["mean3"])
        .Node("Expand", ["mean3", "obj_shape"], ["objectness"])
        .Node("Concat", ["boxes", "objectness", "class_score"], ["output0"], ("axis", 2L))
        .ToBytes();

    private static Image Solid(byte r, byte g, byte b)
    {
        Image image = Image.Create(Side, Side, PixelFormat.Rgb24);
        Span<byte> p = image.Pixels;
        for (int i = 0; i < p.Length; i += 3)
        {
            (p[i], p[i + 1], p[i + 2]) = (r, g, b);
        }

        return image;
    }

    private IReadOnlyList<RegionOfInterest> Detect(byte[] model, string layout, Image image)
    {
        string modelPath = Path.Combine(_dir, layout + ".onnx");
        File.WriteAllBytes(modelPath, model);
        string pipeline = Path.Combine(_dir, layout + ".json");
        File.WriteAllText(pipeline, JsonSerializer.Serialize(new
        {
            detector = new { type = "onnx-detector", model = modelPath, layout, input_size = Side, score_threshold = 0.05, class_names = new[] { "part" }, threads = 1 },
            classifiers = new { },
        }));
        using PipelineDetector detector = PipelineFile.LoadDetector(pipeline);
        return detector.Detector.Detect(image.View());
    }

    [Theory]
    [InlineData("yolov8")]
    [InlineData("yolov5")]
    public void UltralyticsLayoutsGetRgbScaledToOne(string layout)
    {
        byte[] model = layout == "yolov8" ? YoloV8() : YoloV5();
        using Image red = Solid(255, 0, 0), gray = Solid(128, 128, 128), blue = Solid(0, 0, 255);
        RegionOfInterest found = Assert.Single(Detect(model, layout, red));
        Assert.Equal(1f, found.Score, 1e-5f);                 // red arrived in plane 0, scaled to 1
        Assert.Equal(new Rectangle(24, 24, 16, 16), found.Box);
        Assert.Equal(128f / 255f, Assert.Single(Detect(model, layout, gray)).Score, 1e-5f);
        Assert.Empty(Detect(model, layout, blue));            // blue is the last plane
    }

    // YOLOX raw output for a 64x64 input: [1, 84 anchor points (8x8 + 4x4 + 2x2), 5 + classes]; every point a box of one
    // cell at its own cell, objectness = mean(plane 0) / 255, one class at 1.
    private static byte[] Yolox()
    {
        const int anchors = 84;
        return new GraphBuilder()
            .Input("images", TensorElementType.Float32, 1, 3, Side, Side)
            .Output("output", TensorElementType.Float32, 1, anchors, 6)
            .Initializer("starts", [0L], 1).Initializer("ends", [1L], 1).Initializer("axes", [1L], 1)
            .Initializer("boxes", new float[anchors * 4], 1, anchors, 4)
            .Initializer("class_score", [.. Enumerable.Repeat(1f, anchors)], 1, anchors, 1)
            .Initializer("obj_shape", [1L, anchors, 1L], 3)
            .Initializer("one_by_one", [1L, 1L, 1L], 3)
            .Initializer("inverse_255", [1f / 255f], 1)
            .Node("Slice", ["images", "starts", "ends", "axes"], ["plane0"])
            .Node("ReduceMean", ["plane0"], ["mean"], ("axes", new long[] { 1, 2, 3 }), ("keepdims", 1L))
            .Node("Mul", ["mean", "inverse_255"], ["scaled"])
            .Node("Reshape", ["scaled", "one_by_one"], ["mean3"])
            .Node("Expand", ["mean3", "obj_shape"], ["objectness"])
            .Node("Concat", ["boxes", "objectness", "class_score"], ["output"], ("axis", 2L))
            .ToBytes();
    }

    [Fact]
    public void YoloxLayoutGetsBgrUnscaled()
    {
        using Image red = Solid(255, 0, 0), blue = Solid(0, 0, 255), gray = Solid(128, 128, 128);
        IReadOnlyList<RegionOfInterest> found = Detect(Yolox(), "yolox-raw", blue);
        Assert.NotEmpty(found);
        Assert.All(found, r => Assert.Equal(1f, r.Score, 1e-5f)); // blue arrived in plane 0 as 255
        Assert.All(Detect(Yolox(), "yolox-raw", gray), r => Assert.Equal(128f / 255f, r.Score, 1e-5f));
        Assert.Empty(Detect(Yolox(), "yolox-raw", red));
    }
}
