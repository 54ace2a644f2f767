using DefectDetection.Onnx.Model.Proto;
using Google.Protobuf;

namespace DefectDetection.Onnx.Tests.Helpers;

/// <summary>Builds small ONNX models in memory (through the generated protobuf classes) for operator tests.</summary>
internal sealed class GraphBuilder
{
    private readonly ModelProto _model;
    private readonly GraphProto _graph = new() { Name = "test" };
    private int _nodes;

    public GraphBuilder(long opset = 17, long irVersion = 8)
    {
        _model = new ModelProto { IrVersion = irVersion, Graph = _graph, ProducerName = "tests" };
        _model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
    }

    public GraphBuilder Input(string name, TensorElementType type, params long[] dims)
    {
        _graph.Input.Add(Value(name, type, dims));
        return this;
    }

    public GraphBuilder Output(string name, TensorElementType type, params long[] dims)
    {
        _graph.Output.Add(Value(name, type, dims));
        return this;
    }

    public GraphBuilder Initializer<T>(string name, T[] data, params long[] dims)
        where T : unmanaged
    {
        var t = new TensorProto { Name = name, DataType = (int)OnnxTensor.ElementTypeOf<T>() };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        _graph.Initializer.Add(t);
        return this;
    }

    public GraphBuilder Node(string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
        => NodeIn("", op, inputs, outputs, attributes);

    public GraphBuilder NodeIn(string domain, string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = $"{op}_{_nodes++}", Domain = domain };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        foreach ((string name, object value) in attributes)
        {
            var a = new AttributeProto { Name = name };
            switch (value)
            {
                case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
                case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
                case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
                case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
                case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
                case int[] isv: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(isv.Select(v => (long)v)); break;
                case float[] fs: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(fs); break;
                case TensorProto t: a.Type = AttributeProto.Types.AttributeType.Tensor; a.T = t; break;
                default: throw new ArgumentException($"Unsupported attribute value {value}");
            }

            n.Attribute.Add(a);
        }

        _graph.Node.Add(n);
        return this;
    }

    public byte[] ToBytes() => _model.ToByteArray();

    public ModelProto Proto => _model;

    public OnnxModel Build() => OnnxModel.Load(ToBytes());

    public OnnxSession Session(OnnxSessionOptions? options = null) => new(Build(), options ?? new OnnxSessionOptions { IntraOpThreads = 1 });

    private static ValueInfoProto Value(string name, TensorElementType type, long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}

internal static class SessionExtensions
{
    public static OnnxTensor RunOne(this OnnxSession s, params (string Name, OnnxTensor Value)[] inputs)
    {
        var result = s.Run(inputs.ToDictionary(i => i.Name, i => i.Value));
        return result[s.Outputs[0].Name];
    }

    public static float[] RunFloats(this OnnxSession s, params (string Name, OnnxTensor Value)[] inputs) => s.RunOne(inputs).As<float>().ToArray();
}
