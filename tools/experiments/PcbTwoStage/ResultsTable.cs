using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DefectDetection.Samples.PcbTwoStage;

/// <summary>Prints and saves the experiment's table.</summary>
public static class ResultsTable
{
    public static void Print(IReadOnlyList<MethodResult> results, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"{"method",-52} {"precision",9} {"recall",7} {"F1",6} {"image F1",9} {"ms/board",9}");
        foreach (MethodResult r in results)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Method,-52} {r.Precision,9:F3} {r.Recall,7:F3} {r.F1,6:F3} {r.ImageF1,9:F3} {r.MillisecondsPerBoard,9:F0}"));
        }
    }

    public static void WriteJson(IReadOnlyList<MethodResult> results, string path)
    {
        JsonArray rows = [];
        foreach (MethodResult r in results)
        {
            rows.Add((JsonNode)new JsonObject
            {
                ["method"] = r.Method,
                ["precision"] = Math.Round(r.Precision, 4),
                ["recall"] = Math.Round(r.Recall, 4),
                ["f1"] = Math.Round(r.F1, 4),
                ["image_precision"] = Math.Round(r.ImagePrecision, 4),
                ["image_recall"] = Math.Round(r.ImageRecall, 4),
                ["image_f1"] = Math.Round(r.ImageF1, 4),
                ["ms_per_board"] = Math.Round(r.MillisecondsPerBoard, 1),
            });
        }

        File.WriteAllText(path, rows.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
