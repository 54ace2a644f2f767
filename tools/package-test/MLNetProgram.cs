// The program a new ML.NET user writes after `dotnet add package DefectDetection.MLNet` (tools/package-test/run.sh
// builds it against the packed packages, beside the model file the first app wrote): the model applied in an ML.NET
// pipeline, saved and loaded with the package's save, then a PredictionEngine.
using DefectDetection.MLNet;
using DefectDetection.MLNet.Transforms;
using DefectDetection.Models;
using DefectDetection.Vision;
using Microsoft.ML;

string folder = args.Length > 0 ? args[0] : ".";
MLContext ml = new();
using IDefectModel model = DefectModel.Load(Path.Combine(folder, "parts.ddmodel"));
IDataView data = ml.Data.LoadFromEnumerable([new ImageInput { ImagePath = Path.Combine(folder, "bad.png") }]);
using (DefectModelTransformer transformer = ml.Transforms.ApplyDefectModel(model).Fit(data))
{
    ml.Model.SaveWithDefectDetection(transformer, data.Schema, "parts.zip");
}

ITransformer loaded = ml.Model.LoadWithDefectDetection("parts.zip", out _);
var engine = ml.Model.CreatePredictionEngine<ImageInput, Verdict>(loaded);
Verdict verdict = engine.Predict(new ImageInput { ImagePath = Path.Combine(folder, "bad.png") });
Console.WriteLine($"ML.NET prediction engine: bad.png is {(verdict.PredictedLabel ? "a defect" : "good")} (score {verdict.Score:F2})");
(loaded as IDisposable)?.Dispose();
return verdict.PredictedLabel ? 0 : 1;

public sealed class ImageInput
{
    public string ImagePath { get; set; } = "";
}

public sealed class Verdict
{
    public bool PredictedLabel { get; set; }

    public float Score { get; set; }
}
