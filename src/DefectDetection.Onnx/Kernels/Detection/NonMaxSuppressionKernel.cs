using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Detection;

/// <summary>NonMaxSuppression: greedy per (batch, class) by descending score; output [selected, 3] int64 (data-dependent size).</summary>
internal sealed class NonMaxSuppressionKernel(GraphNode node) : OpKernel(node)
{
    private readonly bool _center = node.GetInt("center_point_box", 0) != 0;

    public override void Run(KernelContext ctx)
    {
        TensorValue boxes = ctx.Input(0);
        TensorValue scores = ctx.Input(1);
        long maxPerClass = ctx.OptionalInput(2) is { Length: > 0 } m ? m.GetInt64(0) : 0;
        float iouThreshold = ctx.OptionalInput(3) is { Length: > 0 } t ? t.GetFloat(0) : 0f;
        float? scoreThreshold = ctx.OptionalInput(4) is { Length: > 0 } s ? s.GetFloat(0) : null;
        if (boxes.Rank != 3 || boxes.Shape[2] != 4 || scores.Rank != 3 || scores.Shape[0] != boxes.Shape[0] || scores.Shape[2] != boxes.Shape[1])
        {
            throw Error("boxes must be [B, N, 4] and scores [B, C, N].");
        }

        int batches = boxes.Shape[0], n = boxes.Shape[1], classes = scores.Shape[1];
        ReadOnlySpan<float> bx = boxes.Span<float>();
        ReadOnlySpan<float> sc = scores.Span<float>();
        var selected = new List<(int B, int C, int I)>();
        var candidates = new List<int>();
        var kept = new List<int>();
        for (int b = 0; b < batches; b++)
        {
            for (int c = 0; c < classes; c++)
            {
                candidates.Clear();
                kept.Clear();
                int sOff = ((b * classes) + c) * n;
                for (int i = 0; i < n; i++)
                {
                    if (scoreThreshold is null || sc[sOff + i] > scoreThreshold.Value)
                    {
                        candidates.Add(i);
                    }
                }

                float[] scoreCopy = sc.Slice(sOff, n).ToArray();
                candidates.Sort((p, q) => scoreCopy[q] != scoreCopy[p] ? scoreCopy[q].CompareTo(scoreCopy[p]) : p.CompareTo(q));
                foreach (int i in candidates)
                {
                    if (maxPerClass <= 0 || kept.Count >= maxPerClass)
                    {
                        break;
                    }

                    bool keep = true;
                    foreach (int j in kept)
                    {
                        if (Iou(bx, (b * n) + i, (b * n) + j) > iouThreshold)
                        {
                            keep = false;
                            break;
                        }
                    }

                    if (keep)
                    {
                        kept.Add(i);
                        selected.Add((b, c, i));
                    }
                }
            }
        }

        TensorValue y = ctx.Output(0, TensorElementType.Int64, [selected.Count, 3]);
        Span<long> d = y.Span<long>();
        for (int i = 0; i < selected.Count; i++)
        {
            d[3 * i] = selected[i].B;
            d[(3 * i) + 1] = selected[i].C;
            d[(3 * i) + 2] = selected[i].I;
        }
    }

    private float Iou(ReadOnlySpan<float> bx, int i, int j)
    {
        (float ay0, float ax0, float ay1, float ax1) = Corners(bx.Slice(i * 4, 4));
        (float by0, float bx0, float by1, float bx1) = Corners(bx.Slice(j * 4, 4));
        float iw = MathF.Min(ax1, bx1) - MathF.Max(ax0, bx0);
        float ih = MathF.Min(ay1, by1) - MathF.Max(ay0, by0);
        if (iw <= 0 || ih <= 0)
        {
            return 0;
        }

        float inter = iw * ih;
        float union = ((ax1 - ax0) * (ay1 - ay0)) + ((bx1 - bx0) * (by1 - by0)) - inter;
        return union <= 0 ? 0 : inter / union;
    }

    private (float Y0, float X0, float Y1, float X1) Corners(ReadOnlySpan<float> b)
    {
        if (_center)
        {
            float cx = b[0], cy = b[1], w = b[2], h = b[3];
            return (cy - (h / 2), cx - (w / 2), cy + (h / 2), cx + (w / 2));
        }

        return (MathF.Min(b[0], b[2]), MathF.Min(b[1], b[3]), MathF.Max(b[0], b[2]), MathF.Max(b[1], b[3]));
    }
}
