using System.CommandLine;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.PipelineFiles;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect detect</c>: runs a two-stage pipeline described by a JSON file over images.</summary>
internal static class DetectCommand
{
    public static Command Create(CliContext context)
    {
        Option<FileInfo> pipeline = new("--pipeline") { Description = "The pipeline file (detector, classifiers, options).", Required = true };
        Argument<FileInfo[]> images = new("IMAGES") { Description = "Images to inspect.", Arity = ArgumentArity.OneOrMore };
        Option<bool> json = new("--json") { Description = "Write JSON for machines instead of a table." };
        Option<DirectoryInfo?> overlay = new("--overlay") { Description = "Write each image with its defects drawn to this folder (x.overlay.png; a second image named x gets x-2.overlay.png ...)." };
        Option<bool> overwrite = new("--overwrite") { Description = OutputPlan.OverwriteHelp };
        Option<string> threshold = new("--threshold") { Description = "Judge with this decision threshold in every classifier model instead of its own (the models' score units)." };
        Command command = new("detect", "Find defects with a two-stage pipeline (regions of interest, then full-resolution crop classification).")
        {
            pipeline, images, json, overlay, overwrite, threshold,
        };
        command.SetAction(parse => context.Guard(() =>
            Run(context, parse.GetValue(pipeline)!, parse.GetValue(images)!, parse.GetValue(json), parse.GetValue(overlay), parse.GetValue(overwrite), ModelArguments.ParseThreshold(parse.GetValue(threshold)))));
        return command;
    }

    private static int Run(CliContext context, FileInfo pipelineFile, FileInfo[] images, bool json, DirectoryInfo? overlay, bool overwrite, double? threshold)
    {
        string pipelinePath = ImageCommand.RequireFile(pipelineFile);
        string[] paths = [.. images.Select(ImageCommand.RequireFile)];
        OutputPlan plan = new([pipelinePath, .. paths], overwrite);
        IReadOnlyList<string[]>? overlayFiles = overlay is null ? null : plan.ClaimEach(paths, overlay.FullName, "--overlay", ".overlay.png");
        using DefectPipeline pipeline = PipelineFile.Load(pipelinePath, threshold);

        IReadOnlyList<InspectionResult> results = pipeline.InspectFiles(paths);
        if (overlayFiles is not null)
        {
            for (int i = 0; i < results.Count; i++)
            {
                InspectionResult result = results[i];
                using Image image = ImageCodecs.Load(result.ImagePath!);
                using Image canvas = image.PixelFormat == PixelFormat.Rgb24 ? image.Clone() : ColorConversion.Convert(image, PixelFormat.Rgb24);
                foreach (Defect d in result.Defects)
                {
                    Drawing.DrawLabeledBox(canvas, d.Box, $"{d.Label} {d.Confidence:F2}", Color.Red, 2);
                }

                plan.Save(canvas, overlayFiles[i][0]);
            }
        }

        IReadOnlyList<PredictionReport> reports = [.. results.Select(PredictionReport.From)];
        context.Out.WriteLine(json ? PredictionReport.ToJson(reports) : string.Join(Environment.NewLine, reports.Select(Describe)));
        return CliContext.Ok;
    }

    // The verdict line of PredictCommand, then one line per located defect.
    private static string Describe(PredictionReport r) =>
        PredictCommand.Describe(r) + FormattableString.Invariant($", {r.Regions?.Count ?? 0} regions, {r.TimingsMs?.Total:F0} ms")
        + string.Concat(r.Defects.Select(d => FormattableString.Invariant($"{Environment.NewLine}  {d.Label,-20} {d.Confidence:F2}  [{string.Join(", ", d.Box)}]")));
}
