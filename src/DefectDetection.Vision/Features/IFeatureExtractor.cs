using DefectDetection.Imaging;

namespace DefectDetection.Vision.Features;

/// <summary>
/// Turns an image into a feature vector of fixed length, for a classifier head. Implementations are stateless after
/// construction and safe to call from several threads.
/// </summary>
public interface IFeatureExtractor
{
    /// <summary>The number of features of every vector.</summary>
    int FeatureLength { get; }

    /// <summary>
    /// A string that changes whenever the features would change (algorithm version and settings, or a backbone's
    /// hash and tapped layers); used as part of cache keys and stored in model files.
    /// </summary>
    string Identity { get; }

    /// <summary>Writes the features of <paramref name="image"/> into <paramref name="destination"/> (<see cref="FeatureLength"/> values).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    void Extract(ImageView image, Span<float> destination);

    /// <summary>
    /// The features of many images, one array per image. The default runs <see cref="Extract"/> on the images in
    /// parallel; backbones that batch override it.
    /// </summary>
    float[][] ExtractBatch(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        float[][] result = new float[images.Count][];
        Parallel.For(0, images.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            float[] f = new float[FeatureLength];
            Extract(images[i], f);
            result[i] = f;
        });
        return result;
    }
}

/// <summary>Helpers for <see cref="IFeatureExtractor"/>.</summary>
public static class FeatureExtractorExtensions
{
    /// <summary>The features of one image as a new array.</summary>
    public static float[] Extract(this IFeatureExtractor extractor, ImageView image)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        float[] f = new float[extractor.FeatureLength];
        extractor.Extract(image, f);
        return f;
    }
}
