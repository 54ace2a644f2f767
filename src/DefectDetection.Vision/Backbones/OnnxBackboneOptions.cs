using DefectDetection.Imaging.Processing;

namespace DefectDetection.Vision.Backbones;

/// <summary>Options of <see cref="OnnxBackbone"/>; validated when the backbone is created.</summary>
public sealed class OnnxBackboneOptions
{
    /// <summary>
    /// How images become the input tensor: size, channel count and order, scale, mean and std, resampling.
    /// Default: <see cref="TensorLayoutOptions.ImageNet"/> (224x224 RGB, ImageNet mean/std). The size may differ from
    /// the fixed size a model declares for a rank-4 input: its height and width are then made dynamic, which suits
    /// taps in a convolutional trunk (layers after a global pooling keep their shapes; a fixed Reshape fails at load).
    /// </summary>
    public TensorLayoutOptions Layout { get; init; } = TensorLayoutOptions.ImageNet;

    /// <summary>
    /// The tensors to tap, by name (see <c>OnnxModel.NodeOutputNames</c> or <c>defect onnx info</c>); each must be a
    /// float tensor of rank 4 ([N, C, H, W]) or 2 ([N, C], taken as H = W = 1). Empty (default): one layer chosen by
    /// <see cref="OnnxBackbone.FindDefaultLayer(DefectDetection.Onnx.OnnxModel)"/> (the last 4-D float tensor with more
    /// than one spatial position, for a classifier the tensor feeding its global pooling).
    /// </summary>
    public IReadOnlyList<string> Layers { get; init; } = [];

    /// <summary>The model input to feed; null (default): the model's first input.</summary>
    public string? InputName { get; init; }

    /// <summary>Images per run of the model. Default 8.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Threads used inside one operator. Default: <see cref="Environment.ProcessorCount"/>.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Layout, nameof(Layout));
        Layout.Validate();
        ArgumentNullException.ThrowIfNull(Layers, nameof(Layers));
        if (Layers.Any(string.IsNullOrEmpty) || Layers.Distinct(StringComparer.Ordinal).Count() != Layers.Count)
        {
            throw new ArgumentException("Layer names must be non-empty and distinct.", nameof(Layers));
        }

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
