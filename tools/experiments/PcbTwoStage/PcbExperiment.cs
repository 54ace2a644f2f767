using System.Diagnostics;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Features;
using DefectDetection.Vision.Roi;
using DefectDetection.Synthetic;

namespace DefectDetection.Samples.PcbTwoStage;

/// <summary>Settings of the experiment.</summary>
public sealed record PcbExperimentOptions
{
    public int TrainBoards { get; init; } = 24;

    public int TestBoards { get; init; } = 50;

    public int Seed { get; init; } = 1;

    public PcbBoardOptions Board { get; init; } = new();

    /// <summary>Fraction of boards drawn with defects (the rest are good).</summary>
    public double DefectiveFraction { get; init; } = 0.7;

    public TextWriter? Log { get; init; }

    /// <summary>Evaluate on validation boards (their own seeds) instead of the test boards: for tuning.</summary>
    public bool Validate { get; init; }
}

/// <summary>The three sets of generated boards, each with its own seeds.</summary>
public enum BoardSet
{
    Train,
    Test,
    Validation,
}

/// <summary>One row of the results table.</summary>
public sealed record MethodResult(string Method, double Precision, double Recall, double F1, double ImagePrecision, double ImageRecall, double ImageF1, double MillisecondsPerBoard);

/// <summary>
/// The AWS missing-hole experiment on synthetic boards: a one-stage whole-image classifier on the downscaled board,
/// a sliding-window tile classifier at full resolution, and the two-stage pipeline (template-matching pin detector
/// + pin-crop classifier), each scored at defect level (a defect is found when a predicted box overlaps it with
/// IoU >= 0.3) and at image level.
/// </summary>
public sealed class PcbExperiment(PcbExperimentOptions options)
{
    private const string Normal = "normal";
    private const string Partial = "partial";
    private const double NormalTileSampling = 0.03;
    private const double MatchIou = 0.3;
    private const int CropSize = 48;
    private const int PinMargin = 10;

    private readonly PcbExperimentOptions _o = options;

    private PcbBoardGenerator? _generator;

    // Unweighted classes: defects are rare on real boards too, and balanced weights buy recall with many false alarms.
    private SoftmaxClassifierOptions HeadOptions => new() { Seed = _o.Seed, ClassWeighting = ClassWeighting.None };

    private PcbBoardGenerator Generator => _generator ??= new PcbBoardGenerator(_o.Board, _o.Seed);

    public IReadOnlyList<MethodResult> Run()
    {
        Log($"design: {Generator.Layout.Width}x{Generator.Layout.Height}, {Generator.Layout.Pins.Count} pins; {_o.TrainBoards} training boards, {_o.TestBoards} test boards");
        string? only = Environment.GetEnvironmentVariable("PCB_ONLY");
        return only == "two-stage" ? [TwoStage()] : [WholeImage(), Tiles(), TwoStage()];
    }

    /// <summary>Generates training (<paramref name="train"/>) or test board number <paramref name="i"/>.</summary>
    public SyntheticBoard Board(bool train, int i) => Board(train ? BoardSet.Train : BoardSet.Test, i);

    // Test boards, or validation boards (other seeds) when tuning.
    private BoardSet EvaluationSet => _o.Validate ? BoardSet.Validation : BoardSet.Test;

    /// <summary>Generates board number <paramref name="i"/> of a set; each set has its own seeds.</summary>
    public SyntheticBoard Board(BoardSet set, int i)
    {
        int seed = set switch { BoardSet.Train => 100_000, BoardSet.Test => 200_000, _ => 300_000 } + (_o.Seed * 1000) + i;
        bool defective = new Random(seed).NextDouble() < _o.DefectiveFraction;
        return Generator.Generate(seed, defective);
    }

    // --- Method 1: one image classifier on the whole board, downscaled -----------------------------------------
    private MethodResult WholeImage()
    {
        GradientHistogramFeatureExtractor extractor = new(new GradientHistogramOptions { Size = 256, Grid = 8, Scales = 3 });
        int w = _o.Board.Width / 4, h = _o.Board.Height / 4;
        List<float[]> features = [];
        List<string> labels = [];
        for (int i = 0; i < _o.TrainBoards; i++)
        {
            using SyntheticBoard board = Board(train: true, i);
            using Image small = ImageResizer.Resize(board.Image, w, h, ResizeMode.Area);
            features.Add(extractor.Extract(small));
            labels.Add(board.Defects.Count > 0 ? "defective" : Normal);
        }

        SoftmaxClassifierModel head = new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { Seed = _o.Seed, L2 = 1e-2 }).Fit(features, labels);
        Scorer scorer = new("one-stage: whole board, 1/4 scale, image classifier");
        for (int i = 0; i < _o.TestBoards; i++)
        {
            using SyntheticBoard board = Board(EvaluationSet, i);
            Stopwatch sw = Stopwatch.StartNew();
            using Image small = ImageResizer.Resize(board.Image, w, h, ResizeMode.Area);
            bool defective = head.Predict(extractor.Extract(small)).Label != Normal;
            sw.Stop();

            // Its only possible box is the whole board.
            scorer.Add(board, defective ? [board.Image.Bounds] : [], sw.Elapsed.TotalMilliseconds);
        }

        return scorer.Result(Log);
    }

    // --- Method 2: sliding-window tile classifier at full resolution ------------------------------------------
    private MethodResult Tiles()
    {
        const int tile = 48, stride = 16;
        IFeatureExtractor extractor = PinFeatures();
        SlidingWindowRoiDetector tiler = new(new SlidingWindowOptions { TileWidth = tile, TileHeight = tile, Overlap = 1 - ((double)stride / tile) });
        List<float[]> features = [];
        List<string> labels = [];
        Random rng = new(_o.Seed);
        for (int i = 0; i < _o.TrainBoards; i++)
        {
            using SyntheticBoard board = Board(train: true, i);
            IReadOnlyList<RegionOfInterest> tiles = tiler.Detect(board.Image);
            foreach (RegionOfInterest t in tiles)
            {
                string label = TileLabel(board, t.Box, stride);
                if (label == Partial || (label == Normal && rng.NextDouble() > NormalTileSampling))
                {
                    continue; // Subsample the many normal tiles.
                }

                AddAugmented(extractor, board.Image.View(t.Box), label, label != Normal, features, labels);
            }
        }

        Log($"  tile classifier: {features.Count} training tiles, {labels.Count(l => l != Normal)} defective");
        // Normal tiles were subsampled: weight them back to their true frequency.
        SoftmaxClassifierModel head = new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions
        {
            Seed = _o.Seed,
            ClassWeighting = ClassWeighting.None,
            ClassWeights = new Dictionary<string, double> { [Normal] = 1 / NormalTileSampling },
        }).Fit(features, labels);
        FeatureCropClassifier classifier = new(extractor, head, [Normal]);
        Scorer scorer = new("tile classifier: 48 px tiles, full resolution");
        for (int i = 0; i < _o.TestBoards; i++)
        {
            using SyntheticBoard board = Board(EvaluationSet, i);
            Stopwatch sw = Stopwatch.StartNew();
            IReadOnlyList<RegionOfInterest> tiles = tiler.Detect(board.Image);
            List<(Rectangle Box, float Confidence)> positives = [];
            for (int start = 0; start < tiles.Count; start += 256)
            {
                List<ImageView> crops = [.. tiles.Skip(start).Take(256).Select(t => board.Image.View(t.Box))];
                IReadOnlyList<CropVerdict> verdicts = classifier.Classify(crops);
                for (int k = 0; k < verdicts.Count; k++)
                {
                    if (verdicts[k].IsDefect)
                    {
                        positives.Add((tiles[start + k].Box, verdicts[k].Confidence));
                    }
                }
            }

            // Overlapping positive tiles are one defect: keep the most confident tile of each cluster.
            List<Rectangle> boxes = [];
            foreach (var p in positives.OrderByDescending(p => p.Confidence))
            {
                if (!boxes.Any(b => !Rectangle.Intersect(b, p.Box).IsEmpty))
                {
                    boxes.Add(p.Box);
                }
            }

            sw.Stop();
            scorer.Add(board, boxes, sw.Elapsed.TotalMilliseconds);
        }

        return scorer.Result(Log);
    }

    private static string TileLabel(SyntheticBoard board, Rectangle tile, int stride)
    {
        // A tile shows a defect when the defect's centre lies in its central square (each defect centre falls in
        // the central square of at least one tile); tiles that only cut a defect are left out of training.
        Rectangle centre = tile.Inflate(-(tile.Width - stride) / 2);
        foreach (LabeledBox d in board.Defects)
        {
            int cx = d.Box.X + (d.Box.Width / 2), cy = d.Box.Y + (d.Box.Height / 2);
            if (cx >= centre.X && cx < centre.Right && cy >= centre.Y && cy < centre.Bottom)
            {
                return d.Label;
            }
        }

        foreach (LabeledBox d in board.Defects)
        {
            if (!Rectangle.Intersect(tile, d.Box).IsEmpty)
            {
                return Partial;
            }
        }

        return Normal;
    }

    /// <summary>Trains the two-stage pipeline (pin detector + pin-crop classifier) on the training boards.</summary>
    public DefectPipeline TrainTwoStage()
    {
        using Image golden = Generator.RenderGolden();
        PcbPin example = Generator.Layout.Pins.First(p => !p.Square);
        TemplateMatchingRoiDetector detector = TemplateMatchingRoiDetector.FromExample(
            golden, PcbBoardGenerator.PinBox(BoardTransform.Identity, example).Inflate(4),
            new TemplateMatchingOptions { ScoreThreshold = 0.3f, RotationsDegrees = [-1.5, 1.5], Label = "pin" });

        // Every pin looks alike: each crop is aligned to the pin and compared with per-pixel models of normal pin
        // crops (with and without neighbouring pads) in a copper channel (red minus blue: copper is bright, solder
        // mask, silkscreen and holes are dark). Copper the models do not expect is a defect; its own box is reported.
        double mm = _o.Board.PixelsPerMm;
        int margin = (int)Math.Ceiling(1.6 * mm);
        ResidualCropClassifier classifier = new ResidualCropClassifierTrainer(new ResidualCropClassifierOptions
        {
            ChannelWeights = [1, 0, -1],
            Prototypes = int.TryParse(Environment.GetEnvironmentVariable("PCB_PROTOTYPES"), out int k) ? k : 32,
            Seed = _o.Seed,
            ReportRadius = 2.0 * mm,
            JoinDistance = (int)Math.Ceiling(0.5 * mm), // the pad's ring: 0.4 mm
        }).Fit(TrainingCrops(detector, margin));
        return new DefectPipeline(detector, classifier,
            new DefectPipelineOptions { ContextMargin = margin, DuplicateSuppressionDistance = 2 });
    }

    // Pin crops of the training boards with the defects they show, one board at a time.
    private IEnumerable<LabeledCrop> TrainingCrops(TemplateMatchingRoiDetector detector, int margin)
    {
        for (int i = 0; i < _o.TrainBoards; i++)
        {
            using SyntheticBoard board = Board(BoardSet.Train, i);
            foreach (RegionOfInterest roi in detector.Detect(board.Image))
            {
                Rectangle region = roi.Box.Inflate(margin);
                using Image crop = Cropping.CropWithContext(board.Image, roi.Box, margin);
                List<LabeledBox> defects = [.. board.Defects
                    .Where(d => !Rectangle.Intersect(d.Box, region).IsEmpty)
                    .Select(d => d with { Box = new Rectangle(d.Box.X - region.X, d.Box.Y - region.Y, d.Box.Width, d.Box.Height) })];
                yield return new LabeledCrop(crop, defects);
            }
        }
    }

    private MethodResult TwoStage()
    {
        DefectPipeline pipeline = TrainTwoStage();
        Scorer scorer = new("two-stage: pin detector + pin-crop classifier");
        // PCB_BOARDS=3,17 looks at those boards only (debugging).
        string? only = Environment.GetEnvironmentVariable("PCB_BOARDS");
        IEnumerable<int> indices = only is null ? Enumerable.Range(0, _o.TestBoards) : only.Split(',').Select(int.Parse);
        foreach (int i in indices)
        {
            using SyntheticBoard board = Board(EvaluationSet, i);
            InspectionResult result = pipeline.Inspect(board.Image);
            if (Environment.GetEnvironmentVariable("PCB_DEBUG") == "1")
            {
                int onPins = result.Regions.Count(r => board.Pins.Any(p => Rectangle.IntersectionOverUnion(p, r.Region.Box) > 0.3));
                Log($"    board {i}: min pin score {result.Regions.Where(r => board.Pins.Any(p => Rectangle.IntersectionOverUnion(p, r.Region.Box) > 0.3)).Min(r => r.Region.Score):F2}, {result.Regions.Count} regions, {onPins} on pins, {board.Pins.Count} pins; scores off pins {string.Join(" ", result.Regions.Where(r => !board.Pins.Any(p => Rectangle.IntersectionOverUnion(p, r.Region.Box) > 0.3)).Select(r => r.Region.Score.ToString("F2")).Take(12))}");
                foreach (LabeledBox t in board.Defects.Where(t => !result.Defects.Any(d => Rectangle.IntersectionOverUnion(t.Box, d.Box) >= MatchIou)))
                {
                    Defect? near = result.Defects.OrderByDescending(d => Rectangle.IntersectionOverUnion(d.Box, t.Box)).FirstOrDefault();
                    Log($"    FN board {i}: {t.Label} at {t.Box}; nearest found {near?.Box} {near?.Label} IoU {(near is null ? 0 : Rectangle.IntersectionOverUnion(near.Box, t.Box)):F2}");
                    SaveDebugCrop(board, t.Box, $"/tmp/fn-{i}-{t.Box.X}-{t.Box.Y}.png");
                }

                foreach (LabeledBox t in board.Defects.Where(t => result.Defects.Count(d => Rectangle.IntersectionOverUnion(t.Box, d.Box) >= MatchIou) > 1))
                {
                    Log($"    DUP board {i}: {t.Label} at {t.Box} found as {string.Join(", ", result.Defects.Where(d => Rectangle.IntersectionOverUnion(t.Box, d.Box) >= MatchIou).Select(d => $"{d.Label} {d.Confidence:F2} {d.Box}"))}");
                    SaveDebugCrop(board, t.Box, $"/tmp/dup-{i}-{t.Box.X}-{t.Box.Y}.png");
                }

                foreach (Defect d in result.Defects.Where(d => !board.Defects.Any(t => Rectangle.IntersectionOverUnion(t.Box, d.Box) >= MatchIou)))
                {
                    LabeledBox? t = board.Defects.Where(t => !Rectangle.Intersect(t.Box, d.Box).IsEmpty).Cast<LabeledBox?>().FirstOrDefault();
                    Log($"    FP board {i}: {d.Label} {d.Confidence:F2} at {d.Box}; overlapping truth {t?.Label} {t?.Box}");
                    SaveDebugCrop(board, d.Box, $"/tmp/fp-{i}-{d.Box.X}-{d.Box.Y}.png");
                }
            }

            scorer.Add(board, [.. result.Defects.Select(d => d.Box)], result.Timings.Total.TotalMilliseconds);
        }

        return scorer.Result(Log);
    }

    // The box with 24 pixels of context, four times enlarged, the box drawn in red.
    private static void SaveDebugCrop(SyntheticBoard board, Rectangle box, string path)
    {
        using Image crop = Cropping.CropWithContext(board.Image, box, 24);
        using Image large = ImageResizer.Resize(crop, crop.Width * 4, crop.Height * 4, ResizeMode.Area);
        Drawing.DrawRectangle(large, new Rectangle(96, 96, box.Width * 4, box.Height * 4), Color.Red, 1);
        ImageCodecs.Save(large, path);
    }

    // The same features for tiles and pin crops: pixels of a 16x16 thumbnail plus gradient histograms.
    private static ConcatenatedFeatureExtractor PinFeatures() => new(
        new PixelFeatureExtractor(new PixelFeatureOptions { Size = 16 }),
        new GradientHistogramFeatureExtractor(new GradientHistogramOptions { Size = CropSize, Grid = 4, Scales = 2 }));

    // Defect examples are rare: add each in all eight flips and quarter turns (pins and tiles have no preferred
    // orientation); normal examples once.
    private static void AddAugmented(IFeatureExtractor extractor, ImageView crop, string label, bool augment, List<float[]> features, List<string> labels)
    {
        features.Add(extractor.Extract(crop));
        labels.Add(label);
        if (!augment)
        {
            return;
        }

        using Image r90 = Orientation.Rotate90(crop), r180 = Orientation.Rotate180(crop), r270 = Orientation.Rotate270(crop);
        using Image fh = Orientation.FlipHorizontal(crop), fv = Orientation.FlipVertical(crop);
        using Image tr = Orientation.Transpose(crop), tv = Orientation.Transverse(crop);
        foreach (Image variant in new[] { r90, r180, r270, fh, fv, tr, tv })
        {
            features.Add(extractor.Extract(variant));
            labels.Add(label);
        }
    }

    private static string PinLabel(SyntheticBoard board, Rectangle pin)
    {
        foreach (LabeledBox d in board.Defects)
        {
            if (Rectangle.IntersectionOverUnion(d.Box, pin) >= MatchIou)
            {
                return d.Label;
            }
        }

        return Normal;
    }

    private void Log(string line) => _o.Log?.WriteLine(line);

    /// <summary>Counts found and missed defects (IoU >= 0.3, one prediction per defect) and image verdicts.</summary>
    private sealed class Scorer(string method)
    {
        private int _tp, _fp, _fn, _itp, _ifp, _ifn;
        private readonly List<double> _ms = [];

        public void Add(SyntheticBoard board, IReadOnlyList<Rectangle> predicted, double ms)
        {
            _ms.Add(ms);
            bool[] used = new bool[predicted.Count];
            foreach (LabeledBox truth in board.Defects)
            {
                int best = -1;
                double bestIou = MatchIou;
                for (int p = 0; p < predicted.Count; p++)
                {
                    double iou = Rectangle.IntersectionOverUnion(truth.Box, predicted[p]);
                    if (!used[p] && iou >= bestIou)
                    {
                        (best, bestIou) = (p, iou);
                    }
                }

                if (best >= 0)
                {
                    used[best] = true;
                    _tp++;
                }
                else
                {
                    _fn++;
                }
            }

            _fp += used.Count(u => !u);
            bool truthDefective = board.Defects.Count > 0, predictedDefective = predicted.Count > 0;
            _itp += truthDefective && predictedDefective ? 1 : 0;
            _ifp += !truthDefective && predictedDefective ? 1 : 0;
            _ifn += truthDefective && !predictedDefective ? 1 : 0;
        }

        public MethodResult Result(Action<string> log)
        {
            static double Div(double a, double b) => b == 0 ? 0 : a / b;
            double p = Div(_tp, _tp + _fp), r = Div(_tp, _tp + _fn), ip = Div(_itp, _itp + _ifp), ir = Div(_itp, _itp + _ifn);
            _ms.Sort();
            MethodResult result = new(method, p, r, Div(2 * p * r, p + r), ip, ir, Div(2 * ip * ir, ip + ir), _ms.Count == 0 ? 0 : _ms[_ms.Count / 2]);
            log($"  {method}: TP {_tp}, FP {_fp}, FN {_fn}; images TP {_itp}, FP {_ifp}, FN {_ifn}");
            return result;
        }
    }
}
