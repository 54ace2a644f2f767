using System.Diagnostics;
using System.Globalization;
using DefectDetection.Annotations;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Pipeline;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.Roi;
using DefectDetection.Synthetic;

// Quickstart: inspect printed circuit boards with the two-stage pipeline, on built-in generated data (no downloads,
// no ../shared). Boards with missing holes, spurs and stray copper are generated; stage 1 finds every pin by template
// matching, stage 2 judges each full-resolution pin crop with a pin-residual classifier learnt from a few boards.
// Usage: Quickstart [--out DIR] [--train N] [--test N]
string output = Option("--out") ?? "quickstart-output";
int trainBoards = int.Parse(Option("--train") ?? "8", CultureInfo.InvariantCulture), testBoards = int.Parse(Option("--test") ?? "4", CultureInfo.InvariantCulture);
Directory.CreateDirectory(output);
PcbBoardOptions design = new() { Width = 1600, Height = 1200, ComponentCount = 18, PixelsPerMm = 12, MinDefects = 2, MaxDefects = 4 };
PcbBoardGenerator generator = new(design, designSeed: 1);

// Stage 1: a template of one pin, cut from the golden board, found on every board (small rotations allowed).
using Image golden = generator.RenderGolden();
Rectangle pin = PcbBoardGenerator.PinBox(BoardTransform.Identity, generator.Layout.Pins.First(p => !p.Square)).Inflate(4);
TemplateMatchingRoiDetector detector = TemplateMatchingRoiDetector.FromExample(golden, pin,
    new TemplateMatchingOptions { ScoreThreshold = 0.3f, RotationsDegrees = [-1.5, 1.5], Label = "pin" });

// Stage 2: pin crops of the training boards with the defects they show; copper (red minus blue) is what matters.
Stopwatch clock = Stopwatch.StartNew();
int margin = (int)Math.Ceiling(1.6 * design.PixelsPerMm);
ResidualCropClassifier classifier = new ResidualCropClassifierTrainer(new ResidualCropClassifierOptions
{
    ChannelWeights = [1, 0, -1],
    Seed = 1,
    ReportRadius = 2.0 * design.PixelsPerMm,
    JoinDistance = (int)Math.Ceiling(0.5 * design.PixelsPerMm),
}).Fit(TrainingCrops());
DefectPipeline pipeline = new(detector, classifier, new DefectPipelineOptions { ContextMargin = margin, DuplicateSuppressionDistance = 2 });
Console.WriteLine($"trained the pin classifier on {trainBoards} generated boards in {clock.Elapsed.TotalSeconds:F1} s");
Console.WriteLine($"{"board",-10} {"regions",8} {"defects",8} {"found",6} {"false alarms",13} {"ms",6}");

int truthTotal = 0, foundTotal = 0, falseTotal = 0;
for (int b = 0; b < testBoards; b++)
{
    using SyntheticBoard board = generator.Generate(201_000 + b);
    InspectionResult result = pipeline.Inspect(board.Image);
    int found = board.Defects.Count(t => result.Defects.Any(d => Rectangle.IntersectionOverUnion(t.Box, d.Box) >= 0.3));
    int falseAlarms = result.Defects.Count(d => !board.Defects.Any(t => Rectangle.IntersectionOverUnion(t.Box, d.Box) >= 0.3));
    (truthTotal, foundTotal, falseTotal) = (truthTotal + board.Defects.Count, foundTotal + found, falseTotal + falseAlarms);
    Console.WriteLine($"{"board-" + b,-10} {result.Regions.Count,8} {board.Defects.Count,8} {found,6} {falseAlarms,13} {result.Timings.Total.TotalMilliseconds,6:F0}");

    // Overlay (truth green, findings red) and Pascal VOC annotations of the truth and the findings.
    using Image overlay = board.Image.Clone();
    board.Defects.ToList().ForEach(t => Drawing.DrawRectangle(overlay, t.Box.Inflate(6), Color.Green, 2));
    result.Defects.ToList().ForEach(d => Drawing.DrawLabeledBox(overlay, d.Box.Inflate(3), $"{d.Label} {d.Confidence:F2}", Color.Red, 2));
    string name = Path.Combine(output, $"board-{b}");
    ImageCodecs.Save(overlay, name + ".overlay.png");
    PascalVoc.Write(new ImageAnnotation($"board-{b}.png", board.Image.Width, board.Image.Height, board.Defects), name + ".truth.xml");
    PascalVoc.Write(new ImageAnnotation($"board-{b}.png", board.Image.Width, board.Image.Height, [.. result.Defects.Select(d => new LabeledBox(d.Box, d.Label))]), name + ".found.xml");
}

Console.WriteLine($"found {foundTotal} of {truthTotal} defects, {falseTotal} false alarms; overlays and VOC annotations in {Path.GetFullPath(output)}");
return foundTotal > 0 ? 0 : 1;

// The pin crops of each training board (cut with the pipeline's margin) and the defects that touch them.
IEnumerable<LabeledCrop> TrainingCrops()
{
    for (int i = 0; i < trainBoards; i++)
    {
        using SyntheticBoard board = generator.Generate(101_000 + i);
        foreach (RegionOfInterest roi in detector.Detect(board.Image))
        {
            Rectangle region = roi.Box.Inflate(margin);
            using Image crop = Cropping.CropWithContext(board.Image, roi.Box, margin);
            yield return new LabeledCrop(crop, [.. board.Defects.Where(d => !Rectangle.Intersect(d.Box, region).IsEmpty)
                .Select(d => d with { Box = new Rectangle(d.Box.X - region.X, d.Box.Y - region.Y, d.Box.Width, d.Box.Height) })]);
        }
    }
}

string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
