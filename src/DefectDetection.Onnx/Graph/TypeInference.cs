namespace DefectDetection.Onnx.Graph;

/// <summary>Element types of every tensor of a graph, propagated from inputs and initializers through the nodes.</summary>
internal static class TypeInference
{
    public static Dictionary<string, TensorElementType> Infer(OnnxGraph graph)
    {
        var types = new Dictionary<string, TensorElementType>(StringComparer.Ordinal);
        foreach (TensorInfo i in graph.Inputs)
        {
            types[i.Name] = i.ElementType;
        }

        foreach (KeyValuePair<string, OnnxTensor> kv in graph.Initializers)
        {
            types[kv.Key] = kv.Value.ElementType;
        }

        foreach (GraphNode n in graph.Nodes)
        {
            TensorElementType first = n.Inputs.Count > 0 && types.TryGetValue(n.Input(0), out TensorElementType t) ? t : TensorElementType.Float32;
            for (int o = 0; o < n.Outputs.Count; o++)
            {
                if (n.Outputs[o].Length > 0)
                {
                    types[n.Outputs[o]] = OutputType(n, o, first, types);
                }
            }
        }

        return types;
    }

    private static TensorElementType OutputType(GraphNode n, int output, TensorElementType first, Dictionary<string, TensorElementType> types)
    {
        TensorElementType Of(int input, TensorElementType fallback) => types.TryGetValue(n.Input(input), out TensorElementType t) ? t : fallback;
        return n.OpType switch
        {
            "Shape" or "Size" or "ArgMax" or "ArgMin" or "NonMaxSuppression" => TensorElementType.Int64,
            "TopK" => output == 1 ? TensorElementType.Int64 : first,
            "Equal" or "Greater" or "Less" or "GreaterOrEqual" or "LessOrEqual" or "And" or "Or" or "Xor" or "Not" => TensorElementType.Bool,
            "Dropout" when output == 1 => TensorElementType.Bool,
            "MaxPool" when output == 1 => TensorElementType.Int64,
            "Cast" => (TensorElementType)n.GetInt32("to", 1),
            "DequantizeLinear" or "IntegerToFloat" => TensorElementType.Float32,
            "QuantizeLinear" => n.HasInput(2) ? Of(2, TensorElementType.UInt8) : TensorElementType.UInt8,
            "DynamicQuantizeLinear" => output == 1 ? TensorElementType.Float32 : TensorElementType.UInt8,
            "ConvInteger" or "MatMulInteger" => TensorElementType.Int32,
            "QLinearConv" or "QLinearMatMul" => Of(7, TensorElementType.UInt8),
            "QLinearAdd" => Of(7, first),
            "QGemm" => n.HasInput(7) ? Of(8, TensorElementType.UInt8) : TensorElementType.Float32,
            "Constant" => n.Attributes.TryGetValue("value", out NodeAttribute? v) && v.Tensor is not null ? v.Tensor.ElementType
                : n.HasAttribute("value_int") || n.HasAttribute("value_ints") ? TensorElementType.Int64 : TensorElementType.Float32,
            "ConstantOfShape" => n.Attributes.TryGetValue("value", out NodeAttribute? c) && c.Tensor is not null ? c.Tensor.ElementType : TensorElementType.Float32,
            "Where" => Of(1, first),
            _ => first,
        };
    }
}
