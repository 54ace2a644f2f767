using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Kernels.Nn;

namespace DefectDetection.Onnx.Optimizer.Rules;

/// <summary>"ActivationFusion": a float Conv or Gemm whose only consumer is Relu, Clip (constant bounds), LeakyRelu,
/// Sigmoid, HardSigmoid, HardSwish or Tanh applies it in its own output loop; x * Sigmoid(x) (SiLU) is fused too.</summary>
internal sealed class ActivationFusion : IGraphRewrite
{
    public string Name => "ActivationFusion";

    public int Apply(OnnxGraph graph, GraphIndex index)
    {
        int count = 0;
        var removed = new HashSet<GraphNode>();
        foreach (GraphNode node in graph.Nodes.ToList())
        {
            if (node.OpType is not ("Conv" or "Gemm") || node.Domain.Length != 0 || node.FusionData is not null || removed.Contains(node))
            {
                continue;
            }

            string y = node.Outputs[0];
            if (index.IsGraphOutput(y))
            {
                continue;
            }

            IReadOnlyList<GraphNode> consumers = index.Consumers(y);
            if (consumers.Count == 2 && TrySiLU(index, y, consumers, out GraphNode? sigmoid, out GraphNode? mul))
            {
                node.FusionData = new FusedActivationInfo(new ActivationParams(FusedActivation.Silu), false);
                node.Outputs[0] = mul!.Outputs[0];
                removed.Add(sigmoid!);
                removed.Add(mul);
                count++;
                continue;
            }

            if (consumers.Count != 1)
            {
                continue;
            }

            GraphNode act = consumers[0];
            ActivationParams? p = Match(act, index);
            if (p is null || act.Input(0) != y)
            {
                continue;
            }

            node.FusionData = new FusedActivationInfo(p.Value, false);
            node.Outputs[0] = act.Outputs[0];
            removed.Add(act);
            count++;
        }

        graph.Nodes = graph.Nodes.Where(n => !removed.Contains(n)).ToList();
        return count;
    }

    private static bool TrySiLU(GraphIndex index, string y, IReadOnlyList<GraphNode> consumers, out GraphNode? sigmoid, out GraphNode? mul)
    {
        sigmoid = consumers.FirstOrDefault(c => c.OpType == "Sigmoid" && c.Domain.Length == 0);
        mul = consumers.FirstOrDefault(c => c.OpType == "Mul" && c.Domain.Length == 0);
        if (sigmoid is null || mul is null || index.IsGraphOutput(sigmoid.Outputs[0]))
        {
            return false;
        }

        string s = sigmoid.Outputs[0];
        return index.SoleConsumer(s) == mul
            && ((mul.Input(0) == y && mul.Input(1) == s) || (mul.Input(0) == s && mul.Input(1) == y));
    }

    private static ActivationParams? Match(GraphNode act, GraphIndex index)
    {
        if (act.Domain.Length != 0)
        {
            return null;
        }

        switch (act.OpType)
        {
            case "Relu": return ActivationParams.Relu;
            case "Sigmoid": return new ActivationParams(FusedActivation.Sigmoid);
            case "Tanh": return new ActivationParams(FusedActivation.Tanh);
            case "HardSwish": return new ActivationParams(FusedActivation.HardSwish);
            case "LeakyRelu": return new ActivationParams(FusedActivation.LeakyRelu, act.GetFloat("alpha", 0.01f));
            case "HardSigmoid": return new ActivationParams(FusedActivation.HardSigmoid, act.GetFloat("alpha", 0.2f), act.GetFloat("beta", 0.5f));
            case "Clip":
                {
                    float min = act.GetFloat("min", float.MinValue), max = act.GetFloat("max", float.MaxValue);
                    if (act.Opset >= 11)
                    {
                        OnnxTensor? lo = act.HasInput(1) ? index.Constant(act.Input(1)) : null;
                        OnnxTensor? hi = act.HasInput(2) ? index.Constant(act.Input(2)) : null;
                        if ((act.HasInput(1) && lo is not OnnxTensor<float> { Length: 1 }) || (act.HasInput(2) && hi is not OnnxTensor<float> { Length: 1 }))
                        {
                            return null;
                        }

                        min = (lo as OnnxTensor<float>)?.Data[0] ?? float.MinValue;
                        max = (hi as OnnxTensor<float>)?.Data[0] ?? float.MaxValue;
                    }

                    return ActivationParams.Clip(min, max);
                }

            default:
                return null;
        }
    }
}
