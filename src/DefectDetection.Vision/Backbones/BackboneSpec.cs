using DefectDetection.Imaging.Processing;

namespace DefectDetection.Vision.Backbones;

/// <summary>
/// A frozen ONNX network used as a feature source, as a value: where its bytes come from, how images become its input
/// tensor, and which intermediate tensors to tap. The learners that run a backbone take one
/// (<see cref="ImageClassification.ImageClassificationOptions.Backbone"/>, <see cref="PatchCore.PatchCoreOptions.Backbone"/>).
/// </summary>
/// <remarks>
/// <para>
/// Presets: <see cref="MobileNetV2Int8(string)"/> (the shipped quantised MobileNetV2) and <see cref="MlNetResNet18(string)"/>
/// (ML.NET's ImageNet ResNet-18, which expects BGR pixels 0-255 minus the mean). <see cref="FromFile(string)"/> applies
/// a preset's layout when the file is one of them (recognised by SHA-256), else torchvision's ImageNet layout.
/// </para>
/// <para>
/// With no <see cref="Taps"/> each learner chooses them from the graph and records the choice in its model: the image
/// classifier the last spatial tensor before the global pooling (plus stage outputs when its automatic configuration prefers them), PatchCore the stage outputs at strides 8 and 16
/// (layer2 and layer3 of a ResNet).
/// </para>
/// </remarks>
public sealed record BackboneSpec
{
    /// <summary>SHA-256 of ML.NET's ResNet-18 (<c>ResNet18.onnx</c> in Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0).</summary>
    internal const string MlNetResNet18Sha256 = "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f";

    private readonly byte[]? _bytes;

    private BackboneSpec(string name, string? path, byte[]? bytes)
    {
        Name = name;
        Path = path;
        _bytes = bytes;
    }

    /// <summary>ML.NET's ResNet-18 input layout: 224x224, BGR, pixel values 0-255 minus the ImageNet mean (103.06, 115.90, 123.15), no scaling.</summary>
    public static TensorLayoutOptions MlNetResNet18Layout { get; } = new()
    {
        Width = 224,
        Height = 224,
        ChannelOrder = ChannelOrder.Bgr,
        Scale = 1f,
        Mean = [103.06f, 115.90f, 123.15f],
        Std = [1f],
    };

    /// <summary>The display name (the file name).</summary>
    public string Name { get; }

    /// <summary>The ONNX file, or null for a model given as bytes.</summary>
    public string? Path { get; }

    /// <summary>
    /// How images become the input tensor: size, channels and order, scale, mean and std, resampling. Null (default):
    /// the preset's layout when the model is a known preset, else <see cref="TensorLayoutOptions.ImageNet"/>. PatchCore
    /// takes the size from its own <c>InputSize</c>.
    /// </summary>
    public TensorLayoutOptions? Layout { get; init; }

    /// <summary>The tensors to tap, by name (<c>defect onnx info</c> lists them); empty (default): chosen by the learner from the graph.</summary>
    public IReadOnlyList<string> Taps { get; init; } = [];

    /// <summary>The model input to feed; null (default): the model's first input.</summary>
    public string? InputName { get; init; }

    /// <summary>A backbone read from an ONNX file (read when a trainer or model opens it).</summary>
    /// <param name="path">The .onnx file.</param>
    public static BackboneSpec FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new BackboneSpec(System.IO.Path.GetFileName(path), System.IO.Path.GetFullPath(path), null);
    }

    /// <summary>A backbone held in memory.</summary>
    /// <param name="model">The serialized ONNX model (not copied: do not change it afterwards).</param>
    /// <param name="name">A display name, usually the file name.</param>
    public static BackboneSpec FromBytes(byte[] model, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new BackboneSpec(string.IsNullOrEmpty(name) ? "backbone.onnx" : name, null, model);
    }

    /// <summary>A backbone read from a stream (to its end; the stream stays open).</summary>
    /// <param name="stream">The serialized ONNX model.</param>
    /// <param name="name">A display name, usually the file name.</param>
    public static BackboneSpec FromStream(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return FromBytes(copy.ToArray(), name);
    }

    /// <summary>The shipped MobileNetV2 int8 QDQ backbone (<c>models/mobilenetv2-int8</c>): torchvision's ImageNet layout.</summary>
    /// <param name="path">Its .onnx file.</param>
    public static BackboneSpec MobileNetV2Int8(string path) => FromFile(path) with { Layout = TensorLayoutOptions.ImageNet };

    /// <summary>ML.NET's ImageNet ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18, <c>ResNet18.onnx</c>): <see cref="MlNetResNet18Layout"/>.</summary>
    /// <param name="path">Its .onnx file.</param>
    public static BackboneSpec MlNetResNet18(string path) => FromFile(path) with { Layout = MlNetResNet18Layout };

    /// <summary>The model's bytes (read from <see cref="Path"/> at each call).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public byte[] ReadModel()
    {
        if (_bytes is not null)
        {
            return _bytes;
        }

        if (!File.Exists(Path))
        {
            throw new FileNotFoundException($"The backbone file '{Path}' does not exist.", Path);
        }

        return File.ReadAllBytes(Path!);
    }

    /// <summary>The model's bytes and the layout in force for them.</summary>
    internal (byte[] Bytes, TensorLayoutOptions Layout) Open()
    {
        byte[] bytes = ReadModel();
        return (bytes, Layout ?? ResolveLayout(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))));
    }

    /// <summary>The layout in force for a model with these bytes: <see cref="Layout"/>, else a preset's by SHA-256, else ImageNet's.</summary>
    internal TensorLayoutOptions ResolveLayout(string sha256) =>
        Layout ?? (string.Equals(sha256, MlNetResNet18Sha256, StringComparison.OrdinalIgnoreCase) ? MlNetResNet18Layout : TensorLayoutOptions.ImageNet);

    /// <summary>Checks the taps and the layout.</summary>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Taps, nameof(Taps));
        if (Taps.Any(string.IsNullOrEmpty) || Taps.Distinct(StringComparer.Ordinal).Count() != Taps.Count)
        {
            throw new ArgumentException("Tap names must be non-empty and distinct.", nameof(Taps));
        }

        Layout?.Validate();
    }
}
