namespace DefectDetection.Onnx.Graph;

/// <summary>Kind of an attribute value.</summary>
internal enum AttributeKind
{
    Float,
    Int,
    String,
    Tensor,
    Floats,
    Ints,
    Strings,
    Other,
}

/// <summary>One node attribute, decoded.</summary>
internal sealed class NodeAttribute
{
    public required string Name { get; init; }

    public required AttributeKind Kind { get; init; }

    public float Float { get; init; }

    public long Int { get; init; }

    public string String { get; init; } = "";

    public OnnxTensor? Tensor { get; init; }

    public float[] Floats { get; init; } = [];

    public long[] Ints { get; init; } = [];

    public string[] Strings { get; init; } = [];
}

/// <summary>A node of the graph. Missing optional inputs are empty strings.</summary>
internal sealed class GraphNode
{
    public string Name { get; set; } = "";

    public required string OpType { get; set; }

    public string Domain { get; set; } = "";

    /// <summary>The opset version in force for <see cref="Domain"/>.</summary>
    public long Opset { get; set; }

    public List<string> Inputs { get; set; } = [];

    public List<string> Outputs { get; set; } = [];

    public Dictionary<string, NodeAttribute> Attributes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Set by rewrites: data the fused kernel needs (e.g. activation), opaque to the graph.</summary>
    public object? FusionData { get; set; }

    public string Describe() => $"{OpType} '{Name}'";

    public GraphNode Clone() => new()
    {
        Name = Name,
        OpType = OpType,
        Domain = Domain,
        Opset = Opset,
        Inputs = [.. Inputs],
        Outputs = [.. Outputs],
        Attributes = new Dictionary<string, NodeAttribute>(Attributes, StringComparer.Ordinal),
        FusionData = FusionData,
    };

    public string Input(int i) => i < Inputs.Count ? Inputs[i] : "";

    public bool HasInput(int i) => i < Inputs.Count && Inputs[i].Length > 0;

    public long GetInt(string name, long fallback) => Attributes.TryGetValue(name, out NodeAttribute? a) && a.Kind == AttributeKind.Int ? a.Int : fallback;

    public float GetFloat(string name, float fallback) => Attributes.TryGetValue(name, out NodeAttribute? a) && a.Kind == AttributeKind.Float ? a.Float : fallback;

    public string GetString(string name, string fallback) => Attributes.TryGetValue(name, out NodeAttribute? a) && a.Kind == AttributeKind.String ? a.String : fallback;

    public long[]? GetInts(string name) => Attributes.TryGetValue(name, out NodeAttribute? a) && a.Kind == AttributeKind.Ints ? a.Ints : null;

    /// <summary>An int attribute the kernel keeps as <see cref="int"/>: a value outside the 32-bit range is refused,
    /// never truncated (2^32+1 would otherwise act as 1).</summary>
    /// <exception cref="OnnxModelException">The value does not fit, naming the node, operator, attribute and value.</exception>
    public int GetInt32(string name, int fallback)
        => Attributes.TryGetValue(name, out NodeAttribute? a) && a.Kind == AttributeKind.Int ? CheckInt32(name, a.Int, -1) : fallback;

    /// <summary>An ints attribute the kernel keeps as <see cref="int"/>s, each checked as in <see cref="GetInt32"/>.</summary>
    /// <exception cref="OnnxModelException">A value does not fit, naming the node, operator, attribute, position and value.</exception>
    public int[]? GetInts32(string name)
    {
        if (GetInts(name) is not { } values)
        {
            return null;
        }

        int[] result = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = CheckInt32(name, values[i], i);
        }

        return result;
    }

    public float[]? GetFloats(string name) => Attributes.TryGetValue(name, out NodeAttribute? a) && a.Kind == AttributeKind.Floats ? a.Floats : null;

    public bool HasAttribute(string name) => Attributes.ContainsKey(name);

    /// <summary>An error about this node (its name, operator, domain and opset are added to the message).</summary>
    public OnnxModelException Error(string reason) => new(reason, Name, OpType, Domain, Opset);

    private int CheckInt32(string name, long value, int position)
        => value is >= int.MinValue and <= int.MaxValue ? (int)value
            : throw Error(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Attribute '{name}'{(position >= 0 ? $"[{position}]" : "")} is {value}, outside the 32-bit range this operator supports"));
}

/// <summary>The graph: nodes in topological order, constant initializers, inputs and outputs.</summary>
internal sealed class OnnxGraph
{
    public List<GraphNode> Nodes { get; set; } = [];

    public Dictionary<string, OnnxTensor> Initializers { get; set; } = new(StringComparer.Ordinal);

    public List<TensorInfo> Inputs { get; set; } = [];

    public List<TensorInfo> Outputs { get; set; } = [];

    public Dictionary<string, TensorInfo> ValueInfo { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> Opsets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Rewrite name to the number of times it was applied.</summary>
    public Dictionary<string, int> AppliedRewrites { get; set; } = new(StringComparer.Ordinal);

    public OnnxGraph Clone() => new()
    {
        Nodes = Nodes.Select(n => n.Clone()).ToList(),
        Initializers = new Dictionary<string, OnnxTensor>(Initializers, StringComparer.Ordinal),
        Inputs = [.. Inputs],
        Outputs = [.. Outputs],
        ValueInfo = new Dictionary<string, TensorInfo>(ValueInfo, StringComparer.Ordinal),
        Opsets = new Dictionary<string, long>(Opsets, StringComparer.Ordinal),
    };

    /// <summary>Sorts <see cref="Nodes"/> topologically (stable); throws on cycles or undefined inputs.</summary>
    public void SortTopologically()
    {
        var available = new HashSet<string>(StringComparer.Ordinal) { "" };
        foreach (string k in Initializers.Keys)
        {
            available.Add(k);
        }

        foreach (TensorInfo i in Inputs)
        {
            available.Add(i.Name);
        }

        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Nodes.Count; i++)
        {
            GraphNode node = Nodes[i];
            foreach (string o in node.Outputs)
            {
                if (o.Length == 0)
                {
                    continue;
                }

                // ONNX graphs are in SSA form: every tensor has one definition.
                if (available.Contains(o))
                {
                    throw node.Error($"Output '{o}' is also a graph input or an initializer (each tensor must be defined once)");
                }

                if (!producer.TryAdd(o, i))
                {
                    GraphNode first = Nodes[producer[o]];
                    throw node.Error(first == node
                        ? $"Output '{o}' is written twice by the node (each tensor must be defined once)"
                        : $"Output '{o}' is already written by node '{first.Name}' ({first.OpType}); each tensor must be defined once");
                }
            }
        }

        var sorted = new List<GraphNode>(Nodes.Count);
        var state = new byte[Nodes.Count];
        var stack = new Stack<(int Node, int Next)>();
        for (int root = 0; root < Nodes.Count; root++)
        {
            if (state[root] != 0)
            {
                continue;
            }

            stack.Push((root, 0));
            state[root] = 1;
            while (stack.Count > 0)
            {
                (int n, int next) = stack.Pop();
                GraphNode node = Nodes[n];
                bool pushed = false;
                for (int k = next; k < node.Inputs.Count; k++)
                {
                    string inp = node.Inputs[k];
                    if (available.Contains(inp))
                    {
                        continue;
                    }

                    if (!producer.TryGetValue(inp, out int p))
                    {
                        throw new OnnxModelException($"Input '{inp}' is neither a graph input, an initializer nor produced by a node", node.Name, node.OpType, node.Domain, node.Opset);
                    }

                    if (state[p] == 1)
                    {
                        throw new OnnxModelException($"The graph has a cycle through '{inp}'", node.Name, node.OpType, node.Domain, node.Opset);
                    }

                    if (state[p] == 0)
                    {
                        stack.Push((n, k + 1));
                        stack.Push((p, 0));
                        state[p] = 1;
                        pushed = true;
                        break;
                    }
                }

                if (!pushed)
                {
                    state[n] = 2;
                    sorted.Add(node);
                    foreach (string o in node.Outputs)
                    {
                        available.Add(o);
                    }
                }
            }
        }

        Nodes = sorted;
    }
}
