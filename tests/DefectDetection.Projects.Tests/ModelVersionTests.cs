namespace DefectDetection.Projects.Tests;

/// <summary>Training versions: lineage, metrics, activation, retraining, comparison, retention, failures.</summary>
public sealed class ModelVersionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-project-models-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private DefectProject NewProject(int normals = 8, int anomalies = 8)
    {
        string data = TestImages.LabelFolders(Path.Combine(_dir, "data"), normals, anomalies);
        DefectProject p = DefectProject.Create(Path.Combine(_dir, "p"));
        p.Dataset.Import(new ImportOptions { Source = data, TestFraction = 0.25, Seed = 3 });
        return p;
    }

    [Fact]
    public void Train_RecordsTheExactEntries_TheMetrics_AndActivatesTheFirstVersion()
    {
        using DefectProject p = NewProject();
        long revision = p.Revision;
        ModelVersion v1 = p.Models.Train();

        Assert.Equal((1, ModelVersionStatus.Trained, "image_classifier"), (v1.Number, v1.Status, v1.Learner));
        Assert.True(v1.IsActive);
        Assert.Equal(v1, p.Models.Active);
        Assert.True(File.Exists(v1.ModelPath));
        Assert.Equal(Path.Combine(p.Folder, "models", "v1.ddmodel"), v1.ModelPath);
        Assert.True(p.Revision > revision);
        Assert.Equal(p.Dataset.Count(new DatasetQuery { Split = EntrySplit.Train }), v1.TrainImages);
        Assert.Equal(p.Dataset.Count(new DatasetQuery { Split = EntrySplit.Test }), v1.TestImages);
        TestMetrics m = Assert.IsType<TestMetrics>(v1.Metrics);
        Assert.Equal(v1.TestImages, m.Images);
        Assert.Equal(m.Images, m.TruePositives + m.FalsePositives + m.TrueNegatives + m.FalseNegatives);
        Assert.True(m.Accuracy >= 0.75, $"accuracy {m.Accuracy} on painted squares");
        Assert.Equal("classify", v1.Configuration.ResolvedTask);
        using (var model = DefectDetection.Vision.DefectModel.Load(v1.ModelPath!))
        {
            Assert.Equal("image_classifier", model.Learner);
        }

        // The lineage is what the version saw: a later relabel, removal or import does not change it.
        IReadOnlyList<DatasetEntry> lineage = p.Models.EntriesOf(1);
        Assert.Equal(p.Dataset.List().Select(e => (e.Id, e.Label, e.Split)), lineage.Select(e => (e.Id, e.Label, e.Split)));
        long first = lineage[0].Id;
        p.Dataset.Relabel([first], "relabelled");
        p.Dataset.Remove([lineage[1].Id]);
        Assert.Equal(lineage.Select(e => (e.Id, e.Label)), p.Models.EntriesOf(1).Select(e => (e.Id, e.Label)));
    }

    [Fact]
    public void Retrain_Compare_Activate_AndRetention_NeverDeleteTheActiveVersion()
    {
        using DefectProject p = NewProject();
        ModelVersion v1 = p.Models.Train(new ModelTrainOptions { Seed = 5 });
        string extra = TestImages.LabelFolders(Path.Combine(_dir, "more"), normals: 4, anomalies: 4, seed: 777);
        p.Dataset.Import(new ImportOptions { Source = extra, Split = EntrySplit.Train });
        ModelVersion v2 = p.Models.Retrain();

        Assert.Equal(2, v2.Number);
        Assert.False(v2.IsActive); // v1 stays active unless asked
        Assert.Equal(v1.TrainImages + 8, v2.TrainImages);
        Assert.Equal(5, v2.Configuration.Seed); // the configuration of the active version

        VersionComparison c = p.Models.Compare(1, 2);
        Assert.Equal(v1.TestImages, c.CommonTestImages);
        Assert.All(c.Changed, x => Assert.True(x.A.IsDefect != x.B.IsDefect || x.A.Label != x.B.Label));

        Assert.True(p.Models.Activate(2).IsActive);
        Assert.False(p.Models.Get(1).IsActive);
        ProjectException active = Assert.Throws<ProjectException>(() => p.Models.Delete(2));
        Assert.Contains("active", active.Message);

        ModelVersion v3 = p.Models.Train(new ModelTrainOptions { KeepLast = 1 });
        // Keep the newest one (v3) and the active one (v2); v1 goes.
        Assert.Equal(ModelVersionStatus.Deleted, p.Models.Get(1).Status);
        Assert.False(File.Exists(v1.ModelPath));
        Assert.Equal(ModelVersionStatus.Trained, p.Models.Get(2).Status);
        Assert.Equal(ModelVersionStatus.Trained, v3.Status);
        Assert.Equal(v1.TrainImages, p.Models.Get(1).TrainImages); // the record and its lineage stay
        Assert.Throws<ProjectException>(() => p.Models.Activate(1));
    }

    [Fact]
    public void NothingToTrainOn_OrAnomalyWithoutBackbone_IsRefusedBeforeAnyVersion()
    {
        using DefectProject empty = DefectProject.Create(Path.Combine(_dir, "empty"));
        Assert.Contains("no training images", Assert.Throws<ProjectException>(() => empty.Models.Train()).Message);

        string normals = Path.Combine(_dir, "good");
        TestImages.Write(normals, "g", 4, 1, 48, defect: false);
        empty.Dataset.Import(new ImportOptions { Source = normals });
        ProjectException e = Assert.Throws<ProjectException>(() => empty.Models.Train());
        Assert.Contains("backbone", e.Message);
        Assert.Empty(empty.Models.List());
        Assert.Contains("retrain", Assert.Throws<ProjectException>(() => empty.Models.Retrain()).Message);
    }

    [Fact]
    public void CancelledTraining_MarksTheVersionFailed_AndLeavesNoFiles_ThenARetrySucceeds()
    {
        using DefectProject p = NewProject();
        using var cts = new CancellationTokenSource();
        var progress = new Progress(cts);
        Assert.ThrowsAny<OperationCanceledException>(() => p.Models.Train(progress: progress, cancellationToken: cts.Token));

        ModelVersion failed = Assert.Single(p.Models.List());
        Assert.Equal((ModelVersionStatus.Failed, "cancelled"), (failed.Status, failed.Error));
        Assert.Null(p.Models.Active);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(p.Folder, "models")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(p.Folder, "tmp")));

        ModelVersion v2 = p.Models.Train();
        Assert.Equal((2, ModelVersionStatus.Trained, true), (v2.Number, v2.Status, v2.IsActive));
    }

    // Cancels as soon as training reports progress.
    private sealed class Progress(CancellationTokenSource cts) : IProgress<DefectDetection.Models.TrainingProgress>
    {
        public void Report(DefectDetection.Models.TrainingProgress value) => cts.Cancel();
    }
}
