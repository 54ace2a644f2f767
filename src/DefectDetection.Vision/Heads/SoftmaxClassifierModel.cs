using System.Buffers;
using System.Numerics.Tensors;
using DefectDetection.ModelFiles;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.Heads;

/// <summary>
/// A trained multinomial logistic regression head: standardisation, a linear layer and a softmax with a calibration
/// temperature. Immutable and safe to share between threads.
/// </summary>
public sealed class SoftmaxClassifierModel
{
    /// <summary>The default prefix of the tensor names in a model file.</summary>
    public const string DefaultTensorPrefix = "head/";

    private readonly float[] _mean;
    private readonly float[] _scale;
    private readonly float[] _weights;
    private readonly float[] _bias;

    internal SoftmaxClassifierModel(string[] labels, float[] mean, float[] scale, float[] weights, float[] bias, float temperature)
    {
        Labels = labels;
        _mean = mean;
        _scale = scale;
        _weights = weights;
        _bias = bias;
        Temperature = temperature;
        FeatureLength = mean.Length;
    }

    /// <summary>The labels, in output order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The number of features the model takes.</summary>
    public int FeatureLength { get; }

    /// <summary>The calibration temperature dividing the logits (1 = uncalibrated).</summary>
    public float Temperature { get; }

    /// <summary>Predicts the label of one feature vector.</summary>
    /// <exception cref="ArgumentException">The vector's length is not <see cref="FeatureLength"/>.</exception>
    public ClassPrediction Predict(ReadOnlySpan<float> features)
    {
        float[] probabilities = new float[Labels.Count];
        PredictProbabilities(features, probabilities);
        return new ClassPrediction(Labels, probabilities);
    }

    /// <summary>Predicts the labels of many feature vectors.</summary>
    public IReadOnlyList<ClassPrediction> Predict(IReadOnlyList<float[]> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        ClassPrediction[] result = new ClassPrediction[features.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Predict(features[i]);
        }

        return result;
    }

    /// <summary>Writes the probability of each label (in <see cref="Labels"/> order) into <paramref name="probabilities"/>.</summary>
    public void PredictProbabilities(ReadOnlySpan<float> features, Span<float> probabilities)
    {
        ComputeLogits(features, probabilities);
        // Subtract the largest logit first: SoftMax itself does not, and exp overflows past about 88.
        float max = TensorPrimitives.Max(probabilities);
        TensorPrimitives.Subtract(probabilities, max, probabilities);
        TensorPrimitives.Multiply(probabilities, 1f / Temperature, probabilities);
        TensorPrimitives.SoftMax(probabilities, probabilities);
    }

    /// <summary>Writes the raw logits (before the temperature) into <paramref name="logits"/>.</summary>
    /// <exception cref="ArgumentException">A length does not match.</exception>
    public void ComputeLogits(ReadOnlySpan<float> features, Span<float> logits)
    {
        if (features.Length != FeatureLength)
        {
            throw new ArgumentException($"The model takes {FeatureLength} features, got {features.Length}.", nameof(features));
        }

        if (logits.Length != Labels.Count)
        {
            throw new ArgumentException($"The model has {Labels.Count} labels; the output span holds {logits.Length}.", nameof(logits));
        }

        int d = FeatureLength;
        float[] rented = ArrayPool<float>.Shared.Rent(d);
        try
        {
            Span<float> z = rented.AsSpan(0, d);
            TensorPrimitives.Subtract(features, _mean, z);
            TensorPrimitives.Multiply(z, _scale, z);
            for (int j = 0; j < logits.Length; j++)
            {
                logits[j] = TensorPrimitives.Dot(_weights.AsSpan(j * d, d), z) + _bias[j];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The model as named tensors for a <c>.ddmodel</c> file: <c>weights</c> [labels, features], <c>bias</c> [labels],
    /// <c>feature_mean</c> and <c>feature_scale</c> [features], <c>temperature</c> [1], each prefixed with
    /// <paramref name="prefix"/>. The labels belong in the manifest (<see cref="ModelManifest.Labels"/>).
    /// </summary>
    public IReadOnlyDictionary<string, ModelTensor> ToTensors(string prefix = DefaultTensorPrefix) => new Dictionary<string, ModelTensor>(StringComparer.Ordinal)
    {
        [prefix + "weights"] = new([Labels.Count, FeatureLength], (float[])_weights.Clone()),
        [prefix + "bias"] = new([Labels.Count], (float[])_bias.Clone()),
        [prefix + "feature_mean"] = new([FeatureLength], (float[])_mean.Clone()),
        [prefix + "feature_scale"] = new([FeatureLength], (float[])_scale.Clone()),
        [prefix + "temperature"] = new([1], [Temperature]),
    };

    /// <summary>Rebuilds a model from <see cref="ToTensors"/>'s tensors and the labels.</summary>
    /// <exception cref="InvalidDataException">A tensor is missing or has the wrong shape, or a value is not finite.</exception>
    public static SoftmaxClassifierModel FromTensors(IReadOnlyList<string> labels, IReadOnlyDictionary<string, ModelTensor> tensors, string prefix = DefaultTensorPrefix)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(tensors);
        if (labels.Count < 2 || labels.Distinct(StringComparer.Ordinal).Count() != labels.Count)
        {
            throw new InvalidDataException($"A classifier needs at least two distinct labels, got [{string.Join(", ", labels)}].");
        }

        ModelTensor Get(string name, int rank)
        {
            if (!tensors.TryGetValue(prefix + name, out ModelTensor? t))
            {
                throw new InvalidDataException($"The classifier tensor '{prefix + name}' is missing.");
            }

            if (t.Shape.Count != rank || t.Data.Any(v => !float.IsFinite(v)))
            {
                throw new InvalidDataException($"The classifier tensor '{prefix + name}' has the shape [{string.Join(", ", t.Shape)}] or non-finite values.");
            }

            return t;
        }

        ModelTensor w = Get("weights", 2), b = Get("bias", 1), mean = Get("feature_mean", 1), scale = Get("feature_scale", 1), temp = Get("temperature", 1);
        int c = labels.Count, d = w.Shape[1];
        if (w.Shape[0] != c || d < 1 || b.Shape[0] != c || mean.Shape[0] != d || scale.Shape[0] != d || temp.Shape[0] != 1 || !(temp.Data[0] > 0))
        {
            throw new InvalidDataException($"The classifier tensors do not fit {c} labels: weights [{string.Join(", ", w.Shape)}], bias [{b.Shape[0]}], feature_mean [{mean.Shape[0]}], feature_scale [{scale.Shape[0]}], temperature {temp.Data.FirstOrDefault()}.");
        }

        return new SoftmaxClassifierModel([.. labels], (float[])mean.Data.Clone(), (float[])scale.Data.Clone(), (float[])w.Data.Clone(), (float[])b.Data.Clone(), temp.Data[0]);
    }
}
