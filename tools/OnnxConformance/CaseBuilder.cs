using DefectDetection.Onnx.Model.Proto;
using DataType = DefectDetection.Onnx.Model.Proto.TensorProto.Types.DataType;

namespace OnnxConformance;

/// <summary>An attribute of a node, built with the short factory methods below.</summary>
internal static class A
{
    public static AttributeProto I(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto F(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto S(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Floats(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }

    public static AttributeProto T(string name, TensorData value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value.ToProto(name) };
}

/// <summary>Tolerances for comparing a case's outputs: |got - want| &lt;= Abs + Rel*|want| for floats,
/// |got - want| &lt;= Steps for 8-bit quantized integers, exact for other integer and bool outputs.</summary>
internal sealed record Tolerance(double Abs = 1e-4, double Rel = 1e-4, int Steps = 1);

/// <summary>Builds one fixture case: a single-graph ONNX model plus its (deterministic random) inputs.</summary>
internal sealed class CaseBuilder
{
    private readonly GraphProto graph;
    private readonly HashSet<string> names = [];
    private int counter;

    public CaseBuilder(string name, int opset, Rng rng)
    {
        Name = name;
        Opset = opset;
        Rng = rng;
        graph = new GraphProto { Name = name };
        Model = new ModelProto
        {
            IrVersion = opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 15 ? 8 : opset >= 13 ? 7 : opset >= 11 ? 6 : 5,
            ProducerName = "DefectDetection OnnxConformance",
            ProducerVersion = "1",
            Graph = graph,
        };
        Model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
    }

    public string Name { get; }

    public int Opset { get; }

    public Rng Rng { get; }

    public ModelProto Model { get; }

    public string Description { get; set; } = string.Empty;

    public Tolerance Tolerance { get; set; } = new();

    public List<(string Name, TensorData Data)> Inputs { get; } = [];

    public void ImportOpset(string domain, int version) =>
        Model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });

    /// <summary>A graph input fed at run time with the given data; the declared shape may use symbols for dynamic dims.</summary>
    public string Input(string name, TensorData data, params string?[] symbolicDims)
    {
        Claim(name);
        graph.Input.Add(ValueInfo(name, data.Type, data.Shape, symbolicDims));
        Inputs.Add((name, data));
        return name;
    }

    /// <summary>A float32 graph input of uniform random values in [min, max).</summary>
    public string InputF(string name, int[] shape, float min = -1f, float max = 1f) =>
        Input(name, TensorData.F32(Rng.Floats(Count(shape), min, max), shape));

    /// <summary>A constant initializer.</summary>
    public string Init(string name, TensorData data)
    {
        Claim(name);
        graph.Initializer.Add(data.ToProto(name));
        return name;
    }

    /// <summary>A float32 initializer of uniform random values in [min, max).</summary>
    public string InitF(string name, int[] shape, float min = -1f, float max = 1f) =>
        Init(name, TensorData.F32(Rng.Floats(Count(shape), min, max), shape));

    public string InitI64(string name, params long[] values) => Init(name, TensorData.I64(values, values.Length));

    public string InitF1(string name, params float[] values) => Init(name, TensorData.F32(values, values.Length));

    /// <summary>A scalar (rank 0) initializer.</summary>
    public string Scalar(string name, TensorData data) => Init(name, data with { Shape = [] });

    /// <summary>Adds a node with one output; returns the output name.</summary>
    public string Node(string opType, string[] inputs, params AttributeProto[] attributes) =>
        NodeN(opType, string.Empty, inputs, 1, attributes)[0];

    /// <summary>Adds a node with one output of the given name.</summary>
    public string NodeAs(string output, string opType, string[] inputs, params AttributeProto[] attributes)
    {
        string auto = Node(opType, inputs, attributes);
        NodeProto node = graph.Node[^1];
        names.Remove(auto);
        Claim(output);
        node.Output[0] = output;
        return output;
    }

    /// <summary>Adds a node in a domain with several outputs; returns the output names.</summary>
    public string[] NodeN(string opType, string domain, string[] inputs, int outputCount, params AttributeProto[] attributes)
    {
        int id = counter++;
        var node = new NodeProto { OpType = opType, Name = $"{opType.ToLowerInvariant()}_{id}" };
        if (domain.Length > 0)
        {
            node.Domain = domain;
        }

        node.Input.AddRange(inputs);
        var outputs = new string[outputCount];
        for (int i = 0; i < outputCount; i++)
        {
            outputs[i] = $"{opType.ToLowerInvariant()}_{id}_out{i}";
            Claim(outputs[i]);
        }

        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return outputs;
    }

    /// <summary>Marks a tensor as a graph output of the given element type (shape left to inference).</summary>
    public void Output(string name, DataType type = DataType.Float) =>
        graph.Output.Add(ValueInfo(name, type, null, []));

    public static int Count(int[] shape)
    {
        int n = 1;
        foreach (int d in shape)
        {
            n *= d;
        }

        return n;
    }

    private void Claim(string name)
    {
        if (!names.Add(name))
        {
            throw new InvalidOperationException($"case {Name}: duplicate tensor name {name}");
        }
    }

    private static ValueInfoProto ValueInfo(string name, DataType type, int[]? shape, string?[] symbols)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (shape is not null)
        {
            var s = new TensorShapeProto();
            for (int i = 0; i < shape.Length; i++)
            {
                string? symbol = i < symbols.Length ? symbols[i] : null;
                s.Dim.Add(symbol is null
                    ? new TensorShapeProto.Types.Dimension { DimValue = shape[i] }
                    : new TensorShapeProto.Types.Dimension { DimParam = symbol });
            }

            tensor.Shape = s;
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
