using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.PatchCore;
namespace DefectDetection.Vision.Variation;

/// <summary>
/// Configuration of <see cref="VariationModelTrainer"/>: a pixel is a bright defect when it exceeds
/// mean + max(AbsoluteBright, RelativeBright x spread), a dark defect when below mean - max(AbsoluteDark, RelativeDark x spread)
/// (HALCON's variation model rule, gray levels 0..255).
/// </summary>
public sealed class VariationModelOptions
{
    /// <summary>Model width in pixels (images are stretched to it); 0: the width of the first training image in content order (the alignment reference). Default 0.</summary>
    public int Width { get; init; }

    /// <summary>The labels of normal images in a dataset given to <see cref="VariationModelTrainer.Fit(DefectDetection.Datasets.ImageDataset, IProgress{DefectDetection.Models.TrainingProgress}?, CancellationToken)"/>; other images are ignored. Default <c>normal</c> and <c>good</c>.</summary>
    public IReadOnlyList<string> NormalLabels { get; init; } = DefectDetection.Models.Learners.DefaultNormalLabels;

    /// <summary>Model height in pixels; 0: the height of the first training image in content order. Default 0.</summary>
    public int Height { get; init; }

    /// <summary>Absolute tolerance above the mean, gray levels. Default 20.</summary>
    public float AbsoluteBright { get; init; } = 20;

    /// <summary>Absolute tolerance below the mean, gray levels. Default 20.</summary>
    public float AbsoluteDark { get; init; } = 20;

    /// <summary>Tolerance above the mean in units of the per-pixel spread (standard deviation). Default 3.</summary>
    public float RelativeBright { get; init; } = 3;

    /// <summary>Tolerance below the mean in units of the per-pixel spread. Default 3.</summary>
    public float RelativeDark { get; init; } = 3;

    /// <summary>Largest translation (model pixels) searched when aligning an image to the model; 0: no alignment. Default 16.</summary>
    public int MaxShift { get; init; } = 16;

    /// <summary>Gaussian smoothing of the deviation map, model pixels (0: none). Default 1.</summary>
    public float MapSigma { get; init; } = 1;

    /// <summary>Smallest region (image pixels) reported. Default 4.</summary>
    public int MinRegionArea { get; init; } = 4;

    internal void Validate()
    {
        if (Width < 0 || Height < 0 || Width > 8192 || Height > 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(Width), $"Width and Height must be in [0, 8192], got {Width}x{Height}.");
        }

        if (!(AbsoluteBright > 0 && AbsoluteDark > 0 && RelativeBright >= 0 && RelativeDark >= 0 && MapSigma >= 0) || MaxShift < 0 || MinRegionArea < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(AbsoluteBright), "Absolute tolerances must be positive; relative tolerances, MapSigma, MaxShift non-negative; MinRegionArea at least 1.");
        }
    }
}
