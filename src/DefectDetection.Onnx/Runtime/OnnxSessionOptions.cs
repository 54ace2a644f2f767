namespace DefectDetection.Onnx;

/// <summary>Options of an <see cref="OnnxSession"/>. Every graph rewrite can be switched off on its own.</summary>
public sealed class OnnxSessionOptions
{
    /// <summary>Threads used inside one operator (the calling thread included). Default: <see cref="Environment.ProcessorCount"/>.</summary>
    public int IntraOpThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Whether a batch is split into slices that the intra-op threads run side by side (each slice on one thread) instead
    /// of splitting each operator's work. Default: <see cref="DefectDetection.Onnx.BatchParallelism.Auto"/> (split when
    /// the graph and the batch allow it).
    /// </summary>
    public BatchParallelism BatchParallelism { get; init; } = BatchParallelism.Auto;

    /// <summary>Rewrite "ConstantFolding": evaluate nodes whose inputs are all constant once, at load. Default: on.</summary>
    public bool EnableConstantFolding { get; init; } = true;

    /// <summary>Rewrite "ConvBatchNormFusion": fold BatchNormalization into the preceding Conv's weights. Default: on.</summary>
    public bool EnableConvBatchNormFusion { get; init; } = true;

    /// <summary>Rewrite "ActivationFusion": fuse Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh into Conv/Gemm. Default: on.</summary>
    public bool EnableActivationFusion { get; init; } = true;

    /// <summary>Rewrite "QdqFusion": DequantizeLinear -> Conv/Gemm/MatMul/Add -> QuantizeLinear to integer kernels. Default: on.</summary>
    public bool EnableQdqFusion { get; init; } = true;

    /// <summary>Intermediate tensors (by name) to expose as extra outputs; rewrites keep them intact.</summary>
    public IReadOnlyList<string> ExtraOutputs { get; init; } = [];

    internal void Validate()
    {
        if (IntraOpThreads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "At least one thread is needed.");
        }

        ArgumentNullException.ThrowIfNull(ExtraOutputs);
        if (!Enum.IsDefined(BatchParallelism))
        {
            throw new ArgumentOutOfRangeException(nameof(BatchParallelism), BatchParallelism, "Unknown batch parallelism.");
        }
    }
}
