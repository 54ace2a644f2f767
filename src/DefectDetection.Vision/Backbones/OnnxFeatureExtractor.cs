using System.Numerics.Tensors;
using DefectDetection.Imaging;
using DefectDetection.Onnx;
using DefectDetection.Vision.Features;

namespace DefectDetection.Vision.Backbones;

/// <summary>
/// Features from an <see cref="OnnxBackbone"/>: each tapped layer's [C, H, W] map is averaged over its spatial
/// positions (global average pooling) and the layers' C-vectors are concatenated in the order of
/// <see cref="OnnxBackbone.Layers"/>. Batches images through the backbone. Thread-safe.
/// </summary>
public sealed class OnnxFeatureExtractor : IFeatureExtractor, IDisposable
{
    private readonly bool _ownsBackbone;

    /// <summary>Creates the extractor over a backbone.</summary>
    /// <param name="backbone">The backbone.</param>
    /// <param name="ownsBackbone">Dispose the backbone with this extractor. Default false.</param>
    public OnnxFeatureExtractor(OnnxBackbone backbone, bool ownsBackbone = false)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        Backbone = backbone;
        _ownsBackbone = ownsBackbone;
        FeatureLength = backbone.LayerShapes.Sum(s => s.Channels);
        Identity = "gap-v1;" + backbone.Identity;
    }

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

        Pool(Backbone.Run(image), 0, destination);
    }

    /// <inheritdoc />
    public float[][] ExtractBatch(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        IReadOnlyList<DenseTensor<float>> maps = Backbone.Run(images, cancellationToken);
        float[][] result = new float[images.Count][];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new float[FeatureLength];
            Pool(maps, i, result[i]);
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

    /// <summary>Global average pooling of image <paramref name="n"/> of every map, concatenated.</summary>
    internal static void Pool(IReadOnlyList<DenseTensor<float>> maps, int n, Span<float> destination)
    {
        int offset = 0;
        foreach (DenseTensor<float> map in maps)
        {
            ReadOnlySpan<int> d = map.Dimensions;
            int c = d[1], hw = d[2] * d[3];
            ReadOnlySpan<float> sample = map.Data.AsSpan(n * c * hw, c * hw);
            float inv = 1f / hw;
            for (int k = 0; k < c; k++)
            {
                destination[offset + k] = TensorPrimitives.Sum(sample.Slice(k * hw, hw)) * inv;
            }

            offset += c;
        }
    }
}
