using System.CommandLine;
using System.Globalization;
using DefectDetection.Annotations;
using DefectDetection.Imaging;
using DefectDetection.Vision.Synthetic;

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
        Command command = new("generate-boards", "Generate high-resolution PCB images with missing holes, spurs and stray copper, labelled in Pascal VOC and COCO.")
        {
            count, output, seed, width, height, defective, golden,
        };
        command.SetAction(parse => context.Guard(() => Run(context, parse.GetValue(count), parse.GetValue(output)!, parse.GetValue(seed),
            parse.GetValue(width), parse.GetValue(height), parse.GetValue(defective), parse.GetValue(golden))));
        return command;
    }

    private static int Run(CliContext context, int count, DirectoryInfo output, int seed, int width, int height, double defectiveFraction, bool golden)
    {
        if (count < 1)
        {
            throw new ArgumentException($"--count must be at least 1, got {count}.");
        }

        if (defectiveFraction is < 0 or > 1)
        {
            throw new ArgumentException($"--defective must be in [0, 1], got {defectiveFraction}.");
        }

        PcbBoardGenerator generator = new(new PcbBoardOptions { Width = width, Height = height }, seed);
        output.Create();
        if (golden)
        {
            using Image image = generator.RenderGolden();
            ImageCodecs.Save(image, Path.Combine(output.FullName, "golden.png"), overwrite: false);
        }

        List<ImageAnnotation> all = [];
        Random pick = new(seed);
        for (int i = 0; i < count; i++)
        {
            string name = string.Create(CultureInfo.InvariantCulture, $"board-{seed}-{i:D4}");
            using SyntheticBoard board = generator.Generate((seed * 100_003) + i, pick.NextDouble() < defectiveFraction);
            ImageCodecs.Save(board.Image, Path.Combine(output.FullName, name + ".png"), overwrite: false);
            ImageAnnotation annotation = new(name + ".png", board.Image.Width, board.Image.Height, board.Defects);
            PascalVoc.Write(annotation, Path.Combine(output.FullName, name + ".xml"));
            all.Add(annotation);
            context.Out.WriteLine($"{name}.png: {board.Defects.Count} defects");
        }

        CocoJson.Write(all, Path.Combine(output.FullName, "annotations.coco.json"));
        context.Out.WriteLine($"wrote {count} boards with VOC and COCO labels to {output.FullName}");
        return CliContext.Ok;
    }
}
