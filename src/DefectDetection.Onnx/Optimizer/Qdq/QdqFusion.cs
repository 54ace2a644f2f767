using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels;

namespace DefectDetection.Onnx.Optimizer.Qdq;

/// <summary>
/// "QdqFusion": rewrites QDQ patterns to integer kernels.
/// DQ(x) + DQ(w) [+ float or DQ(int32) bias] -> Conv -> Q  =>  QLinearConv (int32 accumulation, requantisation);
/// DQ(a) + DQ(b) -> MatMul -> Q  =>  QLinearMatMul;
/// DQ(a) + DQ(b) [+ bias] -> Gemm [-> Q]  =>  com.microsoft QGemm (requantised, or float output without Q);
/// DQ(a) + DQ(b) -> Add -> Q  =>  com.microsoft QLinearAdd.
/// Conditions: constant scalar activation scales and zero points, constant weights with per-tensor or per-output-channel
/// scales, an intermediate float tensor used only by the Q and not a graph output.
/// </summary>
internal sealed class QdqFusion : IGraphRewrite
{
    public string Name => "QdqFusion";

    public int Apply(OnnxGraph graph, GraphIndex index)
    {
        int count = 0;
        var removed = new HashSet<GraphNode>();
        var added = new List<(GraphNode Anchor, GraphNode Node)>();
        foreach (GraphNode node in graph.Nodes)
        {
            if (node.Domain.Length != 0 || removed.Contains(node))
            {
                continue;
            }

            GraphNode? fused = node.OpType switch
            {
                "Conv" => FuseConv(graph, index, node, removed),
                "MatMul" => FuseMatMul(graph, index, node, removed),
                "Gemm" => FuseGemm(graph, index, node, removed),
                "Add" => FuseAdd(index, node, removed),
                _ => null,
            };
            if (fused is not null)
            {
                added.Add((node, fused));
                count++;
            }
        }

        if (count > 0)
        {
            var replacement = added.ToDictionary(a => a.Anchor, a => a.Node);
            graph.Nodes = graph.Nodes.Where(n => !removed.Contains(n) || replacement.ContainsKey(n))
                .Select(n => replacement.TryGetValue(n, out GraphNode? r) ? r : n).ToList();
            graph.SortTopologically();
        }

        return count;
    }

    private sealed record Dq(GraphNode Node, string Quantized, string Scale, string ZeroPoint, OnnxTensor ScaleValue, OnnxTensor? ZeroPointValue);

    private static Dq? MatchDq(GraphIndex index, string name, bool allowPerAxis)
    {
        GraphNode? p = index.Producer(name);
        if (p is not { OpType: "DequantizeLinear", Domain: "" } || p.GetInt("block_size", 0) != 0)
        {
            return null;
        }

        OnnxTensor? scale = index.Constant(p.Input(1));
        OnnxTensor? zp = p.HasInput(2) ? index.Constant(p.Input(2)) : null;
        if (scale is not OnnxTensor<float> || (p.HasInput(2) && zp is null) || (scale.Length != 1 && !allowPerAxis))
        {
            return null;
        }

        if (zp is not null && zp.ElementType is not (TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Int32))
        {
            return null;
        }

        if (zp is not null && zp.Length != scale.Length)
        {
            return null;
        }

        return new Dq(p, p.Input(0), p.Input(1), p.Input(2), scale, zp);
    }

    /// <summary>The Q consuming <paramref name="y"/> alone: (node, scale, zero point), with scalar constants.</summary>
    private static GraphNode? MatchQ(GraphIndex index, string y)
    {
        GraphNode? q = index.SoleConsumer(y);
        if (q is not { OpType: "QuantizeLinear", Domain: "" } || q.Input(0) != y || q.GetInt("block_size", 0) != 0)
        {
            return null;
        }

        OnnxTensor? s = index.Constant(q.Input(1));
        OnnxTensor? z = q.HasInput(2) ? index.Constant(q.Input(2)) : null;
        if (s is not OnnxTensor<float> { Length: 1 } || !q.HasInput(2) || z is not { Length: 1 } || z.ElementType is not (TensorElementType.UInt8 or TensorElementType.Int8))
        {
            return null;
        }

        return q;
    }

    private static bool IsActivation(Dq? dq, GraphIndex index) => dq is not null && dq.ScaleValue.Length == 1
        && (dq.ZeroPointValue is null || dq.ZeroPointValue.ElementType is TensorElementType.UInt8 or TensorElementType.Int8);

    private static bool IsWeight(Dq? dq, GraphIndex index, int channels, int axis)
    {
        if (dq is null || index.Constant(dq.Quantized) is not { } w || w.ElementType is not (TensorElementType.UInt8 or TensorElementType.Int8))
        {
            return false;
        }

        if (dq.ZeroPointValue is not null && dq.ZeroPointValue.ElementType != w.ElementType)
        {
            return false;
        }

        if (dq.ScaleValue.Length == 1)
        {
            return true;
        }

        long a = dq.Node.GetInt("axis", 1);
        if (a < 0)
        {
            a += w.Rank;
        }

        return dq.ScaleValue.Length == channels && a == axis;
    }

    /// <summary>Quantises a float bias to int32 with scale sA * sW[c] (float32 division, round half to even).</summary>
    private static OnnxTensor<int>? QuantizeBias(OnnxTensor? bias, Dq a, Dq w, int channels, GraphIndex index, string biasName)
    {
        if (bias is null)
        {
            // Maybe DQ(int32 bias).
            Dq? bdq = MatchDq(index, biasName, true);
            if (bdq is null || index.Constant(bdq.Quantized) is not OnnxTensor<int> bq || bq.Length != channels)
            {
                return null;
            }

            var f = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                f[c] = (bq.Data[c] - (bdq.ZeroPointValue is null ? 0 : ZeroPoint(bdq.ZeroPointValue, c))) * Scale(bdq.ScaleValue, c);
            }

            bias = new OnnxTensor<float>(f, [channels]);
        }

        if (bias is not OnnxTensor<float> b || b.Length != channels)
        {
            return null;
        }

        var q = new int[channels];
        float sa = Scale(a.ScaleValue, 0);
        for (int c = 0; c < channels; c++)
        {
            // float32 arithmetic, as ONNX Runtime's BiasQuantization (Mul, Div, Round, Cast) does it.
            float s = sa * Scale(w.ScaleValue, c);
            float v = s == 0 ? 0 : MathF.Round(b.Data[c] / s, MidpointRounding.ToEven);
            if (v is > int.MaxValue or < int.MinValue)
            {
                return null;
            }

            q[c] = (int)v;
        }

        return new OnnxTensor<int>(q, [channels]);
    }

    private static float Scale(OnnxTensor s, int i) => ((OnnxTensor<float>)s).Data[s.Length == 1 ? 0 : i];

    private static int ZeroPoint(OnnxTensor z, int i)
    {
        int k = z.Length == 1 ? 0 : i;
        return z switch
        {
            OnnxTensor<byte> b => b.Data[k],
            OnnxTensor<sbyte> s => s.Data[k],
            OnnxTensor<int> n => n.Data[k],
            _ => 0,
        };
    }

    private static GraphNode? FuseConv(OnnxGraph graph, GraphIndex index, GraphNode conv, HashSet<GraphNode> removed)
    {
        Dq? x = MatchDq(index, conv.Input(0), false);
        OnnxTensor? wq = x is null ? null : index.Constant(MatchDq(index, conv.Input(1), true)?.Quantized ?? "");
        if (!IsActivation(x, index) || wq is null || wq.Rank is not (3 or 4))
        {
            return null;
        }

        Dq w = MatchDq(index, conv.Input(1), true)!;
        int m = wq.Dimensions[0];
        if (!IsWeight(w, index, m, 0) || index.IsGraphOutput(conv.Outputs[0]))
        {
            return null;
        }

        GraphNode? q = MatchQ(index, conv.Outputs[0]);
        if (q is null)
        {
            return null;
        }

        OnnxTensor<int>? bias = null;
        if (conv.HasInput(2))
        {
            bias = QuantizeBias(index.Constant(conv.Input(2)), x!, w, m, index, conv.Input(2));
            if (bias is null)
            {
                return null;
            }
        }

        // All conditions hold.
        var fused = new GraphNode
        {
            Name = conv.Name + "_qlinear",
            OpType = "QLinearConv",
            Domain = "",
            Opset = Math.Max(conv.Opset, 10),
            Inputs = [x!.Quantized, x.Scale, x.ZeroPoint, w.Quantized, w.Scale, w.ZeroPoint, q.Input(1), q.Input(2), ""],
            Outputs = [q.Outputs[0]],
            Attributes = new Dictionary<string, NodeAttribute>(conv.Attributes, StringComparer.Ordinal),
        };
        if (bias is not null)
        {
            string name = index.UniqueName(conv.Name + "_bias_int32");
            graph.Initializers[name] = bias;
            fused.Inputs[8] = name;
        }

        removed.Add(conv);
        removed.Add(q);
        return fused;
    }

    private static GraphNode? FuseMatMul(OnnxGraph graph, GraphIndex index, GraphNode mm, HashSet<GraphNode> removed)
    {
        Dq? a = MatchDq(index, mm.Input(0), false);
        Dq? b = MatchDq(index, mm.Input(1), true);
        OnnxTensor? bq = b is null ? null : index.Constant(b.Quantized);
        if (!IsActivation(a, index) || bq is null || bq.Rank != 2 || !IsWeight(b, index, bq.Dimensions[1], 1) || index.IsGraphOutput(mm.Outputs[0]))
        {
            return null;
        }

        GraphNode? q = MatchQ(index, mm.Outputs[0]);
        if (q is null)
        {
            return null;
        }

        removed.Add(mm);
        removed.Add(q);
        return new GraphNode
        {
            Name = mm.Name + "_qlinear",
            OpType = "QLinearMatMul",
            Domain = "",
            Opset = Math.Max(mm.Opset, 10),
            Inputs = [a!.Quantized, a.Scale, a.ZeroPoint, b!.Quantized, b.Scale, b.ZeroPoint, q.Input(1), q.Input(2)],
            Outputs = [q.Outputs[0]],
        };
    }

    private static GraphNode? FuseGemm(OnnxGraph graph, GraphIndex index, GraphNode gemm, HashSet<GraphNode> removed)
    {
        if (gemm.GetInt("transA", 0) != 0 || gemm.GetFloat("alpha", 1f) != 1f || gemm.GetFloat("beta", 1f) != 1f)
        {
            return null;
        }

        bool transB = gemm.GetInt("transB", 0) != 0;
        Dq? a = MatchDq(index, gemm.Input(0), false);
        Dq? b = MatchDq(index, gemm.Input(1), true);
        OnnxTensor? bq = b is null ? null : index.Constant(b.Quantized);
        if (!IsActivation(a, index) || bq is null || bq.Rank != 2)
        {
            return null;
        }

        int n = transB ? bq.Dimensions[0] : bq.Dimensions[1];
        if (!IsWeight(b, index, n, transB ? 0 : 1))
        {
            return null;
        }

        OnnxTensor<int>? bias = null;
        if (gemm.HasInput(2))
        {
            bias = QuantizeBias(index.Constant(gemm.Input(2)), a!, b!, n, index, gemm.Input(2));
            if (bias is null)
            {
                return null;
            }
        }

        GraphNode? q = index.IsGraphOutput(gemm.Outputs[0]) ? null : MatchQ(index, gemm.Outputs[0]);
        var fused = new GraphNode
        {
            Name = gemm.Name + "_qgemm",
            OpType = "QGemm",
            Domain = KernelRegistry.MicrosoftDomain,
            Opset = 1,
            Inputs = [a!.Quantized, a.Scale, a.ZeroPoint, b!.Quantized, b.Scale, b.ZeroPoint, "", q?.Input(1) ?? "", q?.Input(2) ?? ""],
            Outputs = [q?.Outputs[0] ?? gemm.Outputs[0]],
        };
        fused.Attributes["transB"] = new NodeAttribute { Name = "transB", Kind = AttributeKind.Int, Int = transB ? 1 : 0 };
        if (bias is not null)
        {
            string name = index.UniqueName(gemm.Name + "_bias_int32");
            graph.Initializers[name] = bias;
            fused.Inputs[6] = name;
        }

        removed.Add(gemm);
        if (q is not null)
        {
            removed.Add(q);
        }

        return fused;
    }

    private static GraphNode? FuseAdd(GraphIndex index, GraphNode add, HashSet<GraphNode> removed)
    {
        Dq? a = MatchDq(index, add.Input(0), false);
        Dq? b = MatchDq(index, add.Input(1), false);
        if (!IsActivation(a, index) || !IsActivation(b, index) || index.IsGraphOutput(add.Outputs[0]))
        {
            return null;
        }

        GraphNode? q = MatchQ(index, add.Outputs[0]);
        if (q is null)
        {
            return null;
        }

        removed.Add(add);
        removed.Add(q);
        return new GraphNode
        {
            Name = add.Name + "_qlinear",
            OpType = "QLinearAdd",
            Domain = KernelRegistry.MicrosoftDomain,
            Opset = 1,
            Inputs = [a!.Quantized, a.Scale, a.ZeroPoint, b!.Quantized, b.Scale, b.ZeroPoint, q.Input(1), q.Input(2)],
            Outputs = [q.Outputs[0]],
        };
    }
}
