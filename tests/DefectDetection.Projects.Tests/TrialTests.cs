using DefectDetection.Imaging;

namespace DefectDetection.Projects.Tests;

/// <summary>Trials: run, store, verify (one by one, CSV, JSON), accept into the dataset.</summary>
public sealed class TrialTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-project-trials-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheLoop_TrialVerifyAccept_AddsVerifiedEntriesWithTheirTrueLabels()
    {
        string data = TestImages.LabelFolders(Path.Combine(_dir, "data"), normals: 8, anomalies: 8);
        using DefectProject p = DefectProject.Create(Path.Combine(_dir, "p"));
        p.Dataset.Import(new ImportOptions { Source = data });
        Assert.Contains("no version is active", Assert.Throws<ProjectException>(() => p.Trials.Run([Path.Combine(data, "normal")])).Message);
        p.Models.Train();

        string fresh = Path.Combine(_dir, "fresh");
        List<string> good = TestImages.Write(fresh, "good", 3, 500, 64, defect: false);
        List<string> bad = TestImages.Write(fresh, "bad", 3, 600, 64, defect: true);
        Trial trial = p.Trials.Run([fresh]);
        Assert.Equal((1, 1, TrialStatus.Done, 6), (trial.Number, trial.Version, trial.Status, trial.Results.Count));
        foreach (TrialResult r in trial.Results)
        {
            Assert.Equal(File.ReadAllBytes(r.Source), File.ReadAllBytes(r.ImagePath));
            ImageInfo overlay = ImageCodecs.Identify(r.OverlayPath!);
            Assert.True(overlay.Width <= ProjectTrials.OverlaySide && overlay.Height <= ProjectTrials.OverlaySide);
            Assert.Null(r.Verification);
        }

        // One by one: a wrong verdict with its label, a right one by "correct".
        TrialResult first = p.Trials.Verify(1, Path.GetFileName(good[0]), new VerificationInput { TrueLabel = "normal" });
        Assert.Equal(!first.IsDefect, first.Verification!.Correct);
        TrialResult second = p.Trials.Verify(1, bad[0], new VerificationInput { Correct = true });
        Assert.Equal(second.Label, second.Verification!.TrueLabel);

        // The rest from a CSV (with a mask) and a JSON file.
        string mask = Path.Combine(_dir, "mask.png");
        using (Image m = Image.Create(64, 64, PixelFormat.Gray8))
        {
            ImageCodecs.Save(m.View(), mask);
        }

        File.WriteAllText(Path.Combine(_dir, "v.csv"), $"image,label,mask\n{Path.GetFileName(bad[1])},anomaly,mask.png\n{Path.GetFileName(good[1])},normal\n");
        Assert.Equal(2, p.Trials.VerifyFromFile(1, Path.Combine(_dir, "v.csv")));
        File.WriteAllText(Path.Combine(_dir, "v.json"), $$"""[{"image": "{{Path.GetFileName(bad[2])}}", "label": "anomaly"}, {"image": "{{Path.GetFileName(good[2])}}", "correct": {{(trial.Results.Single(r => r.Source == good[2]).IsDefect ? "false" : "true")}}}]""");
        Assert.Equal(2, p.Trials.VerifyFromFile(1, Path.Combine(_dir, "v.json")));

        // A file naming an image the trial does not have changes nothing.
        File.WriteAllText(Path.Combine(_dir, "bad.csv"), $"{Path.GetFileName(good[0])},anomaly\nmissing.png,normal\n");
        Assert.Contains("missing.png", Assert.Throws<ProjectException>(() => p.Trials.VerifyFromFile(1, Path.Combine(_dir, "bad.csv"))).Message);

        Trial verified = p.Trials.Get(1);
        Assert.Equal(6, verified.Verified);
        Assert.Equal("normal", verified.Results.Single(r => r.Source == good[0]).Verification!.TrueLabel);
        Assert.NotNull(verified.Results.Single(r => r.Source == bad[1]).Verification!.MaskPath);
        Assert.All(verified.Results, r => Assert.Equal(r.Source.Contains("bad-") ? "anomaly" : "normal", r.Verification!.TrueLabel));

        int before = p.Dataset.Count();
        AcceptResult accepted = p.Trials.Accept(1);
        Assert.Equal(6, accepted.Added.Count);
        Assert.Equal(before + 6, p.Dataset.Count());
        Assert.All(accepted.Added, e => Assert.True(e.Verified && e.Split == EntrySplit.Train && e.Origin == "trial 1 (v1)"));
        Assert.Equal(6, p.Dataset.Count(new DatasetQuery { Verified = true }));
        Assert.Empty(p.Trials.Accept(1).Added); // accepting twice adds nothing
        Assert.Equal(6, p.Trials.List().Single().Accepted);

        ModelVersion v2 = p.Models.Retrain();
        Assert.Equal(p.Models.Get(1).TrainImages + 6, v2.TrainImages);
    }

    [Fact]
    public void WrongWithoutALabel_TakesTheOtherVerdictsLabel()
    {
        string data = TestImages.LabelFolders(Path.Combine(_dir, "data"), normals: 6, anomalies: 6);
        using DefectProject p = DefectProject.Create(Path.Combine(_dir, "p"));
        p.Dataset.Import(new ImportOptions { Source = data });
        p.Models.Train();
        string image = TestImages.Write(Path.Combine(_dir, "one"), "x", 1, 900, 64, defect: false)[0];
        TrialResult r = p.Trials.Run([image]).Results.Single();
        TrialResult v = p.Trials.Verify(r.Id, new VerificationInput { Correct = false });
        Assert.Equal(r.IsDefect ? "normal" : "anomaly", v.Verification!.TrueLabel);
        Assert.False(v.Verification.Correct);
        Assert.Throws<ProjectException>(() => p.Trials.Verify(1, "other.png", new VerificationInput { Correct = true }));
    }
}
