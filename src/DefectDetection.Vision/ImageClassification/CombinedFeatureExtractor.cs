using DefectDetection.Imaging;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Features;

namespace DefectDetection.Vision.ImageClassification;

/// <summary>
/// A backbone's pooled taps followed by the weight-free gradient histograms of the same image
/// (<see cref="ImageClassificationOptions.AppendWeightFree"/>): learned features beside plain texture and colour
/// statistics. Owns the backbone extractor. Thread-safe.
/// </summary>
internal sealed class CombinedFeatureExtractor : IFeatureExtractor, IDisposable
{
    public CombinedFeatureExtractor(OnnxFeatureExtractor onnx, GradientHistogramFeatureExtractor weightFree)
    {
        Onnx = onnx;
        WeightFree = weightFree;
        FeatureLength = onnx.FeatureLength + weightFree.FeatureLength;
        Identity = onnx.Identity + "|" + weightFree.Identity;
    }

    /// <summary>The backbone part (first).</summary>
    public OnnxFeatureExtractor Onnx { get; }

    /// <summary>The weight-free part (last).</summary>
    public GradientHistogramFeatureExtractor WeightFree { get; }

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

        Onnx.Extract(image, destination[..Onnx.FeatureLength]);
        WeightFree.Extract(image, destination[Onnx.FeatureLength..]);
    }

    /// <inheritdoc />
    public float[][] ExtractBatch(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        float[][] first = Onnx.ExtractBatch(images, cancellationToken);
        float[][] second = ((IFeatureExtractor)WeightFree).ExtractBatch(images, cancellationToken);
        float[][] result = new float[images.Count][];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = [.. first[i], .. second[i]];
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose() => Onnx.Dispose();
}
