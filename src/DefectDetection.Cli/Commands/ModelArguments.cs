using System.CommandLine;
using System.Globalization;
using DefectDetection.Models;
using DefectDetection.Vision;

namespace DefectDetection.Cli.Commands;

/// <summary>The options every command that applies a model file shares: <c>--model</c>, <c>--backbone</c>, <c>--threshold</c>.</summary>
internal sealed class ModelArguments
{
    public Option<string> Model { get; } = new("--model") { Description = "The .ddmodel file (any learner)." };

    public Option<string> Backbone { get; } = new("--backbone") { Description = "The backbone ONNX of a model that references it by hash and has no file with that hash beside it." };

    public Option<string> Threshold { get; } = new("--threshold") { Description = "Judge with this decision threshold instead of the model's (the score's units: a probability for classifiers, the anomaly score for anomaly models; see evaluate's operating points)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Backbone);
        command.Options.Add(Threshold);
    }

    /// <summary>The value of <c>--threshold</c>, or null when not given.</summary>
    public static double? ParseThreshold(string? text) =>
        text is null ? null
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) && double.IsFinite(t) ? t
        : throw new ArgumentException($"--threshold: '{text}' is not a finite number.");

    /// <summary>Loads the model of the command line, re-thresholded when <c>--threshold</c> is given.</summary>
    public IDefectModel Load(ParseResult parse)
    {
        string path = TrainCommand.Required(parse.GetValue(Model), "--model", "the .ddmodel file");
        double? threshold = ParseThreshold(parse.GetValue(Threshold));
        IDefectModel model = DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = parse.GetValue(Backbone) });
        if (threshold is not { } value)
        {
            return model;
        }

        try
        {
            return model.WithThreshold(value);
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or InvalidOperationException)
        {
            throw new ArgumentException($"--threshold: {ex.Message.Split(Environment.NewLine)[0]}", ex);
        }
        finally
        {
            model.Dispose();
        }
    }
}
