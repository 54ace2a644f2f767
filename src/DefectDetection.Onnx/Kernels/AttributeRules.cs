using DefectDetection.Onnx.Graph;

namespace DefectDetection.Onnx.Kernels;

/// <summary>Attribute values the kernels do not support, checked at load for every node.</summary>
internal static class AttributeRules
{
    public static string? Check(GraphNode node)
    {
        return null;
    }
}
