using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Optimizer.Qdq;
using DefectDetection.Onnx.Optimizer.Rules;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Optimizer;

/// <summary>A named graph rewrite. It first checks every condition of a match, then changes the graph; it never
/// removes or renames a graph output.</summary>
internal interface IGraphRewrite
{
    string Name { get; }

    /// <summary>Applies the rewrite everywhere it matches; returns the number of matches rewritten.</summary>
    int Apply(OnnxGraph graph, GraphIndex index);
}

/// <summary>Applies the rewrites enabled in <see cref="OnnxSessionOptions"/>, in a fixed order, then removes dead nodes.</summary>
internal static class GraphOptimizer
{
    public static OnnxGraph Optimize(OnnxGraph graph, OnnxSessionOptions options, IntraOpThreadPool? pool)
    {
        var rewrites = new List<IGraphRewrite>();
        if (options.EnableQdqFusion)
        {
            rewrites.Add(new QdqFusion());
        }

        if (options.EnableConstantFolding)
        {
            rewrites.Add(new ConstantFolding());
        }

        if (options.EnableQdqFusion)
        {
            // After folding, so that biases computed from constants (Reshape of an initializer) are constant.
            rewrites.Add(new IntegerToFloatFusion());
        }

        if (options.EnableConvBatchNormFusion)
        {
            rewrites.Add(new ConvBatchNormFusion());
        }

        if (options.EnableActivationFusion)
        {
            rewrites.Add(new ActivationFusion());
        }

        foreach (IGraphRewrite rewrite in rewrites)
        {
            var index = new GraphIndex(graph);
            int count = rewrite.Apply(graph, index);
            if (count > 0)
            {
                graph.AppliedRewrites[rewrite.Name] = count;
                RemoveDeadNodes(graph);
            }
        }

        return graph;
    }

    /// <summary>Removes nodes none of whose outputs is used (directly or through other nodes) by a graph output, and
    /// unused initializers. One walk back from the graph outputs (a dead chain of any length costs its length).</summary>
    public static void RemoveDeadNodes(OnnxGraph graph)
    {
        var producer = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
        foreach (GraphNode n in graph.Nodes)
        {
            foreach (string o in n.Outputs)
            {
                if (o.Length > 0)
                {
                    producer[o] = n;
                }
            }
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        var live = new HashSet<GraphNode>();
        var pending = new Stack<string>(graph.Outputs.Select(o => o.Name));
        while (pending.Count > 0)
        {
            string name = pending.Pop();
            if (!used.Add(name) || !producer.TryGetValue(name, out GraphNode? n) || !live.Add(n))
            {
                continue;
            }

            foreach (string i in n.Inputs)
            {
                pending.Push(i);
            }
        }

        graph.Nodes = graph.Nodes.Where(live.Contains).ToList();
        foreach (string k in graph.Initializers.Keys.ToList())
        {
            if (!used.Contains(k))
            {
                graph.Initializers.Remove(k);
            }
        }
    }
}

/// <summary>Producers, consumers and constants of a graph, for matching.</summary>
internal sealed class GraphIndex
{
    private readonly OnnxGraph _graph;
    private readonly Dictionary<string, GraphNode> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<GraphNode>> _consumers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _outputs;
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);

    public GraphIndex(OnnxGraph graph)
    {
        _graph = graph;
        _outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (GraphNode n in graph.Nodes)
        {
            foreach (string o in n.Outputs)
            {
                if (o.Length > 0)
                {
                    _producer[o] = n;
                }
            }

            foreach (string i in n.Inputs)
            {
                if (i.Length == 0)
                {
                    continue;
                }

                if (!_consumers.TryGetValue(i, out List<GraphNode>? list))
                {
                    _consumers[i] = list = [];
                }

                list.Add(n);
            }
        }
    }

    public GraphNode? Producer(string name) => name.Length > 0 && _producer.TryGetValue(name, out GraphNode? n) ? n : null;

    public IReadOnlyList<GraphNode> Consumers(string name) => _consumers.TryGetValue(name, out List<GraphNode>? l) ? l : [];

    /// <summary>True for graph outputs (including extra outputs): rewrites must keep them.</summary>
    public bool IsGraphOutput(string name) => _outputs.Contains(name);

    /// <summary>An initializer, or the value of a Constant node.</summary>
    public OnnxTensor? Constant(string name)
    {
        if (name.Length == 0)
        {
            return null;
        }

        if (_graph.Initializers.TryGetValue(name, out OnnxTensor? t))
        {
            return t;
        }

        GraphNode? p = Producer(name);
        if (p is { OpType: "Constant", Domain: "" } && p.Attributes.TryGetValue("value", out NodeAttribute? a) && a.Tensor is not null)
        {
            return a.Tensor;
        }

        return null;
    }

    /// <summary>The single consumer of <paramref name="name"/> when it has exactly one and is not a graph output.</summary>
    public GraphNode? SoleConsumer(string name)
    {
        IReadOnlyList<GraphNode> c = Consumers(name);
        return c.Count == 1 && !IsGraphOutput(name) ? c[0] : null;
    }

    public string UniqueName(string hint)
    {
        string name = hint;
        int i = 0;
        while (_reserved.Contains(name) || _graph.Initializers.ContainsKey(name) || _producer.ContainsKey(name) || _graph.Inputs.Any(x => x.Name == name))
        {
            name = $"{hint}_{++i}";
        }

        _reserved.Add(name);
        return name;
    }
}
