using System.CommandLine;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect predict</c>: applies any model file to images and writes the shared prediction JSON.</summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        ModelArguments model = new();
        Option<string> reference = new("--reference") { Description = "Template-difference models: the golden template image the images are compared with." };
        Option<string> overlay = new("--overlay") { Description = "Write each image's overlay (heat map, mask contours, defect boxes) and, for models with masks, its Lookout-style mask PNG to this folder (x.overlay.png, x.mask.png; a second image named x gets x-2.overlay.png ...)." };
        Option<bool> overwrite = new("--overwrite") { Description = OutputPlan.OverwriteHelp };
        Option<bool> json = new("--json") { Description = "Write JSON for machines (docs/prediction.schema.json) instead of text." };
        Argument<string[]> images = new("IMAGES") { Description = "The image files.", Arity = ArgumentArity.ZeroOrMore };
        Command command = new("predict", "Judge images with a trained model of any learner: verdict, label, score, confidence, located defects, overlays.") { reference, overlay, overwrite, json, images };
        model.AddTo(command);
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse => context.Guard(() =>
        {
            OnnxCommand.RejectUnmatched(parse);
            string[] files = parse.GetValue(images) ?? [];
            if (files.Length == 0)
            {
                throw new ArgumentException("Give at least one image file.");
            }

            foreach (string file in files)
            {
                ImageCommand.RequireFile(new FileInfo(file));
            }

            // Every output is claimed before any work: a refused name writes nothing.
            OutputPlan plan = new([parse.GetValue(model.Model), parse.GetValue(model.Backbone), parse.GetValue(reference), .. files], parse.GetValue(overwrite));
            IReadOnlyList<string[]>? overlays = parse.GetValue(overlay) is { } dir ? plan.ClaimEach(files, dir, "--overlay", ".overlay.png", ".mask.png") : null;
            using IDefectModel loaded = model.Load(parse);
            using Image? golden = parse.GetValue(reference) is { } r ? ImageCodecs.Load(ImageCommand.RequireFile(new FileInfo(r))) : null;
            IDefectModel judge = Bind(loaded, golden);
            List<PredictionReport> reports = [];
            for (int i = 0; i < files.Length; i++)
            {
                using Image image = ImageCodecs.Load(files[i]);
                DefectPrediction p = judge.Predict(image.View());
                reports.Add(PredictionReport.From(p, files[i]));
                if (overlays is not null)
                {
                    WriteOverlay(plan, image, p, overlays[i]);
                }
            }

            context.Out.WriteLine(parse.GetValue(json)
                ? PredictionReport.ToJson(reports)
                : string.Join(Environment.NewLine, reports.Select(Describe)));
            return CliContext.Ok;
        }));
        return command;
    }

    /// <summary>One line per image: verdict, label, score against the threshold, confidence, located defects.</summary>
    internal static string Describe(PredictionReport r) =>
        FormattableString.Invariant($"{r.Image}: {(r.IsDefect ? "DEFECT" : "normal")} {r.Label} (score {r.Score:G4}{(r.Threshold is { } t ? FormattableString.Invariant($" / threshold {t:G4}") : "")}, confidence {r.Confidence:F3}, {r.Defects.Count} located, area {r.TotalPercentageArea:F2}%)");

    // A template-difference model judges against the golden template; the others take none.
    private static IDefectModel Bind(IDefectModel model, Image? golden) => (model, golden) switch
    {
        (TemplateDifferenceCropClassifier t, { } g) => t.WithReference(g.View()),
        (TemplateDifferenceCropClassifier, null) => throw new ArgumentException("--reference: a template-difference model compares each image with its golden template; give the template image."),
        (_, { }) => throw new ArgumentException($"--reference: only template-difference models take a reference image; this is a {model.Learner} model."),
        _ => model,
    };

    // The overlay (files[0]) and, for a prediction with a mask, the Lookout-style mask (files[1]).
    private static void WriteOverlay(OutputPlan plan, Image image, DefectPrediction p, string[] files)
    {
        using Image overlay = AnomalyVisualizer.Overlay(image, p);
        plan.Save(overlay, files[0]);
        if (p.Mask is not null)
        {
            using Image mask = AnomalyVisualizer.LookoutMask(p, new Color(0x23, 0xA4, 0x36));
            plan.Save(mask, files[1]);
        }
    }
}
