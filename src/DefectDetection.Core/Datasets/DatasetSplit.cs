namespace DefectDetection.Datasets;

/// <summary>A dataset cut into training, validation and test parts (any part may be empty).</summary>
/// <param name="Train">Images to learn from.</param>
/// <param name="Validation">Images for early stopping, calibration and threshold choice.</param>
/// <param name="Test">Images for the final figures only.</param>
public sealed record DatasetSplit(ImageDataset Train, ImageDataset Validation, ImageDataset Test);

/// <summary>Options of <see cref="ImageDataset.Split"/>. The three fractions must add up to 1.</summary>
public sealed class SplitOptions
{
    /// <summary>Share of each label's images for training. Default 0.7.</summary>
    public double TrainFraction { get; init; } = 0.7;

    /// <summary>Share of each label's images for validation. Default 0.15.</summary>
    public double ValidationFraction { get; init; } = 0.15;

    /// <summary>Share of each label's images for testing. Default 0.15.</summary>
    public double TestFraction { get; init; } = 0.15;

    /// <summary>Seed of the shuffle: the same seed and dataset always give the same split. Default 0.</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        if (!(TrainFraction >= 0) || !(ValidationFraction >= 0) || !(TestFraction >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(TrainFraction), "Split fractions must be non-negative numbers.");
        }

        double sum = TrainFraction + ValidationFraction + TestFraction;
        if (Math.Abs(sum - 1) > 1e-6)
        {
            throw new ArgumentOutOfRangeException(nameof(TrainFraction), $"Split fractions must add up to 1, got {sum}.");
        }
    }
}
