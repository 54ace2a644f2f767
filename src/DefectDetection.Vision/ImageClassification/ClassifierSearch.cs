using System.Diagnostics;
using System.Globalization;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Heads;

namespace DefectDetection.Vision.ImageClassification;

/// <summary>One configuration of the image classifier: how many of the trainer's taps, their pooling, the augmentation and the head's L2.</summary>
/// <param name="Taps">The first this many of the extractor's tapped layers (1: the default tap only).</param>
/// <param name="Pooling">The pooling of each tap, or null for the weight-free extractor.</param>
/// <param name="Augmentation">The augmented copies added to each training fold.</param>
/// <param name="L2">The head's L2 penalty.</param>
/// <param name="WeightFree">Whether the weight-free features follow the backbone's (always true without a backbone).</param>
internal readonly record struct ClassifierSetting(int Taps, FeaturePooling? Pooling, ImageAugmentation Augmentation, double L2, bool WeightFree)
{
    public string Name
    {
        get
        {
            string features = Pooling is { } p
                ? string.Create(CultureInfo.InvariantCulture, $"{Taps} tap{(Taps == 1 ? string.Empty : "s")} {PoolingName(p)}{(WeightFree ? " + weight-free" : string.Empty)}")
                : "weight-free";
            string augmentation = Augmentation == ImageAugmentation.None ? "no augmentation" : Augmentation == ClassifierSearch.Flips ? "flips" : Augmentation.ToString();
            string l2 = L2.ToString(L2 >= 1e-5 ? "0.#####" : "G3", CultureInfo.InvariantCulture);
            return $"{features}, {augmentation}, L2 {l2}";
        }
    }

    public Dictionary<string, double> Settings() => new(StringComparer.Ordinal)
    {
        ["taps"] = Taps,
        ["pooling"] = Pooling is { } p ? (int)p : -1,
        ["augmentation"] = (int)Augmentation,
        ["l2"] = L2,
        ["weight_free"] = WeightFree ? 1 : 0,
    };

    private static string PoolingName(FeaturePooling p) => p switch
    {
        FeaturePooling.Average => "avg",
        FeaturePooling.Max => "max",
        _ => "avg+max",
    };
}

/// <summary>
/// Chooses the image classifier's unset settings (taps, pooling, augmentation, head L2) by k-fold cross-validation on
/// the training images: features are extracted once for every setting at the same time (all candidate taps, average
/// and max pooling; flipped copies once), each candidate only slices them and fits its head per fold. Settings are
/// searched one at a time (pooling, taps, weight-free features, L2, augmentation), each step keeping the cheapest candidate whose score is
/// within one standard error of the step's best (the one-standard-error rule), the standard error of the difference
/// being a paired bootstrap over the images.
/// </summary>
internal sealed class ClassifierSearch
{
    /// <summary>The augmentation candidate: both flips.</summary>
    public const ImageAugmentation Flips = ImageAugmentation.FlipHorizontal | ImageAugmentation.FlipVertical;

    /// <summary>The L2 candidates: the default first (kept unless another is better by more than the noise), then stronger, then weaker.</summary>
    public static readonly double[] L2Candidates = [SoftmaxClassifierOptions.DefaultL2, 1e-2, 1e-1, 1e-4, 1e-5];

    private readonly Func<ClassifierSetting, float[][]> _features;
    private readonly Func<ClassifierSetting, double, List<float[]>[]?> _augmented;
    private readonly Func<float[][], List<float[]>[], double, float[][]> _outOfFold;
    private readonly int[] _y;
    private readonly int _labelCount;
    private readonly int _positive;
    private readonly int _seed;
    private readonly Dictionary<ClassifierSetting, (double Score, float[][] Probabilities)> _done = [];

    /// <summary>Creates a search over prepared features.</summary>
    /// <param name="features">The base features of a setting (one row per image).</param>
    /// <param name="augmented">The augmented copies of a setting's features, or null when they would not arrive within the given seconds.</param>
    /// <param name="outOfFold">Out-of-fold probabilities of the head fitted on the given features, copies and L2.</param>
    /// <param name="y">Each image's label index.</param>
    /// <param name="labelCount">Labels.</param>
    /// <param name="positive">The positive label's index for a two-label task scored by ROC AUC, or -1 (macro F1).</param>
    /// <param name="seed">Seed of the bootstrap.</param>
    public ClassifierSearch(Func<ClassifierSetting, float[][]> features, Func<ClassifierSetting, double, List<float[]>[]?> augmented,
        Func<float[][], List<float[]>[], double, float[][]> outOfFold, int[] y, int labelCount, int positive, int seed)
    {
        _features = features;
        _augmented = augmented;
        _outOfFold = outOfFold;
        _y = y;
        _labelCount = labelCount;
        _positive = positive;
        _seed = seed;
    }

    /// <summary>The figure a candidate is scored by.</summary>
    public string ScoreName => _positive >= 0 ? "roc_auc" : "macro_f1";

    /// <summary>The criterion in words, for the record.</summary>
    public string Criterion => $"{(_positive >= 0 ? "ROC AUC of the positive label" : "macro F1 of the likeliest label")} on out-of-fold predictions of a k-fold cross-validation on the training images (augmented copies only in the training folds); settings searched one at a time (pooling, taps, weight-free features, L2, augmentation), each step keeping the cheapest candidate whose score is within one standard error of the step's best (standard error of the paired difference, {PairedBootstrap.Samples} bootstrap resamples of the images)";

    /// <summary>Out-of-fold probabilities of a setting, or null when it was not run.</summary>
    public float[][]? Probabilities(ClassifierSetting setting) => _done.TryGetValue(setting, out (double Score, float[][] Probabilities) done) ? done.Probabilities : null;

    /// <summary>Runs the search.</summary>
    /// <param name="steps">The candidate values of each searched setting, as functions of the current choice (cheapest first); steps with one candidate are passed over.</param>
    /// <param name="start">The starting choice.</param>
    /// <param name="budgetSeconds">The time budget; infinity for none.</param>
    /// <param name="progress">Receives one report per candidate.</param>
    /// <param name="cancellationToken">Stops the search.</param>
    /// <returns>The choice and the record's candidates.</returns>
    public (ClassifierSetting Chosen, List<SearchCandidate> Candidates) Run(IReadOnlyList<Func<ClassifierSetting, ClassifierSetting[]>> steps, ClassifierSetting start,
        double budgetSeconds, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        Stopwatch clock = Stopwatch.StartNew();
        List<SearchCandidate> record = [];
        ClassifierSetting current = start;
        int total = 1 + steps.Sum(s => s(start).Length - 1);
        int tried = 0;
        double secondsPerCell = 0; // head seconds per (training row x feature) of the last candidate run
        foreach (Func<ClassifierSetting, ClassifierSetting[]> step in steps)
        {
            ClassifierSetting[] candidates = step(current);
            List<(ClassifierSetting Setting, double Score)> run = [];
            foreach (ClassifierSetting c in candidates)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_done.TryGetValue(c, out (double Score, float[][] Probabilities) known))
                {
                    run.Add((c, known.Score));
                    continue;
                }

                progress?.Report(new TrainingProgress($"{TrainingStages.Search} {c.Name}", (double)tried / total) { Done = tried, Total = total });
                tried++;
                Stopwatch one = Stopwatch.StartNew();
                float[][] x = _features(c);
                double cells = (double)x.Length * (1 + Copies(c.Augmentation)) * x[0].Length;
                double estimate = secondsPerCell * cells;
                // The first candidate always runs, whatever the budget: the model needs a setting that was scored.
                bool first = _done.Count == 0;
                List<float[]>[]? copies = !first && clock.Elapsed.TotalSeconds + estimate > budgetSeconds
                    ? null
                    : _augmented(c, first ? double.PositiveInfinity : budgetSeconds - clock.Elapsed.TotalSeconds - estimate);
                if (copies is null)
                {
                    record.Add(new SearchCandidate
                    {
                        Name = c.Name,
                        Settings = c.Settings(),
                        Skipped = string.Create(CultureInfo.InvariantCulture, $"time budget: its estimated time would pass {budgetSeconds:F0} s (after {clock.Elapsed.TotalSeconds:F0} s)"),
                    });
                    continue;
                }

                Stopwatch head = Stopwatch.StartNew();
                float[][] probabilities = _outOfFold(x, copies, c.L2);
                secondsPerCell = head.Elapsed.TotalSeconds / Math.Max(1, cells);
                double score = Score(probabilities, null);
                _done[c] = (score, probabilities);
                run.Add((c, score));
                record.Add(new SearchCandidate
                {
                    Name = c.Name,
                    Settings = c.Settings(),
                    Figures = new Dictionary<string, double>(StringComparer.Ordinal) { [ScoreName] = Math.Round(score, 4), ["accuracy"] = Math.Round(Accuracy(probabilities), 4) },
                    Seconds = Math.Round(one.Elapsed.TotalSeconds, 2),
                });
            }

            current = Choose(run, current);
        }

        progress?.Report(new TrainingProgress(TrainingStages.Search, 1) { Done = total, Total = total });
        return (current, record);
    }

    /// <summary>
    /// The one-standard-error rule: the first (cheapest) candidate whose score is within one standard error of the best
    /// score, the standard error being that of the paired difference between the two.
    /// </summary>
    private ClassifierSetting Choose(List<(ClassifierSetting Setting, double Score)> run, ClassifierSetting current)
    {
        if (run.Count == 0)
        {
            return current;
        }

        (ClassifierSetting best, double bestScore) = run[0];
        foreach ((ClassifierSetting s, double score) in run)
        {
            if (score > bestScore)
            {
                (best, bestScore) = (s, score);
            }
        }

        foreach ((ClassifierSetting s, double score) in run)
        {
            if (s == best || bestScore - score <= StandardError(_done[best].Probabilities, _done[s].Probabilities))
            {
                return s;
            }
        }

        return best;
    }

    /// <summary>The bootstrap standard error of score(a) - score(b), both scored on the same resampled images.</summary>
    internal double StandardError(float[][] a, float[][] b) =>
        PairedBootstrap.StandardError(_y.Length, _seed, sample => Score(a, sample) - Score(b, sample));

    /// <summary>The score of out-of-fold probabilities over the images (or a resample of them).</summary>
    internal double Score(float[][] probabilities, int[]? sample)
    {
        int n = sample?.Length ?? _y.Length;
        if (_positive >= 0)
        {
            double[] scores = new double[n];
            bool[] positives = new bool[n];
            for (int k = 0; k < n; k++)
            {
                int i = sample?[k] ?? k;
                scores[k] = probabilities[i][_positive];
                positives[k] = _y[i] == _positive;
            }

            double auc = BinaryMetrics.RocAuc(scores, positives);
            return double.IsNaN(auc) ? 0.5 : auc;
        }

        Span<int> tp = stackalloc int[_labelCount], fp = stackalloc int[_labelCount], fn = stackalloc int[_labelCount];
        for (int k = 0; k < n; k++)
        {
            int i = sample?[k] ?? k;
            int predicted = ArgMax(probabilities[i]);
            if (predicted == _y[i])
            {
                tp[predicted]++;
            }
            else
            {
                fp[predicted]++;
                fn[_y[i]]++;
            }
        }

        double f1 = 0;
        int present = 0;
        for (int c = 0; c < _labelCount; c++)
        {
            int denominator = (2 * tp[c]) + fp[c] + fn[c];
            if (denominator > 0)
            {
                f1 += 2.0 * tp[c] / denominator;
                present++;
            }
        }

        return present == 0 ? 0 : f1 / present;
    }

    private double Accuracy(float[][] probabilities)
    {
        int right = 0;
        for (int i = 0; i < _y.Length; i++)
        {
            right += ArgMax(probabilities[i]) == _y[i] ? 1 : 0;
        }

        return (double)right / _y.Length;
    }

    private static int ArgMax(float[] p) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p);

    /// <summary>Augmented copies per image.</summary>
    internal static int Copies(ImageAugmentation a) =>
        (a.HasFlag(ImageAugmentation.FlipHorizontal) ? 1 : 0) + (a.HasFlag(ImageAugmentation.FlipVertical) ? 1 : 0)
        + (a.HasFlag(ImageAugmentation.Rotate90) ? 3 : 0) + (a.HasFlag(ImageAugmentation.Crops) ? 4 : 0);
}
