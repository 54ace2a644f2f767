using DefectDetection.Imaging;
using DefectDetection.Projects;
using DefectDetection.Service.Models;
using DefectDetection.Testing;

namespace DefectDetection.Service.Tests;

/// <summary><c>defect serve --project</c>'s model source: the project's active version, followed as it changes.</summary>
public sealed class ProjectModelSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-project-source-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ServesTheActiveVersion_SwitchesOnActivation_AndWorkInProgressKeepsItsVersion()
    {
        string data = Path.Combine(_dir, "data");
        for (int i = 0; i < 8; i++)
        {
            Save(SyntheticImages.Texture(i, 64), Path.Combine(data, "normal", $"n{i}.png"));
            Save(SyntheticImages.Texture(100 + i, 64, img => SyntheticImages.Paint(img, 8 + (i * 3), 10 + (i * 2), 20)), Path.Combine(data, "anomaly", $"a{i}.png"));
        }

        using DefectProject project = DefectProject.Create(Path.Combine(_dir, "p"));
        project.Dataset.Import(new ImportOptions { Source = data, TestFraction = 0.25, Seed = 3 });
        Assert.Throws<ProjectException>(() => ProjectModelSource.Open(project.Folder, TimeSpan.FromMinutes(1)));
        project.Models.Train(new ModelTrainOptions { Seed = 1 });

        using ProjectModelSource source = ProjectModelSource.Open(project.Folder, TimeSpan.FromMinutes(1));
        Assert.Equal("v1", source.Version);
        Assert.False(source.Refresh());
        project.Models.Train(new ModelTrainOptions { Seed = 2 });
        Assert.Equal(1, project.Models.Active!.Number);
        Assert.False(source.Refresh()); // a new version that is not active changes nothing

        using Image probe = SyntheticImages.Texture(50, 64);
        using (ModelLease before = source.Acquire())
        {
            project.Models.Activate(2);
            Assert.True(source.Refresh());
            Assert.Equal("v2", source.Version);

            // The lease taken before the switch still judges with v1.
            Assert.Equal("v1", before.Version);
            Assert.InRange(before.Model.Predict(probe.View()).Confidence, 0f, 1f);
            using ModelLease after = source.Acquire();
            Assert.Equal("v2", after.Version);
        }

        // Followed on its own by polling.
        using ProjectModelSource polled = ProjectModelSource.Open(project.Folder, TimeSpan.FromMilliseconds(100));
        Assert.Equal("v2", polled.Version);
        project.Models.Activate(1);
        DateTime until = DateTime.UtcNow.AddSeconds(20);
        while (polled.Version != "v1" && DateTime.UtcNow < until)
        {
            Thread.Sleep(50);
        }

        Assert.Equal("v1", polled.Version);
        Assert.Null(polled.LastError);
    }

    [Fact]
    public async Task AVerifiedImageMarkedForTraining_JoinsTheProjectsDatasetWithItsTrueLabel_Once()
    {
        using DefectProject project = DefectProject.Create(Path.Combine(_dir, "p2"));
        string image = Path.Combine(_dir, "service", "images", "r1.png");
        Save(SyntheticImages.Texture(7, 64), image);
        byte[] before = File.ReadAllBytes(image);
        var sink = new DefectDetection.Service.Dashboard.ProjectVerificationSink(project.Folder, Path.Combine(_dir, "service"));
        var wrong = new DefectDetection.Service.Dashboard.Verification
        {
            ResultId = "r1", Correct = false, TrueLabel = "anomaly", ImagePath = image, AddToTrainingSet = true,
            VerifiedBy = "operator", VerifiedAt = DateTimeOffset.UnixEpoch,
        };
        await sink.RecordAsync(wrong);
        await sink.RecordAsync(wrong with { ResultId = "r1-again" }); // the same picture again: relabelled, not added twice
        await sink.RecordAsync(wrong with { ResultId = "r2", AddToTrainingSet = false });

        DatasetEntry entry = Assert.Single(project.Dataset.List());
        Assert.Equal(("anomaly", EntrySplit.Train, true), (entry.Label, entry.Split, entry.Verified));
        Assert.Equal(before, File.ReadAllBytes(entry.ImagePath));
        Assert.NotEqual(Path.GetFullPath(image), Path.GetFullPath(entry.ImagePath)); // copied in, the service's file stays
        Assert.Equal(before, File.ReadAllBytes(image));
        Assert.Equal("anomaly", (await sink.FindAsync("r2"))!.TrueLabel);
        Assert.Null(await sink.FindAsync("unknown"));
    }

    private static void Save(Image image, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (image)
        {
            ImageCodecs.Save(image, path);
        }
    }
}
