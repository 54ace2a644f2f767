namespace DefectDetection.Vision.Roi;

/// <summary>How a detector network lays out its output tensor(s).</summary>
public enum DetectionOutputLayout
{
    /// <summary>
    /// YOLOX raw grid output [1, A, 5 + C] before the grid decode: per anchor point (tx, ty, tw, th, objectness,
    /// class scores), anchors over strides 8, 16, 32 in that order; objectness and class scores already sigmoid.
    /// </summary>
    YoloxRaw,

    /// <summary>YOLOv5 style [1, N, 5 + C]: decoded (cx, cy, w, h) in input pixels, objectness, class scores.</summary>
    YoloV5,

    /// <summary>YOLOv8 style [1, 4 + C, N] (or [1, N, 4 + C]): decoded (cx, cy, w, h) and class scores, no objectness.</summary>
    YoloV8,

    /// <summary>Two outputs: boxes [1, N, 4] as (x1, y1, x2, y2) in input pixels and scores [1, N, C].</summary>
    BoxesAndScores,
}

/// <summary>One detected object, in input-tensor pixels until mapped back to the image.</summary>
/// <param name="X1">Left.</param>
/// <param name="Y1">Top.</param>
/// <param name="X2">Right.</param>
/// <param name="Y2">Bottom.</param>
/// <param name="ClassId">Class index.</param>
/// <param name="Score">Confidence (objectness x class score where the layout has objectness).</param>
public readonly record struct Detection(float X1, float Y1, float X2, float Y2, int ClassId, float Score)
{
    /// <summary>Box area.</summary>
    public float Area => Math.Max(0, X2 - X1) * Math.Max(0, Y2 - Y1);

    /// <summary>Intersection over union with another detection's box.</summary>
    public float IoU(in Detection other)
    {
        float w = Math.Min(X2, other.X2) - Math.Max(X1, other.X1), h = Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }

        float inter = w * h;
        return inter / (Area + other.Area - inter);
    }
}

/// <summary>Decodes detector outputs into boxes and applies non-maximum suppression.</summary>
internal static class DetectionDecoding
{
    /// <summary>Decodes one image's output of a single-tensor layout.</summary>
    /// <param name="layout">The output layout (not <see cref="DetectionOutputLayout.BoxesAndScores"/>).</param>
    /// <param name="output">The output tensor data for one image.</param>
    /// <param name="shape">The output's shape without the batch dimension: [N, K] (or [K, N] for YOLOv8's default).</param>
    /// <param name="inputWidth">Network input width (for the YOLOX grid).</param>
    /// <param name="inputHeight">Network input height.</param>
    /// <param name="scoreThreshold">Smallest score kept.</param>
    /// <returns>Candidates above the threshold (best class per anchor), before NMS.</returns>
    public static List<Detection> Decode(DetectionOutputLayout layout, ReadOnlySpan<float> output, ReadOnlySpan<int> shape,
        int inputWidth, int inputHeight, float scoreThreshold)
    {
        if (shape.Length != 2)
        {
            throw new ArgumentException($"Expected a 2-D output per image, got rank {shape.Length}.", nameof(shape));
        }

        if ((long)shape[0] * shape[1] != output.Length)
        {
            throw new ArgumentException($"Output holds {output.Length} values, shape [{shape[0]}, {shape[1]}] needs {(long)shape[0] * shape[1]}.", nameof(output));
        }

        return layout switch
        {
            DetectionOutputLayout.YoloxRaw => DecodeYolox(output, shape[0], shape[1], inputWidth, inputHeight, scoreThreshold),
            DetectionOutputLayout.YoloV5 => DecodeRows(output, shape[0], shape[1], hasObjectness: true, scoreThreshold),
            DetectionOutputLayout.YoloV8 => shape[0] < shape[1]
                ? DecodeColumns(output, shape[0], shape[1], scoreThreshold)
                : DecodeRows(output, shape[0], shape[1], hasObjectness: false, scoreThreshold),
            _ => throw new ArgumentException($"Layout {layout} has two outputs: use DecodeBoxesAndScores.", nameof(layout)),
        };
    }

    /// <summary>Decodes the two-output layout: boxes [N, 4] (x1, y1, x2, y2) and scores [N, C].</summary>
    public static List<Detection> DecodeBoxesAndScores(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, int count, int classes, float scoreThreshold)
    {
        if (boxes.Length != count * 4 || scores.Length != count * classes)
        {
            throw new ArgumentException($"Expected {count}x4 boxes and {count}x{classes} scores, got {boxes.Length} and {scores.Length} values.");
        }

        List<Detection> result = [];
        for (int i = 0; i < count; i++)
        {
            (int c, float s) = ArgMax(scores.Slice(i * classes, classes));
            if (s >= scoreThreshold)
            {
                result.Add(new Detection(boxes[i * 4], boxes[(i * 4) + 1], boxes[(i * 4) + 2], boxes[(i * 4) + 3], c, s));
            }
        }

        return result;
    }

    /// <summary>Greedy non-maximum suppression per class: keeps the best box and drops same-class boxes overlapping it
    /// by more than <paramref name="iouThreshold"/>.</summary>
    public static List<Detection> NonMaxSuppression(IReadOnlyList<Detection> detections, float iouThreshold, bool perClass = true)
    {
        Detection[] sorted = [.. detections];
        // Stable order for equal scores: by index.
        int[] order = Enumerable.Range(0, sorted.Length).ToArray();
        Array.Sort(order, (a, b) => sorted[b].Score != sorted[a].Score ? sorted[b].Score.CompareTo(sorted[a].Score) : a.CompareTo(b));
        List<Detection> kept = [];
        foreach (int i in order)
        {
            Detection d = sorted[i];
            bool suppressed = false;
            foreach (Detection k in kept)
            {
                if ((!perClass || k.ClassId == d.ClassId) && k.IoU(d) > iouThreshold)
                {
                    suppressed = true;
                    break;
                }
            }

            if (!suppressed)
            {
                kept.Add(d);
            }
        }

        return kept;
    }

    private static List<Detection> DecodeYolox(ReadOnlySpan<float> output, int anchors, int stride, int inputWidth, int inputHeight, float threshold)
    {
        int classes = stride - 5;
        int[] strides = [8, 16, 32];
        int expected = strides.Sum(s => (inputWidth / s) * (inputHeight / s));
        if (expected != anchors)
        {
            throw new ArgumentException($"A YOLOX output for a {inputWidth}x{inputHeight} input has {expected} anchor points, this one has {anchors}.");
        }

        List<Detection> result = [];
        int index = 0;
        foreach (int s in strides)
        {
            int gw = inputWidth / s, gh = inputHeight / s;
            for (int gy = 0; gy < gh; gy++)
            {
                for (int gx = 0; gx < gw; gx++, index++)
                {
                    ReadOnlySpan<float> row = output.Slice(index * stride, stride);
                    float obj = row[4];
                    if (obj < threshold)
                    {
                        continue;
                    }

                    (int c, float cls) = ArgMax(row.Slice(5, classes));
                    float score = obj * cls;
                    if (score < threshold)
                    {
                        continue;
                    }

                    float cx = (row[0] + gx) * s, cy = (row[1] + gy) * s;
                    float w = MathF.Exp(row[2]) * s, h = MathF.Exp(row[3]) * s;
                    result.Add(new Detection(cx - (w / 2), cy - (h / 2), cx + (w / 2), cy + (h / 2), c, score));
                }
            }
        }

        return result;
    }

    private static List<Detection> DecodeRows(ReadOnlySpan<float> output, int count, int width, bool hasObjectness, float threshold)
    {
        int first = hasObjectness ? 5 : 4;
        List<Detection> result = [];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> row = output.Slice(i * width, width);
            float obj = hasObjectness ? row[4] : 1;
            if (obj < threshold)
            {
                continue;
            }

            (int c, float cls) = ArgMax(row[first..]);
            float score = obj * cls;
            if (score >= threshold)
            {
                result.Add(new Detection(row[0] - (row[2] / 2), row[1] - (row[3] / 2), row[0] + (row[2] / 2), row[1] + (row[3] / 2), c, score));
            }
        }

        return result;
    }

    private static List<Detection> DecodeColumns(ReadOnlySpan<float> output, int channels, int count, float threshold)
    {
        List<Detection> result = [];
        for (int i = 0; i < count; i++)
        {
            int best = -1;
            float score = float.MinValue;
            for (int c = 4; c < channels; c++)
            {
                float v = output[(c * count) + i];
                if (v > score)
                {
                    (score, best) = (v, c - 4);
                }
            }

            if (score < threshold)
            {
                continue;
            }

            float cx = output[i], cy = output[count + i], w = output[(2 * count) + i], h = output[(3 * count) + i];
            result.Add(new Detection(cx - (w / 2), cy - (h / 2), cx + (w / 2), cy + (h / 2), best, score));
        }

        return result;
    }

    private static (int Index, float Value) ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return (best, values.Length == 0 ? 0 : values[best]);
    }
}
