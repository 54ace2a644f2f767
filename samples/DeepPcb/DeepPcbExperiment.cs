using System.Diagnostics;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Classification;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Samples.DeepPcb;

/// <summary>Settings of the experiment.</summary>
public sealed record DeepPcbOptions
{
    public required string DatasetFolder { get; init; }

    /// <summary>Use only the first N training and test pairs (0 = all).</summary>
    public int Limit { get; init; }

    /// <summary>Use only the first N training pairs (0 = as <see cref="Limit"/>).</summary>
    public int TrainLimit { get; init; }

    /// <summary>Images inspected in parallel when measuring speed.</summary>
    public int Threads { get; init; } = 2;

    public TemplateDifferenceOptions Detector { get; init; } = new()
    {
        MaxShift = 16,
        Tolerance = 2,
        MergeDistance = Env("DEEPPCB_MERGE", 0),
        MinArea = Env("DEEPPCB_MINAREA", 2),
        BoxMargin = 0,
        MinBoxSize = Env("DEEPPCB_MINBOX", 30),
    };

    public TemplateDifferenceClassifierOptions Classifier { get; init; } = new() { MaxShift = 16, Context = Env("DEEPPCB_CONTEXT", 4), Trees = Env("DEEPPCB_TREES", 64) };

    /// <summary>Same-type defects closer than this are one defect (the detector splits some defects in pieces).</summary>
    public int DuplicateDistance { get; init; } = 6;

    public TextWriter? Log { get; init; }

    private static int Env(string name, int value) => int.TryParse(Environment.GetEnvironmentVariable(name), out int v) ? v : value;
}

/// <summary>What the experiment measured.</summary>
public sealed record DeepPcbResult(DetectionMetrics Metrics, double ImagesPerSecond, int TrainPairs, TimeSpan TrainingTime);

/// <summary>
/// DeepPCB: train the template-difference crop classifier on train.txt, then inspect every test.txt pair through a
/// <see cref="DefectPipeline"/> (template-difference detector + classifier bound to the pair's template) and score the
/// defects with the dataset's protocol (same type, IoU above 0.33, greedy by confidence).
/// </summary>
public sealed class DeepPcbExperiment(DeepPcbOptions options)
{
    private readonly DeepPcbOptions _o = options;

    public DeepPcbResult Run()
    {
        IReadOnlyList<DeepPcbPair> train = DeepPcbDataset.ReadList(Path.Combine(_o.DatasetFolder, "train.txt"));
        train = _o.TrainLimit > 0 ? [.. train.Take(_o.TrainLimit)] : Take(train);
        IReadOnlyList<DeepPcbPair> test = Take(DeepPcbDataset.ReadList(Path.Combine(_o.DatasetFolder, "test.txt")));
        TemplateDifferenceRoiDetector detector = new(null, _o.Detector);

        Stopwatch trainClock = Stopwatch.StartNew();
        TemplateDifferenceCropClassifier classifier = new TemplateDifferenceClassifierTrainer(_o.Classifier).Fit(Load(train), detector);
        trainClock.Stop();
        Log($"trained on {train.Count} pairs in {trainClock.Elapsed.TotalSeconds:F1} s; labels {string.Join(", ", classifier.Labels)}");

        DefectPipelineOptions pipelineOptions = new()
        {
            ContextMargin = 0,
            MaxDegreeOfParallelism = 1,
            DuplicateSuppressionDistance = _o.DuplicateDistance,
        };

        // Warm up (JIT) on a few pairs, then time decode + detect + classify of every test pair on _o.Threads threads.
        foreach (DeepPcbPair pair in test.Take(Math.Min(8, test.Count)))
        {
            _ = Inspect(pair, classifier, pipelineOptions);
        }

        if (Environment.GetEnvironmentVariable("DEEPPCB_PROFILE") is not null)
        {
            Profile(test, classifier);
        }

        DetectionSample[] samples = new DetectionSample[test.Count];
        Stopwatch clock = Stopwatch.StartNew();
        Parallel.For(0, test.Count, new ParallelOptions { MaxDegreeOfParallelism = _o.Threads }, i =>
        {
            InspectionResult result = Inspect(test[i], classifier, pipelineOptions);
            samples[i] = new DetectionSample(test[i].Defects, [.. result.Defects.Select(d => new ScoredBox(d.Box, d.Label, d.Confidence))]);
        });
        clock.Stop();
        double ips = test.Count / clock.Elapsed.TotalSeconds;

        if (Environment.GetEnvironmentVariable("DEEPPCB_DIAG") is not null)
        {
            Confusion(test, classifier);
            Dictionary<string, int> sizing = [];
            foreach (DetectionSample sample in samples)
            {
                foreach (LabeledBox gt in sample.Truth)
                {
                    bool good = sample.Detections.Any(d => d.Label == gt.Label && Rectangle.IntersectionOverUnion(d.Box, gt.Box) > 0.33);
                    ScoredBox? near = sample.Detections.Where(d => d.Label == gt.Label && Rectangle.Intersect(d.Box, gt.Box).Area > 0).Select(d => (ScoredBox?)d).FirstOrDefault();
                    if (!good && near is { } nb)
                    {
                        sizing[gt.Label] = sizing.GetValueOrDefault(gt.Label) + 1;
                        Log($"sizing {gt.Label}: gt {gt.Box} det {nb.Box}");
                    }
                }
            }

            Log("lost to box size: " + string.Join(", ", sizing.Select(kv => $"{kv.Key} {kv.Value}")));
            foreach (var group in Enumerable.Range(0, test.Count).GroupBy(i => Path.GetFileName(Path.GetDirectoryName(test[i].TestImagePath))))
            {
                DetectionMetrics g = DetectionEvaluator.Evaluate([.. group.Select(i => samples[i])], new DetectionEvaluationOptions { IouThreshold = 0.33 });
                Log($"group {group.Key}: {group.Count()} pairs, P {g.Precision:P1} R {g.Recall:P1} F {g.FScore:P1}");
            }
        }

        DetectionMetrics metrics = DetectionEvaluator.Evaluate(samples, new DetectionEvaluationOptions { IouThreshold = 0.33 });
        return new DeepPcbResult(metrics, ips, train.Count, trainClock.Elapsed);
    }

    private InspectionResult Inspect(DeepPcbPair pair, TemplateDifferenceCropClassifier classifier, DefectPipelineOptions pipelineOptions)
    {
        using Image template = ImageCodecs.Load(pair.TemplateImagePath);
        using Image test = ImageCodecs.Load(pair.TestImagePath);
        DefectPipeline pipeline = new(new TemplateDifferenceRoiDetector(template, _o.Detector), classifier.WithReference(template), pipelineOptions);
        return pipeline.Inspect(test);
    }

    private void Profile(IReadOnlyList<DeepPcbPair> test, TemplateDifferenceCropClassifier classifier)
    {
        TimeSpan decode = TimeSpan.Zero, detect = TimeSpan.Zero, classify = TimeSpan.Zero;
        int rois = 0;
        foreach (DeepPcbPair pair in test)
        {
            TimeSpan t0 = Process.GetCurrentProcess().TotalProcessorTime;
            using Image template = ImageCodecs.Load(pair.TemplateImagePath);
            using Image image = ImageCodecs.Load(pair.TestImagePath);
            TimeSpan t1 = Process.GetCurrentProcess().TotalProcessorTime;
            IReadOnlyList<RegionOfInterest> found = new TemplateDifferenceRoiDetector(template, _o.Detector).Detect(image);
            TimeSpan t2 = Process.GetCurrentProcess().TotalProcessorTime;
            TemplateDifferenceCropClassifier bound = classifier.WithReference(template);
            _ = bound.Classify([.. found.Select(r => image.View(r.Box))]);
            TimeSpan t3 = Process.GetCurrentProcess().TotalProcessorTime;
            decode += t1 - t0;
            detect += t2 - t1;
            classify += t3 - t2;
            rois += found.Count;
        }

        Log($"CPU ms per pair: decode {decode.TotalMilliseconds / test.Count:F2}, detect {detect.TotalMilliseconds / test.Count:F2}, classify {classify.TotalMilliseconds / test.Count:F2} ({(double)rois / test.Count:F1} candidates)");
    }

    private void Confusion(IReadOnlyList<DeepPcbPair> test, TemplateDifferenceCropClassifier classifier)
    {
        TemplateDifferenceRoiDetector detector = new(null, _o.Detector);
        Dictionary<(string, string), int> counts = [];
        int dumped = 0;
        foreach (DeepPcbPair pair in test)
        {
            using Image template = ImageCodecs.Load(pair.TemplateImagePath);
            using Image image = ImageCodecs.Load(pair.TestImagePath);
            foreach (RegionOfInterest roi in detector.Detect(image, template))
            {
                string truth = pair.Defects.Where(d => Rectangle.Intersect(d.Box, new Rectangle(roi.Box.X + (roi.Box.Width / 2), roi.Box.Y + (roi.Box.Height / 2), 1, 1)).Area > 0).OrderBy(d => d.Box.Area).Select(d => d.Label).FirstOrDefault() ?? "noise";
                string predicted = classifier.Classify(image, template, roi.Box).Label;
                counts[(truth, predicted)] = counts.GetValueOrDefault((truth, predicted)) + 1;
                if (truth == "noise" && predicted == "mousebite" && pair.TestImagePath.Contains("90100", StringComparison.Ordinal) && dumped < 40 && Environment.GetEnvironmentVariable("DEEPPCB_DUMP") is not null)
                {
                    dumped++;
                    Log($"dump{dumped}: {truth}->{predicted} {pair.TestImagePath} {roi.Box} near: {string.Join(",", pair.Defects.Where(d => Rectangle.Intersect(d.Box, roi.Box.Inflate(20)).Area > 0))}");
                    Explore.Save(image, template, roi.Box.Inflate(10), $"/tmp/nm{dumped}.png");
                }
            }
        }

        string[] labels = [.. classifier.Labels];
        Log("truth \\ predicted: " + string.Join(" ", labels.Select(l => $"{l,9}")));
        foreach (string t in labels)
        {
            Log($"{t,-18} " + string.Join(" ", labels.Select(p => $"{counts.GetValueOrDefault((t, p)),9}")));
        }
    }

    private IReadOnlyList<DeepPcbPair> Take(IReadOnlyList<DeepPcbPair> pairs) => _o.Limit > 0 ? [.. pairs.Take(_o.Limit)] : pairs;

    private IEnumerable<ReferencePairSample> Load(IReadOnlyList<DeepPcbPair> pairs)
    {
        foreach (DeepPcbPair pair in pairs)
        {
            using Image template = ImageCodecs.Load(pair.TemplateImagePath);
            using Image test = ImageCodecs.Load(pair.TestImagePath);
            yield return new ReferencePairSample(test, template, pair.Defects);
        }
    }

    private void Log(string message) => _o.Log?.WriteLine(message);
}
