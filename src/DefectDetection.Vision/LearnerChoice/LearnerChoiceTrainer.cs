using System.Diagnostics;
using DefectDetection.Datasets;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Combined;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.LearnerChoice;

/// <summary>
/// Trains the learner that suits the data, chosen from the training images alone:
/// <list type="bullet">
/// <item>only normal images: the anomaly model;</item>
/// <item>no normal images, or no anomaly candidate (<see cref="LearnerChoiceOptions.Anomaly"/> null, or no
/// backbone): the image classifier;</item>
/// <item>normal and defect images: the classifier and the anomaly model are both trained (each with its own automatic
/// configuration), and each training image gets a score from a model that did not learn it (the classifier's
/// cross-validation folds; the anomaly model's normals scored in its calibration folds, its defect images, which it
/// never learns, against the normals' bank). The classifier, the anomaly model (two labels only: it gives no defect
/// types) and both combined (<see cref="CombinedModel"/>) are compared by the ROC AUC of defect against normal on those
/// scores, and a costlier candidate replaces a cheaper one only when it wins by more than one bootstrap standard
/// error of the paired difference.</item>
/// </list>
/// The record is <see cref="TrainingSearch.LearnerChoice"/> of the returned model's search.
/// </summary>
public sealed class LearnerChoiceTrainer : IDefectTrainer
{
    /// <summary>The learner names of the record's candidates.</summary>
    public const string ClassifierCandidate = "classifier", AnomalyCandidate = "anomaly model", CombinedCandidate = "combined";

    /// <summary>Creates the trainer.</summary>
    /// <param name="options">The learners' options.</param>
    public LearnerChoiceTrainer(LearnerChoiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Classifier, nameof(options.Classifier));
        Options = options;
    }

    /// <summary>The options.</summary>
    public LearnerChoiceOptions Options { get; }

    /// <summary>Chooses the learner and trains it (see the class remarks).</summary>
    /// <param name="dataset">The training images with their labels.</param>
    /// <param name="progress">Receives each learner's progress, its stages prefixed by the learner (<c>classifier: features</c>).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>An <see cref="ImageClassificationModel"/>, a <see cref="PatchCoreModel"/> or a <see cref="CombinedModel"/>.</returns>
    /// <exception cref="ArgumentException">The data suits no learner (the message says why).</exception>
    public IDefectModel Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Stopwatch clock = Stopwatch.StartNew();
        HashSet<string> normal = new(Options.Classifier.NormalLabels, StringComparer.Ordinal);
        IReadOnlyDictionary<string, int> counts = dataset.CountByLabel();
        string[] normalLabels = [.. counts.Where(c => c.Value > 0 && normal.Contains(c.Key)).Select(c => c.Key).Order(StringComparer.Ordinal)];
        int normals = counts.Where(c => normal.Contains(c.Key)).Sum(c => c.Value), defects = dataset.Count - normals;
        string? noAnomaly = Options.Anomaly?.Backbone is null ? "no backbone for the anomaly model"
            : normals < 2 ? $"{normals} normal image(s); the anomaly model needs at least two"
            : null;

        if (defects == 0)
        {
            if (noAnomaly is not null)
            {
                throw new ArgumentException($"The data holds only normal images ({string.Join(", ", normalLabels)}), which train an anomaly model, but there is {noAnomaly}.", nameof(dataset));
            }

            PatchCoreModel only = FitAnomaly(dataset, normalLabels, AnomalyThresholdSource.Normals, progress, cancellationToken);
            return Recorded(only, only.WithSearch(WithChoice(only.Search, Record(clock, [Skipped(ClassifierCandidate, "the data has no labelled defects")], AnomalyCandidate, dataset.Count, 0))));
        }

        if (noAnomaly is not null || normals == 0)
        {
            ImageClassificationModel alone = FitClassifier(dataset, progress, cancellationToken);
            string why = normals == 0 ? "the data has no normal images" : noAnomaly!;
            return Recorded(alone, alone.WithSearch(WithChoice(alone.Training.Search, Record(clock, [Skipped(AnomalyCandidate, why), Skipped(CombinedCandidate, why)], ClassifierCandidate, dataset.Count, 0))));
        }

        ImageClassificationModel classifier = FitClassifier(dataset, progress, cancellationToken);
        PatchCoreModel? anomaly = null;
        try
        {
            double classifierSeconds = clock.Elapsed.TotalSeconds;
            anomaly = FitAnomaly(dataset, normalLabels, AnomalyThresholdSource.LabelledAnomalies, progress, cancellationToken);
            double anomalySeconds = clock.Elapsed.TotalSeconds - classifierSeconds;
            return Choose(dataset, normal, classifier, anomaly, classifierSeconds, anomalySeconds, clock, progress);
        }
        catch
        {
            classifier.Dispose();
            anomaly?.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    IDefectModel IDefectTrainer.Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) => Fit(dataset, progress, cancellationToken);

    // Compares the learners on the images both scored out of fold, keeps the chosen one and disposes the other.
    private IDefectModel Choose(ImageDataset dataset, HashSet<string> normal, ImageClassificationModel classifier, PatchCoreModel anomaly,
        double classifierSeconds, double anomalySeconds, Stopwatch clock, IProgress<TrainingProgress>? progress)
    {
        progress?.Report(new TrainingProgress("learner choice", 0));
        OutOfFoldScores c = classifier.OutOfFold ?? throw new InvalidOperationException("The classifier kept no out-of-fold scores.");
        OutOfFoldScores? a = anomaly.OutOfFold;
        Dictionary<string, string> labelOf = [];
        foreach (LabeledImage image in dataset)
        {
            labelOf.TryAdd(image.ImagePath, image.Label);
        }

        Dictionary<string, double> pDefect = [];
        for (int i = 0; i < c.Paths.Count; i++)
        {
            pDefect[c.Paths[i]] = c.Scores[i];
        }

        // The images both learners scored out of fold: the anomaly model's calibration normals and every defect image.
        List<(double P, double A, bool Defect)> rows = [];
        for (int i = 0; a is not null && i < a.Paths.Count; i++)
        {
            if (pDefect.TryGetValue(a.Paths[i], out double p) && labelOf.TryGetValue(a.Paths[i], out string? label))
            {
                rows.Add((p, a.Scores[i], !normal.Contains(label)));
            }
        }

        int positives = rows.Count(r => r.Defect);
        if (positives == 0 || positives == rows.Count)
        {
            anomaly.Dispose();
            string why = "no out-of-fold scores of both normal and defect images to compare the learners on";
            return Recorded(classifier, classifier.WithSearch(WithChoice(classifier.Training.Search, Record(clock, [Skipped(AnomalyCandidate, why), Skipped(CombinedCandidate, why)], ClassifierCandidate, rows.Count, 0))));
        }

        // Each member standardised by its training normals' out-of-fold scores (the classifier's over every normal image).
        Standardisation zc = Standardisation.Of([.. c.Paths.Select((p, i) => (p, i)).Where(x => normal.Contains(labelOf[x.p])).Select(x => CombinedModel.Logit(c.Scores[x.i]))]);
        Standardisation za = Standardisation.Of([.. rows.Where(r => !r.Defect).Select(r => r.A)]);
        bool[] truth = [.. rows.Select(r => r.Defect)];
        double[][] scores =
        [
            [.. rows.Select(r => r.P)],
            [.. rows.Select(r => r.A)],
            [.. rows.Select(r => CombinedModel.Sum(zc, za, r.P, r.A))],
        ];
        string[] names = [ClassifierCandidate, AnomalyCandidate, CombinedCandidate];
        double[] seconds = [classifierSeconds, anomalySeconds, classifierSeconds + anomalySeconds];
        bool twoLabels = classifier.Labels.Count == 2;
        (int chosen, double[] auc, double[] gains) = Decide(scores, truth, twoLabels, Options.Seed);

        List<SearchCandidate> candidates = [];
        for (int k = 0; k < 3; k++)
        {
            candidates.Add(k == 1 && !twoLabels
                ? Skipped(AnomalyCandidate, $"{classifier.Labels.Count} labels: an anomaly model alone gives no defect types")
                : new SearchCandidate
                {
                    Name = names[k],
                    Settings = new Dictionary<string, double>(StringComparer.Ordinal) { ["learner"] = k },
                    Figures = k == 0
                        ? new Dictionary<string, double>(StringComparer.Ordinal) { ["roc_auc"] = Math.Round(auc[k], 4) }
                        : new Dictionary<string, double>(StringComparer.Ordinal) { ["roc_auc"] = Math.Round(auc[k], 4), ["auroc_gain_se"] = Math.Round(gains[k], 4) },
                    Seconds = Math.Round(seconds[k], 2),
                });
        }

        TrainingSearch record = Record(clock, candidates, names[chosen], rows.Count, rows.Count);
        progress?.Report(new TrainingProgress("learner choice", 1));
        switch (chosen)
        {
            case 0:
                anomaly.Dispose();
                return Recorded(classifier, classifier.WithSearch(WithChoice(classifier.Training.Search, record)));
            case 1:
                classifier.Dispose();
                return Recorded(anomaly, anomaly.WithSearch(WithChoice(anomaly.Search, record)));
            default:
                double[] normalSums = [.. rows.Where(r => !r.Defect).Select(r => CombinedModel.Sum(zc, za, r.P, r.A))];
                double[] defectSums = [.. rows.Where(r => r.Defect).Select(r => CombinedModel.Sum(zc, za, r.P, r.A)).Order()];
                // The normals scored are a sample when there are more than the calibration takes: each stands for its share.
                int allNormals = dataset.Count(i => normal.Contains(i.Label));
                double threshold = AnomalyThreshold.FromLabelled(normalSums, defectSums, (double)allNormals / normalSums.Length);
                double spread = AnomalyThreshold.MeanStd(normalSums).Std;
                string rule = allNormals == normalSums.Length
                    ? $"best F1 over the out-of-fold sums of {normalSums.Length} normal and {defectSums.Length} defect images"
                    : $"best F1 over the out-of-fold sums of {defectSums.Length} defect images and {normalSums.Length} of the {allNormals} normal images, each counted {(double)allNormals / normalSums.Length:0.##} times";
                return new CombinedModel(classifier, anomaly, zc, za, threshold, spread, rule,
                    new TrainingSearch { Criterion = "each member searched its own settings (the member files hold their records)", LearnerChoice = record });
        }
    }

    /// <summary>
    /// The learner rule on out-of-fold scores (rows: classifier, anomaly model, combined): the cheapest first, and a
    /// costlier one replaces the current choice only when its ROC AUC is higher by more than one bootstrap standard
    /// error of the paired difference. The anomaly model alone is a candidate only for two labels.
    /// </summary>
    /// <returns>The chosen row, each row's ROC AUC, and each later row's standard error against the choice it was weighed against.</returns>
    internal static (int Chosen, double[] Auc, double[] StandardErrors) Decide(double[][] scores, bool[] truth, bool twoLabels, int seed)
    {
        double[] auc = [.. scores.Select(s => BinaryMetrics.RocAuc(s, truth))];
        int chosen = 0;
        var errors = new double[scores.Length];
        foreach (int k in twoLabels ? new[] { 1, 2 } : [2])
        {
            int current = chosen;
            double se = PairedBootstrap.StandardError(truth.Length, seed, sample =>
            {
                double d = Auc(scores[k], truth, sample) - Auc(scores[current], truth, sample);
                return double.IsNaN(d) ? 0 : d; // a resample of one class has no AUC: no difference
            });
            errors[k] = se;
            if (auc[k] - auc[current] > se)
            {
                chosen = k;
            }
        }

        return (chosen, auc, errors);
    }

    // The ROC AUC over the rows drawn (NaN when they hold one class only).
    private static double Auc(double[] scores, bool[] truth, int[] sample)
    {
        double[] s = new double[sample.Length];
        bool[] t = new bool[sample.Length];
        for (int i = 0; i < sample.Length; i++)
        {
            s[i] = scores[sample[i]];
            t[i] = truth[sample[i]];
        }

        return BinaryMetrics.RocAuc(s, t);
    }

    private ImageClassificationModel FitClassifier(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        using ImageClassificationTrainer trainer = new(Options.Classifier);
        return trainer.Fit(dataset, Prefixed(progress, ClassifierCandidate), cancellationToken);
    }

    private PatchCoreModel FitAnomaly(ImageDataset dataset, string[] normalLabels, AnomalyThresholdSource source, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        PatchCoreOptions o = Options.Anomaly!;
        AnomalyThresholdOptions t = o.Threshold;
        PatchCoreOptions options = o with
        {
            NormalLabels = normalLabels,
            Threshold = new AnomalyThresholdOptions { Source = source, Rule = t.Rule, Percentile = t.Percentile, K = t.K, Folds = t.Folds, MaxCalibrationImages = t.MaxCalibrationImages },
        };
        return new PatchCoreTrainer(options).Fit(dataset, Prefixed(progress, AnomalyCandidate), cancellationToken);
    }

    private static IProgress<TrainingProgress>? Prefixed(IProgress<TrainingProgress>? progress, string learner) =>
        progress is null ? null : new PrefixedProgress(progress, learner + ": ");

    // The copy with the record shares the trained state; the model it was made from lets go of its share.
    private static T Recorded<T>(T original, T recorded)
        where T : IDisposable
    {
        original.Dispose();
        return recorded;
    }

    private static SearchCandidate Skipped(string name, string why) => new() { Name = name, Skipped = why };

    private TrainingSearch Record(Stopwatch clock, List<SearchCandidate> candidates, string chosen, int images, int validation) => new()
    {
        Criterion = "ROC AUC of defect vs normal over out-of-fold scores (the classifier's cross-validation folds; the anomaly model's normals scored in its calibration folds and the defect images, which it never learns, against the normals' bank); a costlier learner must win by more than one bootstrap standard error",
        Searched = ["learner"],
        Candidates = candidates,
        Chosen = chosen,
        Seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
        TrainImages = images,
        ValidationImages = validation,
    };

    private static TrainingSearch WithChoice(TrainingSearch? own, TrainingSearch choice) => own is null
        ? new TrainingSearch { Criterion = "the learner's settings were given", LearnerChoice = choice }
        : new TrainingSearch
        {
            Criterion = own.Criterion,
            Searched = own.Searched,
            Candidates = own.Candidates,
            Chosen = own.Chosen,
            BudgetSeconds = own.BudgetSeconds,
            Seconds = own.Seconds,
            TrainImages = own.TrainImages,
            ValidationImages = own.ValidationImages,
            LearnerChoice = choice,
        };

    private sealed class PrefixedProgress(IProgress<TrainingProgress> target, string prefix) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => target.Report(value with { Stage = prefix + value.Stage });
    }
}
