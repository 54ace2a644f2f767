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
    /// <summary>
    /// The ONNX backbone: its file, input layout and taps (for example <see cref="BackboneSpec.MobileNetV2Int8(string)"/>
    /// or <see cref="BackboneSpec.MlNetResNet18(string)"/>; no taps: the tensor feeding the network's global pooling). Required.
    /// </summary>
    public required BackboneSpec Backbone { get; init; }

    /// <summary>How each tapped map becomes a vector. Default <see cref="FeaturePooling.Average"/> (global average pooling).</summary>
    public FeaturePooling Pooling { get; init; } = FeaturePooling.Average;

    /// <summary>Images per backbone run and threads inside one operator. Default: their defaults.</summary>
    public OnnxBackboneOptions Run { get; init; } = new();
}

/// <summary>
/// Our backbone and pooling as an ML.NET transform: each image of the input column (file paths or
/// <see cref="MLImage"/> values) becomes a fixed-length single-precision vector, so that any ML.NET trainer
/// (<c>LbfgsMaximumEntropy</c>, <c>LightGbm</c>, <c>FastTree</c>, ...) does transfer learning on the library's features.
/// Nothing is learned: <see cref="Fit"/> loads the backbone.
/// </summary>
public sealed class ImageFeaturizerEstimator : IEstimator<ImageFeaturizerTransformer>
{
    private readonly BackboneSpec _backbone;

    internal ImageFeaturizerEstimator(string outputColumnName, string inputColumnName, ImageFeaturizerOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        ArgumentException.ThrowIfNullOrEmpty(inputColumnName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Backbone, nameof(options.Backbone));
        ArgumentNullException.ThrowIfNull(options.Run, nameof(options.Run));
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        Options = options;

        // Read once (a missing file fails here), so that every transformer of this estimator runs the same bytes.
        _backbone = BackboneSpec.FromBytes(options.Backbone.ReadModel(), options.Backbone.Name) with
        {
            Layout = options.Backbone.Layout,
            Taps = options.Backbone.Taps,
            InputName = options.Backbone.InputName,
        };
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
        new(_backbone, OutputColumnName, InputColumnName, Options.Run, Options.Pooling);
}

/// <summary>Writes the pooled backbone features of each image into a vector column (see <see cref="ImageFeaturizerEstimator"/>).</summary>
public sealed class ImageFeaturizerTransformer : DefectTransformer
{
    internal const string KindName = "image-featurizer";
    private readonly byte[] _backboneBytes;
    private readonly OnnxFeatureExtractor _extractor;
    private readonly ImageMapping<FeatureRow> _mapping;

    internal ImageFeaturizerTransformer(BackboneSpec backbone, string outputColumnName, string inputColumnName, OnnxBackboneOptions options, FeaturePooling pooling)
        : base(inputColumnName)
    {
        _backboneBytes = backbone.ReadModel();
        OutputColumnName = outputColumnName;
        _extractor = new OnnxFeatureExtractor(new OnnxBackbone(backbone, options), ownsBackbone: true, pooling);
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

        OnnxBackbone b = _extractor.Backbone;
        TensorLayoutOptions l = b.Layout;
        Settings settings = new(ImageColumnName, OutputColumnName, b.Name, _extractor.Pooling, [.. b.Layers], b.InputName, b.Options.BatchSize,
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
        BackboneSpec spec = BackboneSpec.FromBytes(bytes.ToArray(), s.BackboneName) with
        {
            Taps = s.Layers,
            InputName = s.InputName,
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
        return new ImageFeaturizerTransformer(spec, s.OutputColumn, s.ImageColumn, new OnnxBackboneOptions { BatchSize = s.BatchSize }, s.Pooling);
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
