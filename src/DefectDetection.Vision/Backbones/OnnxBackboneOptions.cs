using DefectDetection.Onnx;

namespace DefectDetection.Vision.Backbones;

/// <summary>How an <see cref="OnnxBackbone"/> runs (what it runs is its <see cref="BackboneSpec"/>); validated when the backbone is created.</summary>
public sealed class OnnxBackboneOptions
{
    /// <summary>Images per run of the model. Default 8.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Threads used inside one operator. Default: <see cref="Environment.ProcessorCount"/>.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// The execution backend that runs the network (for example ONNX Runtime from DefectDetection.OnnxRuntime).
    /// Null (default): <see cref="OnnxBackends.Current"/> when the backbone is created.
    /// </summary>
    public IOnnxBackend? Backend { get; init; }

    internal void Validate()
    {
        if (BatchSize is < 1 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be in [1, 4096].");
        }

        if (Threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "At least one thread is needed.");
        }
    }
}
