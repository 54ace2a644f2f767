using System.Numerics.Tensors;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Onnx;
using DefectDetection.Vision.Features;

namespace DefectDetection.Vision.Backbones;

/// <summary>How an <see cref="OnnxFeatureExtractor"/> reduces each [C, H, W] map to a vector.</summary>
public enum FeaturePooling
{
    /// <summary>The mean over the spatial positions (C values per layer); the default.</summary>
    Average,

    /// <summary>The maximum over the spatial positions (C values per layer); keeps small local evidence.</summary>
    Max,

    /// <summary>The mean, then the maximum (2 x C values per layer).</summary>
    AverageAndMax,
}

/// <summary>
/// Features from an <see cref="OnnxBackbone"/>: each tapped layer's [C, H, W] map is pooled over its spatial
/// positions (global average pooling by default, see <see cref="FeaturePooling"/>) and the layers' vectors are
/// concatenated in the order of <see cref="OnnxBackbone.Layers"/>. Batches images through the backbone. Thread-safe.
/// </summary>
public sealed class OnnxFeatureExtractor : IFeatureExtractor, IDisposable
{
    private readonly bool _ownsBackbone;

    /// <summary>Creates the extractor over a backbone.</summary>
    /// <param name="backbone">The backbone.</param>
    /// <param name="ownsBackbone">Dispose the backbone with this extractor. Default false.</param>
    /// <param name="pooling">The spatial pooling. Default <see cref="FeaturePooling.Average"/>.</param>
    public OnnxFeatureExtractor(OnnxBackbone backbone, bool ownsBackbone = false, FeaturePooling pooling = FeaturePooling.Average)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        if (!Enum.IsDefined(pooling))
        {
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling.");
        }

        Backbone = backbone;
        Pooling = pooling;
        _ownsBackbone = ownsBackbone;
        FeatureLength = backbone.LayerShapes.Sum(s => s.Channels) * (pooling == FeaturePooling.AverageAndMax ? 2 : 1);
        Identity = pooling switch
        {
            FeaturePooling.Average => "gap-v1;",
            FeaturePooling.Max => "gmp-v1;",
            _ => "gap-gmp-v1;",
        } + backbone.Identity;
    }

    /// <summary>The spatial pooling.</summary>
    public FeaturePooling Pooling { get; }

    /// <summary>The backbone.</summary>
    public OnnxBackbone Backbone { get; }

    /// <inheritdoc />
    public int FeatureLength { get; }

    /// <inheritdoc />
    public string Identity { get; }

    /// <inheritdoc />
    public void Extract(ImageView image, Span<float> destination)
    {
        if (destination.Length != FeatureLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values; {FeatureLength} are needed.", nameof(destination));
        }

        Pool(Backbone.Run(image), 0, destination, Pooling);
    }

    /// <inheritdoc />
    public float[][] ExtractBatch(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        IReadOnlyList<OnnxTensor<float>> maps = Backbone.Run(images, cancellationToken);
        float[][] result = new float[images.Count][];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new float[FeatureLength];
            Pool(maps, i, result[i], Pooling);
        }

        return result;
    }

    /// <summary>The features of regions of one image, each cut and resized straight into the backbone's input tensor.</summary>
    internal float[][] ExtractRegions(ImageView image, IReadOnlyList<Rectangle> regions, BorderMode border, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<OnnxTensor<float>> maps = Backbone.Run(image, regions, border, cancellationToken);
        float[][] result = new float[regions.Count][];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new float[FeatureLength];
            Pool(maps, i, result[i], Pooling);
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsBackbone)
        {
            Backbone.Dispose();
        }
    }

    /// <summary>Global pooling of image <paramref name="n"/> of every map, concatenated.</summary>
    internal static void Pool(IReadOnlyList<OnnxTensor<float>> maps, int n, Span<float> destination, FeaturePooling pooling = FeaturePooling.Average)
    {
        int offset = 0;
        foreach (OnnxTensor<float> map in maps)
        {
            ReadOnlySpan<int> d = map.Dimensions;
            int c = d[1], hw = d[2] * d[3];
            ReadOnlySpan<float> sample = map.Data.AsSpan(n * c * hw, c * hw);
            float inv = 1f / hw;
            if (pooling != FeaturePooling.Max)
            {
                for (int k = 0; k < c; k++)
                {
                    destination[offset + k] = TensorPrimitives.Sum(sample.Slice(k * hw, hw)) * inv;
                }

                offset += c;
            }

            if (pooling != FeaturePooling.Average)
            {
                for (int k = 0; k < c; k++)
                {
                    destination[offset + k] = TensorPrimitives.Max(sample.Slice(k * hw, hw));
                }

                offset += c;
            }
        }
    }
}
