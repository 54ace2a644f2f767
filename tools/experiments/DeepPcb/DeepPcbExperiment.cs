using System.Diagnostics;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Samples.DeepPcb;

/// <summary>Settings of the experiment.</summary>
public sealed record DeepPcbOptions
{
    public required string DatasetFolder { get; init; }

    /// <summary>Use only the first N test pairs, and the first N training pairs unless <see cref="TrainLimit"/> is set (0 = all).</summary>
    public int Limit { get; init; }

    /// <summary>Use only the first N training pairs (0 = as <see cref="Limit"/>).</summary>
    public int TrainLimit { get; init; }

    /// <summary>Images inspected in parallel when measuring speed.</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Also print the candidate-level confusion matrix, figures per board design and the CPU time per stage.</summary>
    public bool Diagnostics { get; init; }

    /// <summary>
    /// The detector: translations up to 16 px (some groups are offset by about 10 px), a 2 px tolerance for edge
    /// noise, pieces closer than 2 px joined, and boxes grown to at least 30 px (the annotated boxes are about 30 px
    /// while many differences are a few pixels).
    /// </summary>
    public TemplateDifferenceOptions Detector { get; init; } = new()
    {
        MaxShift = 16,
        Tolerance = 2,
        MergeDistance = 2,
        MinArea = 2,
        BoxMargin = 0,
        MinBoxSize = 30,
    };

    public TemplateDifferenceClassifierOptions Classifier { get; init; } = new() { MaxShift = 16, Tolerance = 2 };

    /// <summary>Same-type defects closer than this are one defect (the detector splits some defects in pieces).</summary>
    public int DuplicateDistance { get; init; } = 6;

    /// <summary>Where to save the trained classifier (a <c>.ddmodel</c> file, replaced if present), or null.</summary>
    public string? SaveModelPath { get; init; }

    public TextWriter? Log { get; init; }
}

/// <summary>What the experiment measured.</summary>
/// <param name="Metrics">DeepPCB protocol figures on the test pairs.</param>
/// <param name="ImagesPerSecond">Test pairs per second of wall-clock time (decode both images, detect, classify) on <see cref="DeepPcbOptions.Threads"/> threads.</param>
/// <param name="CpuMillisecondsPerImage">Process CPU time per test pair during the timed run.</param>
/// <param name="LoadAverage">The machine's one-minute load average after the timed run (NaN where unknown).</param>
/// <param name="TrainPairs">Training pairs used.</param>
/// <param name="TrainingTime">Time to train the classifier.</param>
public sealed record DeepPcbResult(DetectionMetrics Metrics, double ImagesPerSecond, double CpuMillisecondsPerImage, double LoadAverage, int Threads, int TrainPairs, TimeSpan TrainingTime);

/// <summary>
/// DeepPCB: train the template-difference crop classifier on train.txt, then inspect every test.txt pair through a
/// <see cref="DefectPipeline"/> (template-difference detector + classifier, both bound to the pair's template) and
/// score the defects with the dataset's protocol (same type, IoU above 0.33, greedy by confidence).
/// </summary>
public sealed class DeepPcbExperiment(DeepPcbOptions options)
{
    private const double Iou = 0.33;

    private readonly DeepPcbOptions _o = options;

    private DefectPipelineOptions PipelineOptions => new()
    {
        ContextMargin = 0, // the classifier adds its own context around each region
        MaxDegreeOfParallelism = 1, // images run in parallel instead
        DuplicateSuppressionDistance = _o.DuplicateDistance,
    };

    public DeepPcbResult Run()
    {
        IReadOnlyList<DeepPcbPair> train = DeepPcbDataset.ReadList(Path.Combine(_o.DatasetFolder, "train.txt"));
        IReadOnlyList<DeepPcbPair> test = DeepPcbDataset.ReadList(Path.Combine(_o.DatasetFolder, "test.txt"));
        int trainCount = _o.TrainLimit > 0 ? _o.TrainLimit : _o.Limit > 0 ? _o.Limit : train.Count;
        train = [.. train.Take(trainCount)];
        test = _o.Limit > 0 ? [.. test.Take(_o.Limit)] : test;

        Stopwatch trainClock = Stopwatch.StartNew();
        TemplateDifferenceCropClassifier classifier = new TemplateDifferenceClassifierTrainer(_o.Classifier)
            .Fit(Load(train), new TemplateDifferenceRoiDetector(null, _o.Detector));
        trainClock.Stop();
        Log($"trained on {train.Count} pairs in {trainClock.Elapsed.TotalSeconds:F1} s; labels {string.Join(", ", classifier.Labels)}");
        if (_o.SaveModelPath is { } modelPath)
        {
            classifier.Save(modelPath, new DefectDetection.Models.DefectModelSaveOptions { Overwrite = true });
            Log($"saved the classifier to {modelPath}");
        }

        // Warm up (JIT) on a few pairs, then time decode + detect + classify of every test pair.
        foreach (DeepPcbPair pair in test.Take(8))
        {
            _ = Inspect(pair, classifier);
        }

        DetectionSample[] samples = new DetectionSample[test.Count];
        TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        Stopwatch clock = Stopwatch.StartNew();
        Parallel.For(0, test.Count, new ParallelOptions { MaxDegreeOfParallelism = _o.Threads }, i =>
        {
            InspectionResult result = Inspect(test[i], classifier);
            samples[i] = new DetectionSample(test[i].Defects, [.. result.Defects.Select(d => new ScoredBox(d.Box, d.Label, d.Confidence))]);
        });
        clock.Stop();
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / test.Count;
        double ips = test.Count / clock.Elapsed.TotalSeconds;
        double load = LoadAverage();

        DetectionMetrics metrics = DetectionEvaluator.Evaluate(samples, new DetectionEvaluationOptions { IouThreshold = Iou });
        if (_o.Diagnostics)
        {
            Diagnose(test, samples, classifier);
        }

        return new DeepPcbResult(metrics, ips, cpuMs, load, _o.Threads, train.Count, trainClock.Elapsed);
    }

    private InspectionResult Inspect(DeepPcbPair pair, TemplateDifferenceCropClassifier classifier)
    {
        using Image template = ImageCodecs.Load(pair.TemplateImagePath);
        using Image test = ImageCodecs.Load(pair.TestImagePath);
        DefectPipeline pipeline = new(new TemplateDifferenceRoiDetector(template, _o.Detector), classifier.WithReference(template), PipelineOptions);
        return pipeline.Inspect(test);
    }

    private static IEnumerable<ReferencePairSample> Load(IReadOnlyList<DeepPcbPair> pairs)
    {
        foreach (DeepPcbPair pair in pairs)
        {
            using Image template = ImageCodecs.Load(pair.TemplateImagePath);
            using Image test = ImageCodecs.Load(pair.TestImagePath);
            yield return new ReferencePairSample(test, template, pair.Defects);
        }
    }

    private static double LoadAverage()
    {
        try
        {
            string text = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg") : "";
            return double.TryParse(text.Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) ? v : double.NaN;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    // Candidate-level confusion (truth = the type of the smallest box holding the candidate's centre, else noise),
    // figures per board design, defects lost only to the box size, and CPU time per stage.
    private void Diagnose(IReadOnlyList<DeepPcbPair> test, DetectionSample[] samples, TemplateDifferenceCropClassifier classifier)
    {
        TemplateDifferenceRoiDetector detector = new(null, _o.Detector);
        Dictionary<(string, string), int> counts = [];
        TimeSpan decode = TimeSpan.Zero, detect = TimeSpan.Zero, classify = TimeSpan.Zero;
        int candidates = 0;
        foreach (DeepPcbPair pair in test)
        {
            TimeSpan t0 = Process.GetCurrentProcess().TotalProcessorTime;
            using Image template = ImageCodecs.Load(pair.TemplateImagePath);
            using Image image = ImageCodecs.Load(pair.TestImagePath);
            TimeSpan t1 = Process.GetCurrentProcess().TotalProcessorTime;
            IReadOnlyList<RegionOfInterest> found = detector.Detect(image, template);
            TimeSpan t2 = Process.GetCurrentProcess().TotalProcessorTime;
            IReadOnlyList<CropVerdict> verdicts = classifier.WithReference(template).Classify([.. found.Select(r => image.View(r.Box))]);
            TimeSpan t3 = Process.GetCurrentProcess().TotalProcessorTime;
            (decode, detect, classify) = (decode + (t1 - t0), detect + (t2 - t1), classify + (t3 - t2));
            candidates += found.Count;
            for (int k = 0; k < found.Count; k++)
            {
                Rectangle c = new(found[k].Box.X + (found[k].Box.Width / 2), found[k].Box.Y + (found[k].Box.Height / 2), 1, 1);
                string truth = pair.Defects.Where(d => !Rectangle.Intersect(d.Box, c).IsEmpty).OrderBy(d => d.Box.Area).Select(d => d.Label).FirstOrDefault() ?? _o.Classifier.NoDefectLabel;
                counts[(truth, verdicts[k].Label)] = counts.GetValueOrDefault((truth, verdicts[k].Label)) + 1;
            }
        }

        string[] labels = [.. classifier.Labels];
        Log("candidates, truth \\ predicted: " + string.Join(" ", labels.Select(l => $"{l,9}")));
        foreach (string t in labels)
        {
            Log($"{t,-31} " + string.Join(" ", labels.Select(p => $"{counts.GetValueOrDefault((t, p)),9}")));
        }

        int lostToSize = samples.Sum(s => s.Truth.Count(gt =>
            !s.Detections.Any(d => d.Label == gt.Label && Rectangle.IntersectionOverUnion(d.Box, gt.Box) > Iou) &&
            s.Detections.Any(d => d.Label == gt.Label && !Rectangle.Intersect(d.Box, gt.Box).IsEmpty)));
        Log($"defects found with the right type but a box of IoU <= {Iou}: {lostToSize}");
        foreach (var group in Enumerable.Range(0, test.Count).GroupBy(i => Path.GetFileName(Path.GetDirectoryName(test[i].TestImagePath))))
        {
            DetectionMetrics g = DetectionEvaluator.Evaluate([.. group.Select(i => samples[i])], new DetectionEvaluationOptions { IouThreshold = Iou });
            Log($"board {group.Key}: {group.Count()} pairs, precision {g.Precision:P1}, recall {g.Recall:P1}, F-score {g.FScore:P1}");
        }

        Log($"CPU ms per pair, one thread: decode {decode.TotalMilliseconds / test.Count:F2}, detect {detect.TotalMilliseconds / test.Count:F2}, classify {classify.TotalMilliseconds / test.Count:F2} ({(double)candidates / test.Count:F1} candidates)");
    }

    private void Log(string message) => _o.Log?.WriteLine(message);
}
