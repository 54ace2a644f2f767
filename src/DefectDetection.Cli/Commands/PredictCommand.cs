using System.CommandLine;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Classification;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect predict</c>: applies any model file to images and writes the shared prediction JSON.</summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        ModelArguments model = new();
        Option<string> reference = new("--reference") { Description = "Template-difference models: the golden template image the images are compared with." };
        Option<string> overlay = new("--overlay") { Description = "Write each image's overlay (heat map, mask contours, defect boxes) and, for anomaly models, its Lookout-style mask PNG to this folder." };
        Option<bool> json = new("--json") { Description = "Write JSON for machines (docs/prediction.schema.json) instead of text." };
        Argument<string[]> images = new("IMAGES") { Description = "The image files.", Arity = ArgumentArity.ZeroOrMore };
        Command command = new("predict", "Judge images with a trained model of any learner: verdict, label, score, confidence, located defects, overlays.") { reference, overlay, json, images };
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

            using IDefectModel loaded = model.Load(parse);
            using Image? golden = parse.GetValue(reference) is { } r ? ImageCodecs.Load(ImageCommand.RequireFile(new FileInfo(r))) : null;
            IDefectModel judge = Bind(loaded, golden);
            List<PredictionReport> reports = [];
            foreach (string path in files)
            {
                using Image image = ImageCodecs.Load(path);
                DefectPrediction p = judge.Predict(image.View());
                reports.Add(PredictionReport.From(p, path));
                if (parse.GetValue(overlay) is { } dir)
                {
                    WriteOverlay(image, p, path, dir);
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

    private static void WriteOverlay(Image image, DefectPrediction p, string path, string dir)
    {
        Directory.CreateDirectory(dir);
        string stem = Path.GetFileNameWithoutExtension(path);
        using Image overlay = AnomalyVisualizer.Overlay(image, p);
        ImageCodecs.Save(overlay, Path.Combine(dir, stem + ".overlay.png"));
        if (p.Mask is not null)
        {
            using Image mask = AnomalyVisualizer.LookoutMask(p, new Color(0x23, 0xA4, 0x36));
            ImageCodecs.Save(mask, Path.Combine(dir, stem + ".mask.png"));
        }
    }
}
