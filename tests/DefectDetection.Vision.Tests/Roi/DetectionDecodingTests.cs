using System.Runtime.InteropServices;
using System.Text.Json;
using DefectDetection.Testing;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Vision.Tests.Roi;

public sealed class DetectionDecodingTests
{
    [SharedFact]
    public void YoloxRawOutputOfOnnxRuntimeDecodesToTheReferenceDetections()
    {
        // ONNX Runtime's raw output for the bear sample; reference.json gives the decoded detections.
        string dir = SharedData.PathOf("models", "yolox-nano");
        float[] output = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "samples", "coco-000000000285.output.f32"))).ToArray();
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reference.json")));
        JsonElement expected = reference.RootElement.GetProperty("samples").GetProperty("coco-000000000285").GetProperty("detections");

        List<Detection> candidates = DetectionDecoding.Decode(DetectionOutputLayout.YoloxRaw, output, [3549, 85], 416, 416, 0.3f);
        List<Detection> kept = DetectionDecoding.NonMaxSuppression(candidates, 0.45f);

        // The image is 586x640: letterbox scale = min(416/586, 416/640) = 0.65.
        float scale = Math.Min(416f / 586, 416f / 640);
        Assert.Equal(expected.GetArrayLength(), kept.Count);
        for (int i = 0; i < kept.Count; i++)
        {
            JsonElement e = expected[i];
            Detection d = kept[i];
            Assert.Equal(e.GetProperty("class").GetInt32(), d.ClassId);
            Assert.Equal(e.GetProperty("score").GetSingle(), d.Score, 0.001f);
            float[] box = [.. e.GetProperty("box").EnumerateArray().Select(v => v.GetSingle())];
            Assert.Equal(box[0], d.X1 / scale, 0.1f);
            Assert.Equal(box[1], d.Y1 / scale, 0.1f);
            Assert.Equal(box[2], d.X2 / scale, 0.1f);
            Assert.Equal(box[3], d.Y2 / scale, 0.1f);
        }
    }

    [Fact]
    public void YoloV8ColumnsAndV5RowsDecodeTheSameBox()
    {
        // One box at centre (50, 40), size 20x10, class 1 with 0.9.
        // YOLOv8 exports [4 + classes, anchors] with more anchors than channels: here 8 anchors, only the first set.
        float[] v8 = new float[6 * 8];
        float[] col0 = [50, 40, 20, 10, 0.1f, 0.9f];
        for (int c = 0; c < 6; c++)
        {
            v8[c * 8] = col0[c];
        }

        List<Detection> a = DetectionDecoding.Decode(DetectionOutputLayout.YoloV8, v8, [6, 8], 0, 0, 0.5f);
        float[] v5 = [50, 40, 20, 10, 1f, 0.1f, 0.9f, 0, 0, 0, 0, 0, 0, 0];
        List<Detection> b = DetectionDecoding.Decode(DetectionOutputLayout.YoloV5, v5, [2, 7], 0, 0, 0.5f);
        Detection expected = new(40, 35, 60, 45, 1, 0.9f);
        Assert.Equal(expected, Assert.Single(a));
        Assert.Equal(expected, Assert.Single(b));
    }

    [Fact]
    public void NmsKeepsTheBestBoxPerClassAndOverlappingBoxesOfOtherClasses()
    {
        Detection[] d =
        [
            new(0, 0, 10, 10, 0, 0.8f),
            new(1, 1, 11, 11, 0, 0.9f),   // IoU with the first = 81/119 = 0.68
            new(1, 1, 11, 11, 1, 0.7f),   // other class
            new(20, 20, 30, 30, 0, 0.5f),
        ];
        List<Detection> kept = DetectionDecoding.NonMaxSuppression(d, 0.45f);
        Assert.Equal([d[1], d[2], d[3]], kept);
        Assert.Equal([d[1], d[3]], DetectionDecoding.NonMaxSuppression(d, 0.45f, perClass: false));
    }

    [Fact]
    public void MismatchedShapesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => DetectionDecoding.Decode(DetectionOutputLayout.YoloxRaw, new float[85 * 10], [10, 85], 416, 416, 0.3f));
        Assert.Throws<ArgumentException>(() => DetectionDecoding.Decode(DetectionOutputLayout.YoloV5, new float[10], [3, 7], 0, 0, 0.3f));
    }
}
