using System.CommandLine;
using System.Globalization;
using DefectDetection.Annotations;
using DefectDetection.Imaging;
using DefectDetection.Synthetic;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect generate-boards</c>: writes synthetic PCB images with VOC and COCO defect labels.</summary>
internal static class GenerateBoardsCommand
{
    public static Command Create(CliContext context)
    {
        Option<int> count = new("--count") { Description = "How many boards to write.", Required = true };
        Option<DirectoryInfo> output = new("--out") { Description = "Folder for the images and labels (created if missing).", Required = true };
        Option<int> seed = new("--seed") { Description = "Design and board seed (same seed, same boards).", DefaultValueFactory = _ => 1 };
        Option<int> width = new("--width") { Description = "Board image width in pixels.", DefaultValueFactory = _ => 3200 };
        Option<int> height = new("--height") { Description = "Board image height in pixels.", DefaultValueFactory = _ => 2400 };
        Option<double> defective = new("--defective") { Description = "Fraction of boards with defects.", DefaultValueFactory = _ => 0.7 };
        Option<bool> golden = new("--golden") { Description = "Also write the golden (defect-free, unmoved) image of the design." };
        Option<bool> overwrite = new("--overwrite") { Description = "Replace files of these names already in --out (by default nothing there is replaced)." };
        Command command = new("generate-boards", "Generate high-resolution PCB images with missing holes, spurs and stray copper, labelled in Pascal VOC and COCO.")
        {
            count, output, seed, width, height, defective, golden, overwrite,
        };
        command.SetAction(parse => context.Guard(() => Run(context, parse.GetValue(count), parse.GetValue(output)!, parse.GetValue(seed),
            parse.GetValue(width), parse.GetValue(height), parse.GetValue(defective), parse.GetValue(golden), parse.GetValue(overwrite))));
        return command;
    }

    private static int Run(CliContext context, int count, DirectoryInfo output, int seed, int width, int height, double defectiveFraction, bool golden, bool overwrite)
    {
        if (count is < 1 or > MaxCount)
        {
            throw new ArgumentException($"--count must be from 1 to {MaxCount}, got {count}.");
        }

        if (!(defectiveFraction is >= 0 and <= 1))
        {
            throw new ArgumentException($"--defective must be a fraction from 0 to 1, got {defectiveFraction.ToString(CultureInfo.InvariantCulture)}.");
        }

        foreach ((string option, int value) in new[] { ("--width", width), ("--height", height) })
        {
            if (value < MinSide)
            {
                throw new ArgumentException($"{option} must be at least {MinSide} pixels, got {value}.");
            }
        }

        if (File.Exists(output.FullName))
        {
            throw new ArgumentException($"--out: '{output.FullName}' is a file, not a folder.");
        }

        PcbBoardGenerator generator = new(new PcbBoardOptions { Width = width, Height = height }, seed);

        // Every file name is claimed before the first board is drawn: a name already in --out stops the run at once.
        OutputPlan plan = new([], overwrite);
        string? goldenFile = golden ? plan.Claim(Path.Combine(output.FullName, "golden.png"), "--out") : null;
        string[] names = [.. Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"board-{seed}-{i:D4}"))];
        string[][] files = [.. names.Select(name => new[]
        {
            plan.Claim(Path.Combine(output.FullName, name + ".png"), "--out"),
            plan.Claim(Path.Combine(output.FullName, name + ".xml"), "--out"),
        })];
        string cocoFile = plan.Claim(Path.Combine(output.FullName, "annotations.coco.json"), "--out");
        if (goldenFile is not null)
        {
            using Image image = generator.RenderGolden();
            plan.Save(image, goldenFile);
        }

        List<ImageAnnotation> all = [];
        Random pick = new(seed);
        for (int i = 0; i < count; i++)
        {
            using SyntheticBoard board = generator.Generate((seed * 100_003) + i, pick.NextDouble() < defectiveFraction);
            plan.Save(board.Image, files[i][0]);
            ImageAnnotation annotation = new(names[i] + ".png", board.Image.Width, board.Image.Height, board.Defects);
            plan.Write(files[i][1], stream => PascalVoc.Write(annotation, stream));
            all.Add(annotation);
            context.Out.WriteLine($"{names[i]}.png: {board.Defects.Count} defects");
        }

        plan.Write(cocoFile, stream => CocoJson.Write(all, stream));
        context.Out.WriteLine($"wrote {count} boards with VOC and COCO labels to {output.FullName}");
        return CliContext.Ok;
    }

    // The smallest board PcbBoardOptions accepts.
    private const int MinSide = 256;

    // Every name is claimed before the first board is drawn; this bounds that list.
    private const int MaxCount = 1_000_000;
}
