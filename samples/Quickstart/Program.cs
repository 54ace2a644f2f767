using System.Diagnostics;
using System.Globalization;
using DefectDetection.Annotations;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Pipeline;
using DefectDetection.Samples.PcbTwoStage;
using DefectDetection.Vision.Synthetic;

// Quickstart: inspect printed circuit boards with the two-stage pipeline, on built-in generated data
// (no downloads, no ../shared). It generates boards with missing holes, spurs and stray copper, learns what a
// good pin looks like from a few boards, then finds every pin on new boards and judges each full-resolution
// pin crop. Results, overlays and annotations go to --out (default: quickstart-output).
string output = "quickstart-output";
int trainBoards = 8, testBoards = 4;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out" when i + 1 < args.Length: output = args[++i]; break;
        case "--train" when i + 1 < args.Length: trainBoards = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--test" when i + 1 < args.Length: testBoards = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"usage: Quickstart [--out DIR] [--train N] [--test N] (got '{args[i]}')");
            return 2;
    }
}

Directory.CreateDirectory(output);
PcbExperiment experiment = new(new PcbExperimentOptions
{
    TrainBoards = trainBoards,
    TestBoards = testBoards,
    DefectiveFraction = 1.0,
    Board = new PcbBoardOptions { Width = 1600, Height = 1200, ComponentCount = 18, PixelsPerMm = 12, MinDefects = 2, MaxDefects = 4 },
});

Stopwatch sw = Stopwatch.StartNew();
Console.WriteLine($"training the pin classifier on {trainBoards} generated boards ...");
DefectPipeline pipeline = experiment.TrainTwoStage();
Console.WriteLine($"  trained in {sw.Elapsed.TotalSeconds:F1} s");
Console.WriteLine();
Console.WriteLine($"{"board",-10} {"regions",8} {"defects",8} {"found",6} {"false alarms",13} {"ms",6}");

int truthTotal = 0, foundTotal = 0, falseTotal = 0;
for (int b = 0; b < testBoards; b++)
{
    using SyntheticBoard board = experiment.Board(train: false, b);
    InspectionResult result = pipeline.Inspect(board.Image);
    int found = board.Defects.Count(t => result.Defects.Any(d => Rectangle.IntersectionOverUnion(t.Box, d.Box) >= 0.3));
    int falseAlarms = result.Defects.Count(d => !board.Defects.Any(t => Rectangle.IntersectionOverUnion(t.Box, d.Box) >= 0.3));
    truthTotal += board.Defects.Count;
    foundTotal += found;
    falseTotal += falseAlarms;
    Console.WriteLine($"{"board-" + b,-10} {result.Regions.Count,8} {board.Defects.Count,8} {found,6} {falseAlarms,13} {result.Timings.Total.TotalMilliseconds,6:F0}");

    // Overlay: ground truth in green, findings in red with their label and confidence.
    using Image overlay = board.Image.Clone();
    foreach (LabeledBox t in board.Defects)
    {
        Drawing.DrawRectangle(overlay, t.Box.Inflate(6), Color.Green, 2);
    }

    foreach (Defect d in result.Defects)
    {
        Drawing.DrawLabeledBox(overlay, d.Box.Inflate(3), $"{d.Label} {d.Confidence:F2}", Color.Red, 2);
    }

    string name = $"board-{b}";
    ImageCodecs.Save(overlay, Path.Combine(output, name + ".overlay.png"));
    PascalVoc.Write(new ImageAnnotation(name + ".png", board.Image.Width, board.Image.Height, board.Defects), Path.Combine(output, name + ".truth.xml"));
    PascalVoc.Write(new ImageAnnotation(name + ".png", board.Image.Width, board.Image.Height,
        [.. result.Defects.Select(d => new LabeledBox(d.Box, d.Label))]), Path.Combine(output, name + ".found.xml"));
}

Console.WriteLine();
Console.WriteLine($"found {foundTotal} of {truthTotal} defects, {falseTotal} false alarms; overlays and VOC annotations in {Path.GetFullPath(output)}");
Console.WriteLine("the full experiment (one-stage vs tiles vs two-stage on 50 boards): dotnet run --project samples/PcbTwoStage -c Release");
return 0;
