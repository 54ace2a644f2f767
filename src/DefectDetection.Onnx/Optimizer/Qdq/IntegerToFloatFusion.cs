using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels;

namespace DefectDetection.Onnx.Optimizer.Qdq;

/// <summary>
/// "IntegerToFloatFusion" (switched with <see cref="OnnxSessionOptions.EnableQdqFusion"/>): in dynamically quantised
/// models, ConvInteger/MatMulInteger -> Cast(float) -> Mul(scale) [-> Add(constant bias)] [-> Clip(constant bounds) or
/// Relu] becomes ConvInteger/MatMulInteger -> one IntegerToFloat node (one pass instead of up to four).
/// </summary>
internal sealed class IntegerToFloatFusion : IGraphRewrite
{
    public string Name => "IntegerToFloatFusion";

    public int Apply(OnnxGraph graph, GraphIndex index)
    {
        int count = 0;
        var removed = new HashSet<GraphNode>();
        var replacements = new Dictionary<GraphNode, GraphNode>();
        foreach (GraphNode producer in graph.Nodes)
        {
            if (producer.OpType is not ("ConvInteger" or "MatMulInteger") || producer.Domain.Length != 0)
            {
                continue;
            }

            GraphNode? cast = index.SoleConsumer(producer.Outputs[0]);
            if (cast is not { OpType: "Cast", Domain: "" } || cast.GetInt("to", 0) != (long)TensorElementType.Float32 || removed.Contains(cast))
            {
                continue;
            }

            GraphNode? mul = index.SoleConsumer(cast.Outputs[0]);
            if (mul is not { OpType: "Mul", Domain: "" } || mul.Inputs.Count != 2)
            {
                continue;
            }

            string scale = mul.Input(0) == cast.Outputs[0] ? mul.Input(1) : mul.Input(0);
            var chain = new List<GraphNode> { cast, mul };
            string output = mul.Outputs[0];
            string bias = "";
            GraphNode? next = index.SoleConsumer(output);
            if (next is { OpType: "Add", Domain: "" } && next.Inputs.Count == 2)
            {
                string other = next.Input(0) == output ? next.Input(1) : next.Input(0);
                if (index.Constant(other) is OnnxTensor<float>)
                {
                    bias = other;
                    chain.Add(next);
                    output = next.Outputs[0];
                    next = index.SoleConsumer(output);
                }
            }

            float min = float.NegativeInfinity, max = float.PositiveInfinity;
            if (next is { OpType: "Relu", Domain: "" })
            {
                min = 0;
                chain.Add(next);
                output = next.Outputs[0];
            }
            else if (next is { OpType: "Clip", Domain: "" } && ClipBounds(next, index, out float lo, out float hi))
            {
                min = lo;
                max = hi;
                chain.Add(next);
                output = next.Outputs[0];
            }

            // All conditions hold: one node replaces the chain; intermediate names were single-use, not outputs.
            var fused = new GraphNode
            {
                Name = mul.Name + "_int_to_float",
                OpType = "IntegerToFloat",
                Domain = KernelRegistry.InternalDomain,
                Opset = 1,
                Inputs = [producer.Outputs[0], scale, bias],
                Outputs = [output],
            };
            if (min != float.NegativeInfinity)
            {
                fused.Attributes["min"] = new NodeAttribute { Name = "min", Kind = AttributeKind.Float, Float = min };
            }

            if (max != float.PositiveInfinity)
            {
                fused.Attributes["max"] = new NodeAttribute { Name = "max", Kind = AttributeKind.Float, Float = max };
            }

            foreach (GraphNode n in chain)
            {
                removed.Add(n);
            }

            replacements[chain[^1]] = fused;
            count++;
        }

        if (count > 0)
        {
            graph.Nodes = graph.Nodes.Where(n => !removed.Contains(n) || replacements.ContainsKey(n))
                .Select(n => replacements.TryGetValue(n, out GraphNode? r) ? r : n).ToList();
            graph.SortTopologically();
        }

        return count;
    }

    private static bool ClipBounds(GraphNode clip, GraphIndex index, out float min, out float max)
    {
        min = clip.GetFloat("min", float.NegativeInfinity);
        max = clip.GetFloat("max", float.PositiveInfinity);
        if (clip.Opset < 11)
        {
            return true;
        }

        OnnxTensor? lo = clip.HasInput(1) ? index.Constant(clip.Input(1)) : null;
        OnnxTensor? hi = clip.HasInput(2) ? index.Constant(clip.Input(2)) : null;
        if ((clip.HasInput(1) && lo is not OnnxTensor<float> { Length: 1 }) || (clip.HasInput(2) && hi is not OnnxTensor<float> { Length: 1 }))
        {
            return false;
        }

        min = (lo as OnnxTensor<float>)?.Data[0] ?? float.NegativeInfinity;
        max = (hi as OnnxTensor<float>)?.Data[0] ?? float.PositiveInfinity;
        return true;
    }
}
