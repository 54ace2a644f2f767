namespace DefectDetection.Projects.Tests;

/// <summary>The loop of samples/ProjectLoop on the Lookout for Vision cookies (../shared), with weight-free features to stay quick.</summary>
public sealed class CookieLoopTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-project-cookies-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedFact]
    public void HalfTrainTrialVerifyAcceptRetrain_TheCatalogHoldsBothVersionsTheTrialAndTheLineage()
    {
        string cookies = SharedData.PathOf("datasets", "lfv-cookies");
        string training = Path.Combine(cookies, "dataset-files", "training-images");
        string[] all = [.. Directory.GetFiles(training, "*.jpg").Order(StringComparer.Ordinal)];
        string[] first = [.. all.Where((_, i) => i % 2 == 0)], second = [.. all.Where((_, i) => i % 2 == 1)];
        string list = Path.Combine(_dir, "first.csv");
        File.WriteAllLines(list, first.Select(f => $"{f},{Label(f)}"));

        using DefectProject p = DefectProject.Create(Path.Combine(_dir, "p"));
        p.Dataset.Import(new ImportOptions { Source = list });
        p.Dataset.Import(new ImportOptions { Source = Path.Combine(cookies, "test-images"), Split = EntrySplit.Test });
        ModelVersion v1 = p.Models.Train();
        Assert.True(v1.Metrics!.Accuracy >= 0.8, $"v1 accuracy {v1.Metrics.Accuracy}");

        Trial trial = p.Trials.Run(second);
        foreach (TrialResult r in trial.Results)
        {
            p.Trials.Verify(r.Id, new VerificationInput { TrueLabel = Label(r.Source) });
        }

        Assert.Equal(second.Length, p.Trials.Accept(trial.Number).Added.Count);
        ModelVersion v2 = p.Models.Retrain(activate: true);
        Assert.Equal(all.Length, v2.TrainImages);
        Assert.Equal(22, v2.TestImages);
        Assert.True(v2.Metrics!.Accuracy >= 0.8, $"v2 accuracy {v2.Metrics.Accuracy}");

        VersionComparison c = p.Models.Compare(1, 2);
        Assert.Equal(22, c.CommonTestImages);
        int v1Right = v1.Metrics.TruePositives + v1.Metrics.TrueNegatives, v2Right = v2.Metrics.TruePositives + v2.Metrics.TrueNegatives;
        Assert.Equal(v2Right - v1Right, c.Changed.Count(x => x.B.IsDefect == (x.TrueLabel == "anomaly")) - c.Changed.Count(x => x.A.IsDefect == (x.TrueLabel == "anomaly")));

        // The lineage: v1 on the first half only, v2 on both halves, the second half verified and from the trial.
        Assert.Equal(first.Select(Path.GetFullPath).Order(), p.Models.EntriesOf(1).Where(e => e.Split == EntrySplit.Train).Select(e => e.Source).Order());
        Assert.All(p.Models.EntriesOf(2).Where(e => e.Split == EntrySplit.Train && second.Contains(e.Source)), e => Assert.True(e.Verified && e.Origin == "trial 1 (v1)"));
        Assert.Equal(second.Length, p.Trials.Get(1).Verified);
    }

    private static string Label(string path) => Path.GetFileName(path).StartsWith("anomaly", StringComparison.Ordinal) ? "anomaly" : "normal";
}
