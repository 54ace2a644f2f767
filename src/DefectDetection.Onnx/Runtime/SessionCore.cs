using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels;

namespace DefectDetection.Onnx.Runtime;

/// <summary>The compiled graph: kernels in execution order, value indices, constants; plus the plan cache.</summary>
internal sealed partial class SessionCore
{
    private readonly List<ExecutionPlan> _plans = [];
    private readonly Lock _planLock = new();

    public SessionCore(OnnxGraph graph, OnnxSessionOptions options, IReadOnlyList<string> outputNames, Threading.IntraOpThreadPool? pool)
    {
        Pool = pool;
        BatchParallelism = options.BatchParallelism;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var constants = new List<TensorValue?>();
        int Get(string name)
        {
            if (!index.TryGetValue(name, out int i))
            {
                i = index.Count;
                index[name] = i;
                constants.Add(graph.Initializers.TryGetValue(name, out OnnxTensor? t) ? TensorValue.FromTensor(t) : null);
            }

            return i;
        }

        InputIndices = graph.Inputs.Select(i => Get(i.Name)).ToArray();
        var creation = new KernelCreationContext(graph.Initializers, options);
        var kernels = new List<OpKernel>();
        var problems = new List<string>();
        foreach (GraphNode node in graph.Nodes)
        {
            try
            {
                OpKernel? k = KernelRegistry.Create(node, creation, out string? problem);
                if (k is null)
                {
                    problems.Add(problem!);
                    continue;
                }

                kernels.Add(k);
            }
            catch (UnsupportedNodeException e)
            {
                problems.Add(KernelRegistry.Describe(node, e.Message));
            }
            catch (Exception e) when (e is ArgumentException or InvalidCastException or IndexOutOfRangeException or OverflowException or OnnxModelException)
            {
                problems.Add(KernelRegistry.Describe(node, "invalid node: " + e.Message));
            }
        }

        if (problems.Count > 0)
        {
            throw new OnnxModelException($"The model has {problems.Count} unsupported or invalid node(s):", problems);
        }

        int unused = 0;
        NodeInputs = new int[kernels.Count][];
        NodeOutputs = new int[kernels.Count][];
        for (int k = 0; k < kernels.Count; k++)
        {
            GraphNode node = kernels[k].Node;
            NodeInputs[k] = node.Inputs.Select(n => n.Length == 0 ? -1 : Get(n)).ToArray();
            NodeOutputs[k] = node.Outputs.Select(n => Get(n.Length == 0 ? $"\u0001unused{unused++}" : n)).ToArray();
        }

        Kernels = [.. kernels];
        OutputNames = [.. outputNames];
        OutputIndices = new int[outputNames.Count];
        for (int i = 0; i < outputNames.Count; i++)
        {
            if (!index.TryGetValue(outputNames[i], out int oi))
            {
                throw new OnnxModelException($"Output '{outputNames[i]}' is not produced by the graph.");
            }

            OutputIndices[i] = oi;
        }

        ValueCount = index.Count;
        ConstantValues = [.. constants];
        IsOutput = new bool[ValueCount];
        foreach (int o in OutputIndices)
        {
            IsOutput[o] = true;
        }

        ValueIndex = index;
    }

    public Threading.IntraOpThreadPool? Pool { get; }

    public OpKernel[] Kernels { get; }

    public int[][] NodeInputs { get; }

    public int[][] NodeOutputs { get; }

    public int ValueCount { get; }

    public TensorValue?[] ConstantValues { get; }

    public bool[] IsOutput { get; }

    public int[] InputIndices { get; }

    public int[] OutputIndices { get; }

    public string[] OutputNames { get; }

    public Dictionary<string, int> ValueIndex { get; }

    /// <summary>When set (diagnostics and tests), each call adds every kernel's elapsed Stopwatch ticks here.</summary>
    public long[]? ProfileTicks { get; set; }

    /// <summary>Runs the graph on bound inputs; fills <paramref name="results"/> (one per output).</summary>
    public void Execute(OnnxTensor[] inputs, OnnxTensor?[] results, CancellationToken cancellationToken)
    {
        if (TryExecuteSplit(inputs, results, cancellationToken))
        {
            return;
        }

        ExecutionPlan? plan = null;
        lock (_planLock)
        {
            foreach (ExecutionPlan p in _plans)
            {
                if (Match(p, inputs))
                {
                    plan = p;
                    break;
                }
            }
        }

        ExecutionFrame frame = plan is null ? new ExecutionFrame(this, null) : plan.Rent(this);
        try
        {
            for (int i = 0; i < InputIndices.Length; i++)
            {
                frame.Values[InputIndices[i]].Bind(inputs[i]);
            }

            RunNodes(frame, cancellationToken);
            for (int i = 0; i < OutputIndices.Length; i++)
            {
                TensorValue v = frame.Values[OutputIndices[i]];
                results[i] = Wrap(v, ConstantValues[OutputIndices[i]] is not null || Array.IndexOf(InputIndices, OutputIndices[i]) >= 0);
            }

            if (plan is null)
            {
                int[][] shapes = inputs.Select(t => t.Shape).ToArray();
                ExecutionPlan built = ExecutionPlan.Build(this, frame, shapes);
                lock (_planLock)
                {
                    if (_plans.Count < 16)
                    {
                        _plans.Add(built);
                    }
                }
            }
        }
        finally
        {
            plan?.Return(frame);
        }
    }

    /// <summary>Runs all kernels once in planning mode on constant inputs (used by constant folding).</summary>
    public TensorValue[] ExecuteOnce()
    {
        var frame = new ExecutionFrame(this, null);
        RunNodes(frame, CancellationToken.None);
        return frame.Values;
    }

    private static bool Match(ExecutionPlan p, OnnxTensor[] inputs)
    {
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].Dimensions.SequenceEqual(p.InputShapes[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static OnnxTensor Wrap(TensorValue v, bool mustCopy)
    {
        if (!mustCopy && v.ByteOffset == 0 && v.Data is not null && v.Data.Length == v.Length)
        {
            return v.Type switch
            {
                TensorElementType.Float32 => new OnnxTensor<float>((float[])v.Data, v.Shape),
                TensorElementType.UInt8 => new OnnxTensor<byte>((byte[])v.Data, v.Shape),
                TensorElementType.Int8 => new OnnxTensor<sbyte>((sbyte[])v.Data, v.Shape),
                TensorElementType.Int32 => new OnnxTensor<int>((int[])v.Data, v.Shape),
                TensorElementType.Int64 => new OnnxTensor<long>((long[])v.Data, v.Shape),
                TensorElementType.Bool => new OnnxTensor<bool>((bool[])v.Data, v.Shape),
                _ => v.ToTensor(),
            };
        }

        return v.ToTensor();
    }

    private void RunNodes(ExecutionFrame frame, CancellationToken cancellationToken)
    {
        KernelContext ctx = frame.Context;
        for (int k = 0; k < Kernels.Length; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            OpKernel kernel = Kernels[k];
            ctx.Set(k, NodeInputs[k], NodeOutputs[k]);
            try
            {
                if (ProfileTicks is { } ticks)
                {
                    long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    kernel.Run(ctx);
                    Interlocked.Add(ref ticks[k], System.Diagnostics.Stopwatch.GetTimestamp() - t0);
                }
                else
                {
                    kernel.Run(ctx);
                }
            }
            catch (OnnxModelException e) when (e.OpType is null)
            {
                GraphNode n = kernel.Node;
                throw new OnnxModelException(e.Reason, n.Name, n.OpType, n.Domain, n.Opset, e);
            }
            catch (Exception e) when (e is not OnnxModelException and not OperationCanceledException)
            {
                GraphNode n = kernel.Node;
                throw new OnnxModelException($"The operator failed: {e.Message}", n.Name, n.OpType, n.Domain, n.Opset, e);
            }
        }
    }
}
