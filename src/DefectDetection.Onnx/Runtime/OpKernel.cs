using DefectDetection.Onnx.Graph;

namespace DefectDetection.Onnx.Runtime;

/// <summary>
/// An operator implementation for one node. Attributes are parsed once in the constructor; <see cref="Run"/> changes
/// no kernel state (one session serves many threads). Run computes the output shapes from the inputs, asks the
/// context for the outputs (<see cref="KernelContext.Output"/>) and fills them.
/// </summary>
internal abstract class OpKernel
{
    protected OpKernel(GraphNode node)
    {
        Node = node;
    }

    public GraphNode Node { get; }

    /// <summary>False for operators whose result is random or external (not constant-foldable).</summary>
    public virtual bool IsDeterministic => true;

    public abstract void Run(KernelContext ctx);

    protected OnnxModelException Error(string reason) => Node.Error(reason);
}

/// <summary>Thrown by kernel factories for an unsupported attribute value or input form; collected at load.</summary>
internal sealed class UnsupportedNodeException(string reason) : Exception(reason);

/// <summary>What a kernel factory can see: constant tensors (initializers) for prepacking weights.</summary>
internal sealed class KernelCreationContext(IReadOnlyDictionary<string, OnnxTensor> constants, OnnxSessionOptions options)
{
    public OnnxSessionOptions Options { get; } = options;

    public OnnxTensor? Constant(string name) => name.Length > 0 && constants.TryGetValue(name, out OnnxTensor? t) ? t : null;

    public OnnxTensor? Constant(GraphNode node, int input) => Constant(node.Input(input));
}
