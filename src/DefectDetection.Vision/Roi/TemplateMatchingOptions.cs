namespace DefectDetection.Vision.Roi;

/// <summary>Options of <see cref="TemplateMatchingRoiDetector"/>.</summary>
public sealed class TemplateMatchingOptions
{
    /// <summary>Smallest normalised cross-correlation (in [-1, 1]) of a match. Default: 0.6.</summary>
    public float ScoreThreshold { get; init; } = 0.6f;

    /// <summary>Most matches returned per image (best first). Default: 10,000.</summary>
    public int MaxMatches { get; init; } = 10_000;

    /// <summary>
    /// Two matches whose boxes overlap by more than this intersection-over-union are one match (non-maximum
    /// suppression). Default: 0.3.
    /// </summary>
    public double NmsIou { get; init; } = 0.3;

    /// <summary>
    /// Pyramid levels below full resolution for the coarse search; -1 chooses so that the template is at least
    /// 8 pixels on its short side at the coarsest level. Default: -1.
    /// </summary>
    public int PyramidLevels { get; init; } = -1;

    /// <summary>
    /// Rotations (degrees) of the template also tried, for parts that may turn slightly; empty for none. Example:
    /// [-3, 3]. Default: none.
    /// </summary>
    public IReadOnlyList<double> RotationsDegrees { get; init; } = [];

    /// <summary>The label given to every match. Default: "match".</summary>
    public string Label { get; init; } = "match";

    internal void Validate()
    {
        if (ScoreThreshold is < -1 or > 1 || float.IsNaN(ScoreThreshold))
        {
            throw new ArgumentOutOfRangeException(nameof(ScoreThreshold), $"ScoreThreshold must be in [-1, 1], got {ScoreThreshold}.");
        }

        if (MaxMatches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMatches), $"MaxMatches must be positive, got {MaxMatches}.");
        }

        if (NmsIou is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(NmsIou), $"NmsIou must be in [0, 1], got {NmsIou}.");
        }

        if (PyramidLevels < -1 || PyramidLevels > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(PyramidLevels), $"PyramidLevels must be -1 (auto) or 0..8, got {PyramidLevels}.");
        }
    }
}
