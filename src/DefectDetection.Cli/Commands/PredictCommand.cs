using System.CommandLine;
using DefectDetection.Cli.Commands.Tasks;
using DefectDetection.ModelFiles;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect predict</c>: applies a model to images; dispatched on the model's task.</summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> model = new("--model") { Description = "The .ddmodel file." };
        Option<string> backbone = new("--backbone") { Description = "The backbone ONNX of a model that references it by hash." };
        Option<string> overlay = new("--overlay") { Description = "Anomaly models: write each image's heat-map overlay and Lookout-style mask PNG to this folder (x.overlay.png, x.mask.png; a second image named x gets x-2.overlay.png ...)." };
        Option<bool> overwrite = new("--overwrite") { Description = OutputPlan.OverwriteHelp };
        Option<bool> json = new("--json") { Description = "Write JSON for machines instead of text." };
        Argument<string[]> images = new("IMAGES") { Description = "The image files.", Arity = ArgumentArity.ZeroOrMore };
        Command command = new("predict", "Predict the label of images with a trained model (anomaly models: score, regions, overlays).") { model, backbone, overlay, overwrite, json, images };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse => TrainCommand.Guard(context, () =>
        {
            OnnxCommand.RejectUnmatched(parse);
            string[] files = parse.GetValue(images) ?? [];
            if (files.Length == 0)
            {
                throw new ArgumentException("Give at least one image file.");
            }

            string modelFile = TrainCommand.Required(parse.GetValue(model), "--model", "the .ddmodel file");
            PredictSettings settings = new()
            {
                Model = modelFile,
                Images = files,
                Backbone = parse.GetValue(backbone),
                Outputs = new OutputPlan([modelFile, parse.GetValue(backbone), .. files], parse.GetValue(overwrite)),
                Overlay = parse.GetValue(overlay),
                Json = parse.GetValue(json),
            };
            ModelManifest manifest = ModelPackage.ReadManifest(settings.Model);
            ITaskHandler? handler = TaskHandlers.ByManifest(context, manifest);
            return handler is null ? CliContext.BadInput : handler.Predict(context, settings, manifest);
        }));
        return command;
    }
}
