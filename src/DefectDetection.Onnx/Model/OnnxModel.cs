using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels;
using DefectDetection.Onnx.Model.Proto;
using Google.Protobuf;

namespace DefectDetection.Onnx;

/// <summary>
/// A loaded ONNX model (IR version 3 or later, opsets 7 to 21): its graph, initializers (inline or in external data
/// files) and declared inputs and outputs. Immutable; create an <see cref="OnnxSession"/> to run it.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>The lowest supported IR version.</summary>
    public const long MinIrVersion = 3;

    /// <summary>The lowest supported ai.onnx opset.</summary>
    public const long MinOpset = 7;

    /// <summary>The highest supported ai.onnx opset.</summary>
    public const long MaxOpset = 21;

    private OnnxModel(OnnxGraph graph, long irVersion)
    {
        Graph = graph;
        IrVersion = irVersion;
        Opsets = new Dictionary<string, long>(graph.Opsets, StringComparer.Ordinal);
        Inputs = graph.Inputs.ToArray();
        Outputs = graph.Outputs.ToArray();
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string>();
        var nodes = new List<NodeInfo>(graph.Nodes.Count);
        foreach (GraphNode n in graph.Nodes)
        {
            nodes.Add(new NodeInfo(n.Name, string.IsNullOrEmpty(n.Domain) || n.Domain == "ai.onnx" ? n.OpType : n.Domain + "." + n.OpType, [.. n.Inputs], [.. n.Outputs]));
            string key = string.IsNullOrEmpty(n.Domain) || n.Domain == "ai.onnx" ? n.OpType : n.Domain + "." + n.OpType;
            counts[key] = counts.TryGetValue(key, out int c) ? c + 1 : 1;
            foreach (string o in n.Outputs)
            {
                if (o.Length > 0)
                {
                    names.Add(o);
                }
            }
        }

        OperatorCounts = counts;
        NodeOutputNames = names;
        Nodes = nodes;
        UnsupportedOperators = KernelRegistry.FindProblems(graph);
    }

    /// <summary>The model's IR version.</summary>
    public long IrVersion { get; }

    /// <summary>Imported opsets: domain ("" is ai.onnx) to version.</summary>
    public IReadOnlyDictionary<string, long> Opsets { get; }

    /// <summary>Graph inputs that are not initializers.</summary>
    public IReadOnlyList<TensorInfo> Inputs { get; }

    /// <summary>Graph outputs.</summary>
    public IReadOnlyList<TensorInfo> Outputs { get; }

    /// <summary>Number of nodes per operator ("Conv" -> 52; "domain.Op" outside ai.onnx).</summary>
    public IReadOnlyDictionary<string, int> OperatorCounts { get; }

    /// <summary>Unsupported operators and attributes, one line each (empty when the model can run).</summary>
    public IReadOnlyList<string> UnsupportedOperators { get; }

    /// <summary>Every tensor produced by a node, in graph order (usable as <see cref="OnnxSessionOptions.ExtraOutputs"/>).</summary>
    public IReadOnlyList<string> NodeOutputNames { get; }

    /// <summary>The graph's nodes as loaded (before any rewrite), in graph order: what reads and writes which tensor.</summary>
    public IReadOnlyList<NodeInfo> Nodes { get; }

    internal OnnxGraph Graph { get; }

    // The protobuf as loaded, for ToBytes (initializer bytes are shared, not copied).
    private ModelProto? _proto;

    /// <summary>
    /// The serialized model as loaded, with <paramref name="extraOutputs"/> (intermediate tensors) appended to the graph
    /// outputs, typed by type inference: what a runtime that returns only graph outputs, such as ONNX Runtime, needs
    /// to return tapped tensors.
    /// </summary>
    /// <param name="extraOutputs">Tensors to make graph outputs (those that are outputs already are skipped); null: none.</param>
    /// <returns>A new ModelProto byte array.</returns>
    /// <exception cref="OnnxModelException">A name is not a tensor of the graph.</exception>
    public byte[] ToBytes(IReadOnlyList<string>? extraOutputs = null)
    {
        ModelProto copy = _proto!.Clone();
        if (extraOutputs is { Count: > 0 })
        {
            HashSet<string> outputs = new(copy.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
            HashSet<string> known = new(NodeOutputNames, StringComparer.Ordinal);
            known.UnionWith(Graph.Initializers.Keys);
            known.UnionWith(Graph.Inputs.Select(i => i.Name));
            Dictionary<string, TensorElementType> types = TypeInference.Infer(Graph);
            foreach (string name in extraOutputs)
            {
                if (!known.Contains(name))
                {
                    throw new OnnxModelException($"Extra output '{name}' is not a tensor of the graph.");
                }

                if (outputs.Add(name))
                {
                    TensorElementType type = Graph.ValueInfo.TryGetValue(name, out TensorInfo? info) ? info.ElementType : types.GetValueOrDefault(name, TensorElementType.Float32);
                    copy.Graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } } });
                }
            }
        }

        return copy.ToByteArray();
    }

    /// <summary>The file the model was loaded from (null from memory): sessions name it in their errors.</summary>
    internal string? SourcePath { get; private set; }

    /// <summary>Loads a model file; external data files are resolved relative to its folder.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <returns>The model.</returns>
    /// <exception cref="OnnxModelException">The file is malformed, truncated or uses unsupported features.</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                throw new OnnxModelException($"Cannot read the file: {e.Message}", e);
            }

            OnnxModel model = Load(bytes, Path.GetDirectoryName(Path.GetFullPath(path)));
            model.SourcePath = path;
            return model;
        }
        catch (OnnxModelException e) when (e.ModelPath is null)
        {
            throw e.ForModelFile(path);
        }
    }

    /// <summary>Loads a model from bytes.</summary>
    /// <param name="bytes">The serialized ModelProto.</param>
    /// <param name="baseDirectory">The folder for external data files; null forbids external data.</param>
    /// <returns>The model.</returns>
    /// <exception cref="OnnxModelException">The bytes are malformed, truncated or use unsupported features.</exception>
    public static OnnxModel Load(ReadOnlySpan<byte> bytes, string? baseDirectory = null)
    {
        if (bytes.IsEmpty)
        {
            throw new OnnxModelException("The model is empty (0 bytes).");
        }

        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or IndexOutOfRangeException or ArgumentException or OverflowException)
        {
            // Google.Protobuf's parser lets some malformed varints escape as IndexOutOfRangeException (found by the
            // fuzzer: tests/fuzz-corpus/onnx): every parse failure is the same bad input.
            throw new OnnxModelException($"The model is not a valid ONNX protobuf (malformed or truncated, {bytes.Length} bytes): {e.Message}", e);
        }

        if (proto.Graph is null)
        {
            throw new OnnxModelException("The model has no graph (not an ONNX model, or truncated).");
        }

        if (proto.IrVersion < MinIrVersion)
        {
            throw new OnnxModelException($"IR version {proto.IrVersion} is not supported (need {MinIrVersion} or later).");
        }

        try
        {
            OnnxModel model = Build(proto, baseDirectory);
            model._proto = proto;
            return model;
        }
        catch (Exception e) when (e is not OnnxModelException)
        {
            throw new OnnxModelException($"The model is malformed: {e.Message}", e);
        }
    }

    private static OnnxModel Build(ModelProto proto, string? baseDirectory)
    {
        var graph = new OnnxGraph();
        foreach (OperatorSetIdProto os in proto.OpsetImport)
        {
            string domain = os.Domain == "ai.onnx" ? "" : os.Domain;
            graph.Opsets[domain] = os.Version;
        }

        if (!graph.Opsets.TryGetValue("", out long onnxOpset))
        {
            onnxOpset = proto.IrVersion <= 3 ? MinOpset : 0;
            graph.Opsets[""] = onnxOpset;
        }

        if (onnxOpset < MinOpset || onnxOpset > MaxOpset)
        {
            throw new OnnxModelException($"ai.onnx opset {onnxOpset} is not supported (supported: {MinOpset} to {MaxOpset}).");
        }

        var decoder = new TensorDecoder(baseDirectory);
        GraphProto g = proto.Graph;
        foreach (TensorProto t in g.Initializer)
        {
            if (string.IsNullOrEmpty(t.Name))
            {
                throw new OnnxModelException("An initializer has no name.");
            }

            graph.Initializers[t.Name] = decoder.Decode(t);
        }

        foreach (ValueInfoProto vi in g.Input)
        {
            if (!graph.Initializers.ContainsKey(vi.Name))
            {
                graph.Inputs.Add(ToInfo(vi));
            }
        }

        foreach (ValueInfoProto vi in g.Output)
        {
            graph.Outputs.Add(ToInfo(vi));
        }

        foreach (ValueInfoProto vi in g.ValueInfo)
        {
            if (!string.IsNullOrEmpty(vi.Name) && vi.Type?.TensorType is not null)
            {
                graph.ValueInfo[vi.Name] = ToInfo(vi);
            }
        }

        int index = 0;
        foreach (NodeProto np in g.Node)
        {
            string domain = np.Domain == "ai.onnx" ? "" : np.Domain;
            var node = new GraphNode
            {
                Name = string.IsNullOrEmpty(np.Name) ? $"{np.OpType}_{index}" : np.Name,
                OpType = np.OpType,
                Domain = domain,
                Opset = graph.Opsets.TryGetValue(domain, out long v) ? v : 0,
                Inputs = [.. np.Input],
                Outputs = [.. np.Output],
            };
            foreach (AttributeProto a in np.Attribute)
            {
                node.Attributes[a.Name] = DecodeAttribute(a, decoder, node);
            }

            graph.Nodes.Add(node);
            index++;
        }

        graph.SortTopologically();
        return new OnnxModel(graph, proto.IrVersion);
    }

    private static NodeAttribute DecodeAttribute(AttributeProto a, TensorDecoder decoder, GraphNode node)
    {
        AttributeProto.Types.AttributeType type = a.Type;
        if (type == AttributeProto.Types.AttributeType.Undefined)
        {
            // IR 3 files may omit the type: infer it from the field that is set.
            type = a.HasF ? AttributeProto.Types.AttributeType.Float
                : a.HasI ? AttributeProto.Types.AttributeType.Int
                : a.HasS ? AttributeProto.Types.AttributeType.String
                : a.T is not null ? AttributeProto.Types.AttributeType.Tensor
                : a.Floats.Count > 0 ? AttributeProto.Types.AttributeType.Floats
                : a.Ints.Count > 0 ? AttributeProto.Types.AttributeType.Ints
                : a.Strings.Count > 0 ? AttributeProto.Types.AttributeType.Strings
                : AttributeProto.Types.AttributeType.Undefined;
        }

        try
        {
            return type switch
            {
                AttributeProto.Types.AttributeType.Float => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Float, Float = a.F },
                AttributeProto.Types.AttributeType.Int => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Int, Int = a.I },
                AttributeProto.Types.AttributeType.String => new NodeAttribute { Name = a.Name, Kind = AttributeKind.String, String = a.S.ToStringUtf8() },
                AttributeProto.Types.AttributeType.Tensor => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Tensor, Tensor = decoder.Decode(a.T!) },
                AttributeProto.Types.AttributeType.Floats => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Floats, Floats = [.. a.Floats] },
                AttributeProto.Types.AttributeType.Ints => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Ints, Ints = [.. a.Ints] },
                AttributeProto.Types.AttributeType.Strings => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Strings, Strings = a.Strings.Select(s => s.ToStringUtf8()).ToArray() },
                _ => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Other },
            };
        }
        catch (OnnxModelException e)
        {
            throw new OnnxModelException($"Attribute '{a.Name}': {e.Reason}", node.Name, node.OpType, node.Domain, node.Opset, e);
        }
    }

    private static TensorInfo ToInfo(ValueInfoProto vi)
    {
        TypeProto.Types.Tensor? tt = vi.Type?.TensorType;
        var type = (TensorElementType)(tt?.ElemType ?? 1);
        if (type == TensorElementType.Float16)
        {
            type = TensorElementType.Float32;
        }

        var dims = new List<Dimension>();
        if (tt?.Shape is not null)
        {
            foreach (TensorShapeProto.Types.Dimension d in tt.Shape.Dim)
            {
                dims.Add(d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue >= 0
                    ? new Dimension(d.DimValue, null)
                    : new Dimension(null, d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : null));
            }
        }

        return new TensorInfo(vi.Name, type, dims);
    }
}

/// <summary>One node of a model's graph.</summary>
/// <param name="Name">The node's name (may be empty).</param>
/// <param name="OpType">The operator ("Conv"; "domain.Op" outside ai.onnx).</param>
/// <param name="Inputs">The tensors it reads (an empty name is an omitted optional input).</param>
/// <param name="Outputs">The tensors it writes.</param>
public sealed record NodeInfo(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);
