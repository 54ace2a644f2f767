using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
namespace DefectDetection.Vision.Heads;

/// <summary>The optimiser of <see cref="SoftmaxClassifierTrainer"/>.</summary>
public enum ClassifierOptimizer
{
    /// <summary>Full-batch L-BFGS (quasi-Newton); the default, deterministic and fast on small data.</summary>
    Lbfgs,

    /// <summary>Mini-batch Adam; for large feature sets.</summary>
    Adam,
}

/// <summary>How samples are weighted per class.</summary>
public enum ClassWeighting
{
    /// <summary>Every sample weighs 1.</summary>
    None,

    /// <summary>Each class weighs the same in total: a sample of class c weighs N / (classes x n_c).</summary>
    Balanced,
}

/// <summary>
/// Options of <see cref="SoftmaxClassifierTrainer"/>. Validated when the trainer is created.
/// </summary>
public sealed class SoftmaxClassifierOptions
{
    /// <summary>The optimiser. Default <see cref="ClassifierOptimizer.Lbfgs"/>.</summary>
    public ClassifierOptimizer Optimizer { get; init; } = ClassifierOptimizer.Lbfgs;

    /// <summary>The L2 penalty used when <see cref="L2"/> is null and nothing chooses it: 1e-3.</summary>
    public const double DefaultL2 = 1e-3;

    /// <summary>
    /// L2 penalty on the weights (not the biases): loss + L2/2 x |W|^2. Null (default): <see cref="DefaultL2"/>, except
    /// in an <see cref="ImageClassificationTrainer"/> with automatic configuration on, which chooses it by cross-validation.
    /// </summary>
    public double? L2 { get; init; }

    /// <summary>Class weighting against imbalance. Default <see cref="ClassWeighting.Balanced"/>.</summary>
    public ClassWeighting ClassWeighting { get; init; } = ClassWeighting.Balanced;

    /// <summary>Explicit weights per label; they replace <see cref="ClassWeighting"/> for the labels named. Default none.</summary>
    public IReadOnlyDictionary<string, double>? ClassWeights { get; init; }

    /// <summary>Standardise each feature to zero mean and unit variance (statistics of the training part). Default true.</summary>
    public bool Standardize { get; init; } = true;

    /// <summary>
    /// Share of each label's samples held out (stratified, by <see cref="Seed"/>) for early stopping and
    /// temperature calibration. Labels with fewer than <see cref="MinSamplesForValidation"/> samples give none.
    /// 0 disables both. Default 0.2.
    /// </summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>The fewest samples a label needs to contribute to the validation part. Default 5.</summary>
    public int MinSamplesForValidation { get; init; } = 5;

    /// <summary>Iterations (L-BFGS) or epochs (Adam) at most. Default 500.</summary>
    public int MaxIterations { get; init; } = 500;

    /// <summary>
    /// Stop when the gradient's largest component falls below this, or (L-BFGS) when an iteration changes the loss by
    /// less than a thousandth of this relative to the loss. Default 1e-5.
    /// </summary>
    public double Tolerance { get; init; } = 1e-5;

    /// <summary>Stop after this many iterations without a better validation loss (the best weights are kept). Default 20.</summary>
    public int EarlyStoppingPatience { get; init; } = 20;

    /// <summary>Seed of the validation split and of Adam's shuffles. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Adam's learning rate. Default 0.01.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Adam's mini-batch size. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Number of corrections L-BFGS remembers. Default 10.</summary>
    public int History { get; init; } = 10;

    /// <summary>Fit a temperature on the validation part so that the confidences are calibrated. Default true.</summary>
    public bool CalibrateTemperature { get; init; } = true;

    internal void Validate()
    {
        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok)
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be {rule}.");
            }
        }

        Check(L2 is null or (>= 0 and < double.PositiveInfinity), nameof(L2), L2 ?? 0, "a finite number >= 0");
        Check(ValidationFraction is >= 0 and < 1, nameof(ValidationFraction), ValidationFraction, "in [0, 1)");
        Check(MinSamplesForValidation >= 2, nameof(MinSamplesForValidation), MinSamplesForValidation, ">= 2");
        Check(MaxIterations >= 1, nameof(MaxIterations), MaxIterations, ">= 1");
        Check(Tolerance >= 0, nameof(Tolerance), Tolerance, ">= 0");
        Check(EarlyStoppingPatience >= 1, nameof(EarlyStoppingPatience), EarlyStoppingPatience, ">= 1");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "a finite number > 0");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, ">= 1");
        Check(History >= 1, nameof(History), History, ">= 1");
        Check(Enum.IsDefined(Optimizer), nameof(Optimizer), Optimizer, "a defined value");
        Check(Enum.IsDefined(ClassWeighting), nameof(ClassWeighting), ClassWeighting, "a defined value");
        if (ClassWeights is not null)
        {
            foreach ((string label, double w) in ClassWeights)
            {
                Check(w > 0 && double.IsFinite(w), nameof(ClassWeights), $"{label}={w}", "finite and > 0 for every label");
            }
        }
    }
}
