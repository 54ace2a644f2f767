using System.CommandLine;
using DefectDetection.Cli.Commands.Tasks;
using DefectDetection.ModelFiles;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect evaluate</c>: scores a model on labelled images; dispatched on the model's task.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> model = new("--model") { Description = "The .ddmodel file." };
        Option<string> data = new("--data") { Description = "Label folders, a folder with train/ and test/ (test/ is used), a folder of files named by label, a splits .json (test list), or a manifest (with --images)." };
        Option<string> images = new("--images") { Description = "The image folder of a manifest." };
        Option<string> split = new("--split") { Description = "The list of a splits .json ([task:]name; default classification test)." };
        Option<string> backbone = new("--backbone") { Description = "The backbone ONNX of a model that references it by hash." };
        Option<string> masks = new("--masks") { Description = "Anomaly models: folder of ground-truth masks, matched by file stem (any non-zero pixel is a defect); adds pixel AUROC and AUPRO." };
        Option<bool> json = new("--json") { Description = "Write JSON for machines instead of text." };
        Command command = new("evaluate", "Evaluate a model on labelled images: accuracy, per-label precision/recall/F1, confusion matrix, ROC/PR AUC (anomaly models: image AUROC, pixel AUROC, AUPRO).") { model, data, images, split, backbone, masks, json };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse => TrainCommand.Guard(context, () =>
        {
            OnnxCommand.RejectUnmatched(parse);
            EvaluateSettings settings = new()
            {
                Model = TrainCommand.Required(parse.GetValue(model), "--model", "the .ddmodel file"),
                Data = TrainCommand.Required(parse.GetValue(data), "--data", "the labelled images"),
                Images = parse.GetValue(images),
                Split = parse.GetValue(split),
                Backbone = parse.GetValue(backbone),
                Masks = parse.GetValue(masks),
                Json = parse.GetValue(json),
            };
            ModelManifest manifest = ModelPackage.ReadManifest(settings.Model);
            ITaskHandler? handler = TaskHandlers.ByManifest(context, manifest);
            return handler is null ? CliContext.BadInput : handler.Evaluate(context, settings, manifest);
        }));
        return command;
    }
}
