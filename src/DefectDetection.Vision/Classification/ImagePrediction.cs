namespace DefectDetection.Vision.Classification;

/// <summary>An <see cref="ImageClassificationModel"/>'s prediction for one image.</summary>
public sealed class ImagePrediction
{
    internal ImagePrediction(string label, IReadOnlyDictionary<string, float> scores, float confidence, bool isDefect)
    {
        Label = label;
        Scores = scores;
        Confidence = confidence;
        IsDefect = isDefect;
    }

    /// <summary>The predicted label (for two labels: the positive label when its probability reaches the model's threshold).</summary>
    public string Label { get; }

    /// <summary>The calibrated probability of every label (they sum to 1).</summary>
    public IReadOnlyDictionary<string, float> Scores { get; }

    /// <summary>
    /// Confidence in [0, 1] in the predicted label. For two labels it is the positive probability mapped piecewise
    /// linearly so that the threshold lands on 0.5 (then taken for the predicted side); otherwise the label's probability.
    /// </summary>
    public float Confidence { get; }

    /// <summary>True when the label is not one of the model's normal labels.</summary>
    public bool IsDefect { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Label} ({Confidence:P1})";
}
