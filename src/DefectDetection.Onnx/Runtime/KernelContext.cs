using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Runtime;

/// <summary>
/// The per-call view a kernel gets of its inputs, outputs and scratch memory. One context per execution frame;
/// not shared between threads.
/// </summary>
internal sealed class KernelContext
{
    private readonly ExecutionFrame _frame;
    private int[] _inputs = [];
    private int[] _outputs = [];
    private int _node;

    public KernelContext(ExecutionFrame frame)
    {
        _frame = frame;
    }

    public IntraOpThreadPool? Pool => _frame.Pool;

    public int InputCount => _inputs.Length;

    public int OutputCount => _outputs.Length;

    internal void Set(int node, int[] inputs, int[] outputs)
    {
        _node = node;
        _inputs = inputs;
        _outputs = outputs;
    }

    public bool HasInput(int i) => i < _inputs.Length && _inputs[i] >= 0;

    public TensorValue Input(int i)
    {
        if (i >= _inputs.Length || _inputs[i] < 0)
        {
            throw new OnnxModelException($"Missing required input {i}.");
        }

        return _frame.Values[_inputs[i]];
    }

    public TensorValue? OptionalInput(int i) => i < _inputs.Length && _inputs[i] >= 0 ? _frame.Values[_inputs[i]] : null;

    /// <summary>The output <paramref name="i"/> with the given type and shape, bound to its planned memory.</summary>
    public TensorValue Output(int i, TensorElementType type, ReadOnlySpan<int> shape)
        => _frame.BindOutput(_node, _outputs[i], type, shape);

    /// <summary>Output with the same type and shape as input <paramref name="input"/>.</summary>
    public TensorValue OutputLike(int i, TensorValue input) => Output(i, input.Type, input.Shape);

    /// <summary>Scratch memory valid until the kernel returns (uninitialised).</summary>
    public Span<T> Scratch<T>(int count)
        where T : unmanaged
        => _frame.Scratch<T>(_node, count);

    public bool WantsOutput(int i) => i < _outputs.Length && _outputs[i] >= 0;
}
