using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Optimizer.Rules;

/// <summary>"ConstantFolding": nodes whose inputs are all constant are run once (with the real kernels) and replaced
/// by initializers. Graph outputs are left to their nodes.</summary>
internal sealed class ConstantFolding : IGraphRewrite
{
    private const long MaxFoldedElements = 1 << 24;

    public string Name => "ConstantFolding";

    public int Apply(OnnxGraph graph, GraphIndex index)
    {
        int count = 0;
        var removed = new HashSet<GraphNode>();
        foreach (GraphNode node in graph.Nodes)
        {
            if (node.Outputs.Any(o => o.Length > 0 && index.IsGraphOutput(o)) || node.Outputs.All(o => o.Length == 0))
            {
                continue;
            }

            if (!node.Inputs.All(i => i.Length == 0 || graph.Initializers.ContainsKey(i)))
            {
                continue;
            }

            if (KernelRegistry.Find(node.OpType, node.Domain, node.Opset) is null)
            {
                continue;
            }

            OnnxTensor[]? results = Evaluate(graph, node);
            if (results is null)
            {
                continue;
            }

            for (int i = 0; i < node.Outputs.Count; i++)
            {
                if (node.Outputs[i].Length > 0)
                {
                    graph.Initializers[node.Outputs[i]] = results[i];
                }
            }

            removed.Add(node);
            count++;
        }

        graph.Nodes = graph.Nodes.Where(n => !removed.Contains(n)).ToList();
        return count;
    }

    /// <summary>Runs one node on constant inputs; null when the kernel refuses (it then stays in the graph).</summary>
    internal static OnnxTensor[]? Evaluate(OnnxGraph graph, GraphNode node)
    {
        var sub = new OnnxGraph { Opsets = graph.Opsets };
        foreach (string i in node.Inputs)
        {
            if (i.Length > 0)
            {
                sub.Initializers[i] = graph.Initializers[i];
            }
        }

        sub.Nodes.Add(node);
        var outputs = node.Outputs.Where(o => o.Length > 0).ToList();
        try
        {
            var core = new SessionCore(sub, new OnnxSessionOptions { IntraOpThreads = 1 }, outputs, null);
            if (!core.Kernels[0].IsDeterministic)
            {
                return null;
            }

            TensorValue[] values = core.ExecuteOnce();
            var results = new OnnxTensor[node.Outputs.Count];
            for (int i = 0; i < node.Outputs.Count; i++)
            {
                if (node.Outputs[i].Length == 0)
                {
                    continue;
                }

                TensorValue v = values[core.ValueIndex[node.Outputs[i]]];
                if (v.Length > MaxFoldedElements)
                {
                    return null;
                }

                results[i] = v.ToTensor();
            }

            return results;
        }
        catch (OnnxModelException)
        {
            return null;
        }
    }
}
