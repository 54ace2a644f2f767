using System.IO.Compression;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Vision.Backbones;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Transforms;

/// <summary>Options of <see cref="ImageFeaturizerEstimator"/> (<c>mlContext.Transforms.FeaturizeImages</c>).</summary>
public sealed class ImageFeaturizerOptions
{
    /// <summary>The ONNX backbone file (for example MobileNetV2-int8 or ML.NET's ResNet-18). Required.</summary>
    public required string BackbonePath { get; init; }

    /// <summary>
    /// The backbone's taps, preprocessing, batch size and threads. Default: the tensor feeding the network's global
    /// pooling, <see cref="TensorLayoutOptions.ImageNet"/> preprocessing.
    /// </summary>
    public OnnxBackboneOptions Backbone { get; init; } = new();

    /// <summary>How each tapped map becomes a vector. Default <see cref="FeaturePooling.Average"/> (global average pooling).</summary>
    public FeaturePooling Pooling { get; init; } = FeaturePooling.Average;
}

/// <summary>
/// Our backbone and pooling as an ML.NET transform: each image of the input column (file paths or
/// <see cref="MLImage"/> values) becomes a fixed-length single-precision vector, so that any ML.NET trainer
/// (<c>LbfgsMaximumEntropy</c>, <c>LightGbm</c>, <c>FastTree</c>, ...) does transfer learning on the library's features.
/// Nothing is learned: <see cref="Fit"/> loads the backbone.
/// </summary>
public sealed class ImageFeaturizerEstimator : IEstimator<ImageFeaturizerTransformer>
{
    private readonly byte[] _backbone;
    private readonly string _backboneName;

    internal ImageFeaturizerEstimator(string outputColumnName, string inputColumnName, ImageFeaturizerOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        ArgumentException.ThrowIfNullOrEmpty(inputColumnName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.BackbonePath, nameof(options.BackbonePath));
        ArgumentNullException.ThrowIfNull(options.Backbone, nameof(options.Backbone));
        if (!File.Exists(options.BackbonePath))
        {
            throw new FileNotFoundException($"The backbone file '{options.BackbonePath}' does not exist.", options.BackbonePath);
        }

        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        Options = options;
        _backbone = File.ReadAllBytes(options.BackbonePath);
        _backboneName = Path.GetFileName(options.BackbonePath);
    }

    /// <summary>The vector column written.</summary>
    public string OutputColumnName { get; }

    /// <summary>The image column read.</summary>
    public string InputColumnName { get; }

    /// <summary>The options.</summary>
    public ImageFeaturizerOptions Options { get; }

    /// <summary>Loads the backbone and checks the image column.</summary>
    /// <param name="input">The data.</param>
    /// <returns>A transformer owning its backbone (dispose it).</returns>
    public ImageFeaturizerTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Data.ImageColumn.KindOf(input.Schema, InputColumnName);
        return Create();
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        using ImageFeaturizerTransformer t = Create();
        return t.OutputShape(inputSchema);
    }

    private ImageFeaturizerTransformer Create() =>
        new(_backbone, _backboneName, OutputColumnName, InputColumnName, Options.Backbone, Options.Pooling);
}

/// <summary>Writes the pooled backbone features of each image into a vector column (see <see cref="ImageFeaturizerEstimator"/>).</summary>
public sealed class ImageFeaturizerTransformer : DefectTransformer
{
    internal const string KindName = "image-featurizer";
    private readonly byte[] _backboneBytes;
    private readonly string _backboneName;
    private readonly OnnxFeatureExtractor _extractor;
    private readonly ImageMapping<FeatureRow> _mapping;

    internal ImageFeaturizerTransformer(byte[] backbone, string backboneName, string outputColumnName, string inputColumnName, OnnxBackboneOptions options, FeaturePooling pooling)
        : base(inputColumnName)
    {
        _backboneBytes = backbone;
        _backboneName = backboneName;
        OutputColumnName = outputColumnName;
        _extractor = new OnnxFeatureExtractor(new OnnxBackbone(backbone, backboneName, options), ownsBackbone: true, pooling);
        SchemaDefinition output = SchemaDefinition.Create(typeof(FeatureRow));
        output[0].ColumnName = outputColumnName;
        output[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, _extractor.FeatureLength);
        _mapping = new ImageMapping<FeatureRow>(inputColumnName, Map, output);
    }

    /// <summary>The vector column written.</summary>
    public string OutputColumnName { get; }

    /// <summary>The length of every feature vector.</summary>
    public int FeatureLength => _extractor.FeatureLength;

    /// <summary>The feature extractor (backbone and pooling).</summary>
    public OnnxFeatureExtractor Extractor => _extractor;

    internal override string Kind => KindName;

    internal SchemaShape OutputShape(SchemaShape input) => _mapping.OutputShape(input);

    internal override void Write(ZipArchive archive, string prefix)
    {
        using (Stream s = archive.CreateEntry(prefix + "backbone.onnx", CompressionLevel.Optimal).Open())
        {
            s.Write(_backboneBytes);
        }

        OnnxBackboneOptions o = _extractor.Backbone.Options;
        TensorLayoutOptions l = o.Layout;
        Settings settings = new(ImageColumnName, OutputColumnName, _backboneName, _extractor.Pooling, [.. _extractor.Backbone.Layers], o.InputName, o.BatchSize,
            new Layout(l.Width, l.Height, l.Channels, l.ChannelOrder, l.Scale, [.. l.Mean], [.. l.Std], l.ResizeMode, l.PadValue, l.Alignment));
        using Stream json = archive.CreateEntry(prefix + "settings.json").Open();
        JsonSerializer.Serialize(json, settings);
    }

    internal static ImageFeaturizerTransformer Read(ZipArchive archive, string prefix, string file)
    {
        Settings s = Persistence.BundleEntries.ReadJson<Settings>(archive, prefix + "settings.json", file);
        using MemoryStream bytes = new();
        using (Stream entry = Persistence.BundleEntries.Open(archive, prefix + "backbone.onnx", file))
        {
            entry.CopyTo(bytes);
        }

        Layout l = s.Layout;
        OnnxBackboneOptions options = new()
        {
            Layers = s.Layers,
            InputName = s.InputName,
            BatchSize = s.BatchSize,
            Layout = new TensorLayoutOptions
            {
                Width = l.Width,
                Height = l.Height,
                Channels = l.Channels,
                ChannelOrder = l.ChannelOrder,
                Scale = l.Scale,
                Mean = l.Mean,
                Std = l.Std,
                ResizeMode = l.ResizeMode,
                PadValue = l.PadValue,
                Alignment = l.Alignment,
            },
        };
        return new ImageFeaturizerTransformer(bytes.ToArray(), s.BackboneName, s.OutputColumn, s.ImageColumn, options, s.Pooling);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _extractor.Dispose();
        }
    }

    private protected override ITransformer Mapping(DataViewSchema schema) => _mapping.For(schema);

    private void Map(ImageView image, FeatureRow row)
    {
        float[] features = new float[_extractor.FeatureLength];
        _extractor.Extract(image, features);
        row.Features = features;
    }

    private sealed record Layout(int Width, int Height, int Channels, ChannelOrder ChannelOrder, float Scale, float[] Mean, float[] Std, ResizeMode ResizeMode, float PadValue, LetterboxAlignment Alignment);

    private sealed record Settings(string ImageColumn, string OutputColumn, string BackboneName, FeaturePooling Pooling, string[] Layers, string? InputName, int BatchSize, Layout Layout);
}

/// <summary>The output row of <see cref="ImageFeaturizerTransformer"/>.</summary>
internal sealed class FeatureRow
{
    public float[] Features { get; set; } = [];
}
