using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Testing;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Vision.Tests.Roi;

public sealed class OnnxDetectorRoiDetectorTests
{
    [SharedTheory]
    [InlineData("coco-000000000285")]
    [InlineData("coco-000000000724")]
    [InlineData("coco-000000000785")]
    public void YoloxNanoReproducesTheReferenceDetectionsFromTheJpeg(string sample)
    {
        // End to end with our JPEG decoder, letterbox, ONNX engine and decoding; reference.json holds ONNX Runtime's
        // decoded detections.
        string dir = SharedData.PathOf("models", "yolox-nano");
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reference.json")));
        JsonElement expected = reference.RootElement.GetProperty("samples").GetProperty(sample).GetProperty("detections");

        using OnnxDetectorRoiDetector detector = new(Path.Combine(dir, "yolox-nano.onnx"), new OnnxDetectorOptions { Threads = 2 });
        using Image image = ImageCodecs.Load(Path.Combine(dir, "samples", sample + ".jpg"));
        IReadOnlyList<Detection> found = detector.DetectObjects(image);

        Assert.Equal(expected.GetArrayLength(), found.Count);
        foreach (JsonElement e in expected.EnumerateArray())
        {
            float[] box = [.. e.GetProperty("box").EnumerateArray().Select(v => v.GetSingle())];
            Detection ours = Assert.Single(found, d => d.ClassId == e.GetProperty("class").GetInt32());
            Detection theirs = new(box[0], box[1], box[2], box[3], ours.ClassId, e.GetProperty("score").GetSingle());
            Assert.True(ours.IoU(theirs) >= 0.9f, $"{sample}: IoU {ours.IoU(theirs):F3} with the reference box");
            Assert.Equal(theirs.Score, ours.Score, 0.02f);
        }
    }
}
