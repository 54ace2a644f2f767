using System.CommandLine;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Pipelines;

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
        Command command = new("detect", "Find defects with a two-stage pipeline (regions of interest, then full-resolution crop classification).")
        {
            pipeline, images, json, overlay, overwrite,
        };
        command.SetAction(parse => context.Guard(() =>
            Run(context, parse.GetValue(pipeline)!, parse.GetValue(images)!, parse.GetValue(json), parse.GetValue(overlay), parse.GetValue(overwrite))));
        return command;
    }

    private static int Run(CliContext context, FileInfo pipelineFile, FileInfo[] images, bool json, DirectoryInfo? overlay, bool overwrite)
    {
        string pipelinePath = ImageCommand.RequireFile(pipelineFile);
        string[] paths = [.. images.Select(ImageCommand.RequireFile)];
        OutputPlan plan = new([pipelinePath, .. paths], overwrite);
        IReadOnlyList<string[]>? overlayFiles = overlay is null ? null : plan.ClaimEach(paths, overlay.FullName, "--overlay", ".overlay.png");
        DefectPipeline pipeline;
        try
        {
            pipeline = PipelineFile.Load(pipelinePath);
        }
        catch (PipelineFileException ex)
        {
            throw new ArgumentException(ex.Message, ex);
        }

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

        if (json)
        {
            var payload = results.Select(r => new Dictionary<string, object?>
            {
                ["image"] = r.ImagePath,
                ["anomalous"] = r.IsAnomalous,
                ["confidence"] = Math.Round(r.Confidence, 4),
                ["regions"] = r.Regions.Count,
                ["defects"] = r.Defects.Select(d => new Dictionary<string, object>
                {
                    ["label"] = d.Label,
                    ["confidence"] = Math.Round(d.Confidence, 4),
                    ["box"] = new[] { d.Box.X, d.Box.Y, d.Box.Width, d.Box.Height },
                }).ToList(),
                ["timings_ms"] = new Dictionary<string, double>
                {
                    ["load"] = Math.Round(r.Timings.Load.TotalMilliseconds, 1),
                    ["detection"] = Math.Round(r.Timings.Detection.TotalMilliseconds, 1),
                    ["cropping"] = Math.Round(r.Timings.Cropping.TotalMilliseconds, 1),
                    ["classification"] = Math.Round(r.Timings.Classification.TotalMilliseconds, 1),
                    ["total"] = Math.Round(r.Timings.Total.TotalMilliseconds, 1),
                },
            }).ToList();
            context.Out.WriteLine(JsonSerializer.Serialize(payload, CliJson.Options));
        }
        else
        {
            foreach (InspectionResult r in results)
            {
                context.Out.WriteLine($"{Path.GetFileName(r.ImagePath)}: {(r.IsAnomalous ? "ANOMALY" : "normal")} ({r.Confidence:F2}), {r.Defects.Count} defects in {r.Regions.Count} regions, {r.Timings.Total.TotalMilliseconds:F0} ms");
                foreach (Defect d in r.Defects)
                {
                    context.Out.WriteLine($"  {d.Label,-20} {d.Confidence:F2}  {d.Box}");
                }
            }
        }

        return CliContext.Ok;
    }
}
