using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
namespace DefectDetection.Vision.Heads;

/// <summary>A predicted label with its calibrated confidence and the probability of every label.</summary>
public sealed class ClassPrediction
{
    internal ClassPrediction(IReadOnlyList<string> labels, float[] probabilities)
    {
        Labels = labels;
        Probabilities = probabilities;
        Index = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(probabilities);
    }

    /// <summary>The most probable label.</summary>
    public string Label => Labels[Index];

    /// <summary>Index of <see cref="Label"/> in <see cref="Labels"/>.</summary>
    public int Index { get; }

    /// <summary>The probability of <see cref="Label"/> (calibrated when the model was trained with a validation part).</summary>
    public float Confidence => Probabilities[Index];

    /// <summary>The model's labels.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The probability of each label, in <see cref="Labels"/> order; they add up to 1.</summary>
    public IReadOnlyList<float> Probabilities { get; }

    /// <summary>The probability of <paramref name="label"/>.</summary>
    /// <exception cref="ArgumentException">The model has no such label.</exception>
    public float ProbabilityOf(string label)
    {
        for (int i = 0; i < Labels.Count; i++)
        {
            if (string.Equals(Labels[i], label, StringComparison.Ordinal))
            {
                return Probabilities[i];
            }
        }

        throw new ArgumentException($"The model has no label '{label}' (it has: {string.Join(", ", Labels)}).", nameof(label));
    }

    /// <inheritdoc />
    public override string ToString() => $"{Label} ({Confidence:P1})";
}
