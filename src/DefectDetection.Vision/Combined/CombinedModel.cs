using System.Security.Cryptography;
using DefectDetection.Imaging;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.Combined;

/// <summary>
/// An image classifier and a PatchCore anomaly model judging together: each member's score is standardised by the
/// out-of-fold scores of the training normals (the classifier's P(defect) as a logit), the two are added, and the sum
/// is compared with a threshold set on the training images' out-of-fold sums. The labels come from the classifier
/// (the likeliest defect label of a defective image, the likeliest normal label otherwise); the anomaly map and the
/// located defects come from the anomaly model. <see cref="DefectDetection.Vision.LearnerChoice.LearnerChoiceTrainer"/> makes it when cross-validation
/// shows that the two together separate defects from normal images better than either alone.
/// </summary>
public sealed class CombinedModel : IDefectModel, ICropClassifier
{
    private const string ClassifierMember = "classifier";
    private const string AnomalyMember = "anomaly";
    private const double LogitClamp = 1e-6;
    private readonly HashSet<string> _normal;
    private int _disposed;

    internal CombinedModel(ImageClassificationModel classifier, PatchCoreModel anomaly, Standardisation classifierScores, Standardisation anomalyScores,
        double threshold, double confidenceScale, string thresholdRule, TrainingSearch? search)
    {
        Classifier = classifier;
        Anomaly = anomaly;
        ClassifierScores = classifierScores;
        AnomalyScores = anomalyScores;
        Threshold = ModelContract.ScoreThreshold(threshold);
        ConfidenceScale = confidenceScale > 0 && double.IsFinite(confidenceScale) ? confidenceScale : 1;
        ThresholdRule = thresholdRule;
        Search = search;
        _normal = new HashSet<string>(classifier.NormalLabels, StringComparer.Ordinal);
    }

    /// <summary>The classifier member (labels).</summary>
    public ImageClassificationModel Classifier { get; }

    /// <summary>The anomaly member (maps and located defects).</summary>
    public PatchCoreModel Anomaly { get; }

    /// <summary>How the classifier's P(defect) is standardised: its logit's mean and standard deviation over the out-of-fold training normals.</summary>
    public Standardisation ClassifierScores { get; }

    /// <summary>How the anomaly score is standardised: its mean and standard deviation over the out-of-fold training normals.</summary>
    public Standardisation AnomalyScores { get; }

    /// <summary>The threshold on the summed standardised score (<see cref="DefectPrediction.Score"/>).</summary>
    public double Threshold { get; }

    /// <summary>The scale that turns the distance from the threshold into a confidence (the spread of the normals' sums).</summary>
    public double ConfidenceScale { get; }

    /// <summary>How the threshold was set, in words.</summary>
    public string ThresholdRule { get; }

    /// <summary>The learner choice's record (candidates, their cross-validated figures, the choice), or null.</summary>
    public TrainingSearch? Search { get; }

    /// <inheritdoc />
    public string Learner => Learners.Combined;

    /// <inheritdoc />
    public DefectTask Task => DefectTask.Classification;

    /// <inheritdoc />
    public IReadOnlyList<string> Labels => Classifier.Labels;

    /// <inheritdoc />
    public IReadOnlyList<string> NormalLabels => Classifier.NormalLabels;

    /// <inheritdoc />
    double? IDefectModel.Threshold => Threshold;

    /// <inheritdoc />
    public CropSize? InputSize => null;

    /// <summary>The summed standardised score of a classifier's P(defect) and an anomaly score.</summary>
    internal static double Sum(Standardisation classifier, Standardisation anomaly, double pDefect, double anomalyScore) =>
        classifier.Apply(Logit(pDefect)) + anomaly.Apply(anomalyScore);

    /// <summary>The logit of a probability, clamped away from 0 and 1.</summary>
    internal static double Logit(double p)
    {
        double q = Math.Clamp(p, LogitClamp, 1 - LogitClamp);
        return Math.Log(q / (1 - q));
    }

    /// <inheritdoc />
    public DefectPrediction Predict(ImageView image, CancellationToken cancellationToken = default) => Predict([image], cancellationToken)[0];

    /// <inheritdoc />
    public IReadOnlyList<DefectPrediction> Predict(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        IReadOnlyList<DefectPrediction> labels = Classifier.Predict(images, cancellationToken);
        IReadOnlyList<DefectPrediction> maps = Anomaly.Predict(images, cancellationToken);
        var result = new DefectPrediction[images.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Join(labels[i], maps[i]);
        }

        return result;
    }

    private DefectPrediction Join(DefectPrediction c, DefectPrediction a)
    {
        double score = Sum(ClassifierScores, AnomalyScores, c.Score, a.Score);
        bool isDefect = score >= Threshold;
        float confidence = AnomalyThreshold.Confidence(score, Threshold, ConfidenceScale);

        // The label scores keep the classifier's proportions within the defect and the normal labels, and give the
        // defect labels together the combined confidence, so the likeliest label agrees with the verdict.
        double defectMass = c.LabelScores.Where(kv => !_normal.Contains(kv.Key)).Sum(kv => (double)kv.Value);
        double normalMass = c.LabelScores.Where(kv => _normal.Contains(kv.Key)).Sum(kv => (double)kv.Value);
        int defectLabels = Labels.Count(l => !_normal.Contains(l)), normalLabels = Labels.Count - defectLabels;
        Dictionary<string, float> scores = new(StringComparer.Ordinal);
        foreach (string l in Labels)
        {
            float p = c.LabelScores.TryGetValue(l, out float v) ? v : 0;
            scores[l] = _normal.Contains(l)
                ? (float)((1 - confidence) * (normalMass > 0 ? p / normalMass : 1.0 / Math.Max(1, normalLabels)))
                : (float)(confidence * (defectMass > 0 ? p / defectMass : 1.0 / Math.Max(1, defectLabels)));
        }

        string label = scores.Where(kv => _normal.Contains(kv.Key) != isDefect).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).FirstOrDefault()
            ?? c.Label;
        return new DefectPrediction
        {
            ImageWidth = c.ImageWidth,
            ImageHeight = c.ImageHeight,
            IsDefect = isDefect,
            Label = label,
            LabelScores = scores,
            Score = score,
            Threshold = Threshold,
            Confidence = confidence,
            AnomalyMap = a.AnomalyMap,
            Mask = a.Mask,
            Defects = isDefect ? a.Defects : [],
        };
    }

    /// <inheritdoc />
    public IReadOnlyList<CropVerdict> Classify(IReadOnlyList<ImageView> crops, CancellationToken cancellationToken = default) =>
        [.. Predict(crops, cancellationToken).Select(p => new CropVerdict(p.Label, p.IsDefect, p.Confidence, (float)p.Score))];

    /// <inheritdoc />
    public IDefectModel WithThreshold(double threshold) =>
        new CombinedModel(Classifier.WithSearch(Classifier.Training.Search), Anomaly.WithSearch(Anomaly.Search),
            ClassifierScores, AnomalyScores, ModelContract.ScoreThreshold(threshold), ConfidenceScale, ThresholdRule, Search);

    /// <inheritdoc />
    public ICropClassifier AsCropClassifier() => this;

    /// <inheritdoc />
    public void Save(string path, DefectModelSaveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ToPackage(options).Save(path, new ModelSaveOptions { Overwrite = options?.Overwrite ?? false });
    }

    /// <inheritdoc />
    public void Save(Stream stream, DefectModelSaveOptions? options = null) => ToPackage(options).Save(stream);

    // The members as whole model files without their backbone, which the outer file stores once.
    private ModelPackage ToPackage(DefectModelSaveOptions? options)
    {
        options ??= new DefectModelSaveOptions();
        DefectModelSaveOptions memberOptions = new() { EmbedBackbone = false, DataSource = options.DataSource };
        byte[] classifier = Bytes(Classifier, memberOptions), anomaly = Bytes(Anomaly, memberOptions);
        byte[]? backbone = Classifier.BackboneBytes;
        ModelManifest manifest = new()
        {
            Task = ImageClassificationModel.TaskName,
            Learner = Learners.Combined,
            Labels = [.. Labels],
            Backbone = Classifier.Backbone is { } b ? new BackboneInfo { Name = b.Name, Sha256 = b.Sha256, TappedLayers = [], Embedded = options.EmbedBackbone && backbone is not null, Input = b.InputName } : null,
            Threshold = Threshold,
            TrainingData = new TrainingDataSummary { ImageCount = Classifier.Training.ImageCount, PerLabel = Classifier.Training.PerLabel, Source = options.DataSource },
            Combined = new CombinedSection
            {
                Members =
                [
                    Member(ClassifierMember, Classifier.Learner, classifier, "logit", ClassifierScores),
                    Member(AnomalyMember, Anomaly.Learner, anomaly, "score", AnomalyScores),
                ],
                ThresholdRule = ThresholdRule,
                ConfidenceScale = ConfidenceScale,
            },
            Search = Search,
        };
        return new ModelPackage(manifest, new Dictionary<string, ModelTensor>(), manifest.Backbone is { Embedded: true } ? backbone : null,
            new Dictionary<string, byte[]> { [ClassifierMember] = classifier, [AnomalyMember] = anomaly });

        static byte[] Bytes(IDefectModel model, DefectModelSaveOptions o)
        {
            using MemoryStream s = new();
            model.Save(s, o);
            return s.ToArray();
        }

        static CombinedMember Member(string name, string learner, byte[] bytes, string transform, Standardisation z) => new()
        {
            Name = name,
            Learner = learner,
            Bytes = bytes.LongLength,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            Transform = transform,
            Center = z.Center,
            Scale = z.Scale,
        };
    }

    /// <summary>Loads a combined model file: each member is loaded from its nested file with the outer file's backbone.</summary>
    internal static CombinedModel Load(string path, string? backbonePath, int threads)
    {
        ModelPackage package = ModelPackage.Load(path, new ModelLoadOptions { BackbonePath = backbonePath });
        ModelManifest m = package.Manifest;
        CombinedSection section = m.Combined!;
        CombinedMember c = section.Members.FirstOrDefault(x => x.Name == ClassifierMember && x.Learner == Learners.ImageClassifier && x.Transform == "logit")
            ?? throw new ModelFileException(path, "manifest.json", $"$.{Learners.Combined}.members", $"no member '{ClassifierMember}' of the {Learners.ImageClassifier} learner with the logit transform");
        CombinedMember a = section.Members.FirstOrDefault(x => x.Name == AnomalyMember && x.Learner == Learners.PatchCore && x.Transform == "score")
            ?? throw new ModelFileException(path, "manifest.json", $"$.{Learners.Combined}.members", $"no member '{AnomalyMember}' of the {Learners.PatchCore} learner with the score transform");
        if (section.Members.Count != 2 || m.Threshold is not { } threshold)
        {
            throw new ModelFileException(path, "manifest.json", "$", "a combined model holds exactly a classifier and an anomaly member and a threshold");
        }

        string folder = Path.Combine(Path.GetTempPath(), "ddcombined-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        ImageClassificationModel? classifier = null;
        try
        {
            string? backbone = backbonePath;
            if (package.EmbeddedBackbone is { } bytes)
            {
                backbone = Path.Combine(folder, "backbone.onnx");
                File.WriteAllBytes(backbone, bytes);
            }

            classifier = LoadMember(path, folder, c, package, p => ImageClassificationModel.Load(p, backbone, threads));
            PatchCoreModel anomaly = LoadMember(path, folder, a, package, p => PatchCoreModel.Load(p, backbone, threads));
            return new CombinedModel(classifier, anomaly, new Standardisation(c.Center, c.Scale), new Standardisation(a.Center, a.Scale), threshold, section.ConfidenceScale, section.ThresholdRule, m.Search);
        }
        catch
        {
            classifier?.Dispose();
            throw;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static T LoadMember<T>(string path, string folder, CombinedMember member, ModelPackage package, Func<string, T> load)
    {
        string file = Path.Combine(folder, member.Name + ModelPackage.FileExtension);
        File.WriteAllBytes(file, package.Members[member.Name]);
        try
        {
            return load(file);
        }
        catch (ModelFileException ex)
        {
            throw new ModelFileException(path, $"members/{member.Name}.ddmodel", $"the member '{member.Name}' cannot be loaded: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Classifier.Dispose();
            Anomaly.Dispose();
        }
    }
}

/// <summary>A member score's standardisation: <c>(value - Center) / Scale</c>.</summary>
/// <param name="Center">The mean of the out-of-fold training normals' values.</param>
/// <param name="Scale">Their standard deviation (positive).</param>
public readonly record struct Standardisation(double Center, double Scale)
{
    /// <summary>The standardised value.</summary>
    public double Apply(double value) => (value - Center) / Scale;

    /// <summary>The mean and standard deviation of <paramref name="values"/>, the deviation floored so that a constant set still divides.</summary>
    internal static Standardisation Of(IReadOnlyList<double> values)
    {
        (double mean, double std) = AnomalyThreshold.MeanStd(values);
        return new Standardisation(mean, Math.Max(std, Math.Max(1e-6, 1e-3 * Math.Abs(mean))));
    }
}
