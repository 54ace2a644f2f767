using System.Text.Json;
using DefectDetection.Cli;
using DefectDetection.Testing;

namespace DefectDetection.Cli.Tests;

/// <summary><c>defect train|evaluate|predict</c>: exit codes, messages and JSON fields, on a few real cookies.</summary>
public sealed class TrainEvaluatePredictCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-train-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A train/ + test/ folder of label folders with a few cookies each.</summary>
    private string CookieFolders()
    {
        string root = Path.Combine(_dir, "cookies");
        string training = SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "training-images");
        string testing = SharedData.PathOf("datasets", "lfv-cookies", "test-images");
        foreach ((string part, string source, string prefix, int count) in new[]
        {
            ("train", training, "", 5), ("test", testing, "test-", 3),
        })
        {
            foreach (string label in new[] { "normal", "anomaly" })
            {
                string dir = Directory.CreateDirectory(Path.Combine(root, part, label)).FullName;
                for (int i = 1; i <= count; i++)
                {
                    File.Copy(Path.Combine(source, $"{prefix}{label}-{i}.jpg"), Path.Combine(dir, $"{i}.jpg"));
                }
            }
        }

        return root;
    }

    [Fact]
    public void UnknownAndPlannedTasksAndMissingOptionsExitWithTwo()
    {
        var (code, _, err) = Run("train", "--data", _dir, "--task", "segment", "--out", Path.Combine(_dir, "m.ddmodel"));
        Assert.Equal(2, code);
        Assert.Contains("unknown task 'segment'", err, StringComparison.Ordinal);

        (code, _, err) = Run("train", "--data", _dir, "--task", "anomaly", "--out", Path.Combine(_dir, "m.ddmodel"));
        Assert.Equal(2, code);
        Assert.Contains("--backbone", err, StringComparison.Ordinal);

        (code, _, err) = Run("train", "--out", Path.Combine(_dir, "m.ddmodel"));
        Assert.Equal(2, code);
        Assert.Contains("--data", err, StringComparison.Ordinal);

        (code, _, err) = Run("train", "--data", Path.Combine(_dir, "nowhere"), "--out", Path.Combine(_dir, "m.ddmodel"));
        Assert.Equal(2, code);

        (code, _, err) = Run("train", "--data", _dir, "--out", Path.Combine(_dir, "m.ddmodel"), "--augment", "twirl");
        Assert.Equal(2, code);
        Assert.Contains("twirl", err, StringComparison.Ordinal);

        (code, _, _) = Run("evaluate", "--model", Path.Combine(_dir, "missing.ddmodel"), "--data", _dir);
        Assert.Equal(2, code);

        File.WriteAllText(Path.Combine(_dir, "corrupt.ddmodel"), "not a zip");
        (code, _, err) = Run("predict", "--model", Path.Combine(_dir, "corrupt.ddmodel"), Path.Combine(_dir, "corrupt.ddmodel"));
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err, StringComparison.Ordinal);

        (code, _, _) = Run("predict", "--model", Path.Combine(_dir, "corrupt.ddmodel"));
        Assert.Equal(2, code);
    }

    [SharedFact]
    public void TrainEvaluateAndPredictWriteTheDocumentedJson()
    {
        string data = CookieFolders();
        string model = Path.Combine(_dir, "cookies.ddmodel");
        var (code, output, err) = Run("train", "--data", data, "--task", "classify", "--out", model, "--json");
        Assert.True(code == 0, err);
        JsonElement train = JsonDocument.Parse(output).RootElement;
        Assert.Equal(10, train.GetProperty("training").GetProperty("images").GetInt32());
        Assert.True(train.GetProperty("training").GetProperty("feature_seconds").GetDouble() > 0);
        Assert.Equal(6, train.GetProperty("test").GetProperty("count").GetInt32());
        Assert.True(File.Exists(model));

        // No options: the automatic configuration's record (docs/auto-config.md), with the chosen candidate among those tried.
        JsonElement search = train.GetProperty("search");
        string chosen = search.GetProperty("chosen").GetString()!;
        Assert.Contains(search.GetProperty("candidates").EnumerateArray(), c => c.GetProperty("name").GetString() == chosen);
        Assert.Equal(["l2", "augmentation"], search.GetProperty("searched").EnumerateArray().Select(e => e.GetString()));

        // Not overwritten without --overwrite.
        (code, _, err) = Run("train", "--data", data, "--out", model);
        Assert.Equal(2, code);
        Assert.Contains("--overwrite", err, StringComparison.Ordinal);

        (code, output, err) = Run("evaluate", "--model", model, "--data", data, "--json");
        Assert.True(code == 0, err);
        JsonElement m = JsonDocument.Parse(output).RootElement;
        Assert.Equal(6, m.GetProperty("images").GetInt32());
        Assert.Equal(3, m.GetProperty("defects").GetInt32());
        foreach (string field in new[] { "accuracy", "precision", "recall", "f1", "image_auroc", "pr_auc", "threshold" })
        {
            Assert.InRange(m.GetProperty(field).GetDouble(), 0, 1);
        }

        // Defect against good: the confusion matrix holds every image, and accuracy, precision and recall follow from it.
        JsonElement matrix = m.GetProperty("confusion_matrix");
        int tn = matrix[0][0].GetInt32(), fp = matrix[0][1].GetInt32(), fn = matrix[1][0].GetInt32(), tp = matrix[1][1].GetInt32();
        Assert.Equal(6, tn + fp + fn + tp);
        Assert.Equal((tn + tp) / 6.0, m.GetProperty("accuracy").GetDouble(), 1e-9);
        Assert.Equal(tp + fn == 0 ? 0 : (double)tp / (tp + fn), m.GetProperty("recall").GetDouble(), 1e-9);

        // Per label (the classifier's labels are the data's).
        JsonElement normal = m.GetProperty("labels").GetProperty("per_label").GetProperty("normal");
        Assert.Equal(3, normal.GetProperty("support").GetInt32());
        foreach (string field in new[] { "precision", "recall", "f1" })
        {
            Assert.InRange(normal.GetProperty(field).GetDouble(), 0, 1);
        }

        // Operating points: highest threshold first; at the lowest every defective image is found.
        JsonElement[] points = [.. m.GetProperty("operating_points").EnumerateArray()];
        Assert.NotEmpty(points);
        Assert.True(points.Zip(points.Skip(1)).All(p => p.First.GetProperty("threshold").GetDouble() > p.Second.GetProperty("threshold").GetDouble()));
        Assert.Equal(1.0, points[^1].GetProperty("recall").GetDouble());
        Assert.Equal(1.0, points[^1].GetProperty("false_positive_rate").GetDouble());

        string image = Path.Combine(data, "test", "anomaly", "1.jpg");
        (code, output, err) = Run("predict", "--model", model, image, Path.Combine(data, "test", "normal", "1.jpg"), "--json");
        Assert.True(code == 0, err);
        JsonElement[] rows = JsonDocument.Parse(output).RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, rows.Length);
        Assert.Equal(image, rows[0].GetProperty("image").GetString());
        string label = rows[0].GetProperty("label").GetString()!;
        Assert.Contains(label, new[] { "normal", "anomaly" });
        Assert.Equal(1.0, rows[0].GetProperty("label_scores").EnumerateObject().Sum(p => p.Value.GetDouble()), 1e-4);
        Assert.Equal(label == "anomaly", rows[0].GetProperty("is_defect").GetBoolean());
        PredictionSchema.Validate(output);

        (code, output, _) = Run("evaluate", "--model", model, "--data", data);
        Assert.Equal(0, code);
        Assert.Contains("Confusion matrix", output, StringComparison.Ordinal);
        Assert.Contains("Operating points", output, StringComparison.Ordinal);

        (code, _, err) = Run("predict", "--model", model, Path.Combine(_dir, "no.jpg"));
        Assert.Equal(2, code);
        Assert.Contains("no.jpg", err, StringComparison.Ordinal);
    }
}
