using DefectDetection.Datasets;
using DefectDetection.Imaging;

namespace DefectDetection.Projects.Tests;

/// <summary>Importing (folders, manifests, CSV), the validation report, duplicates, listing, relabelling and removing.</summary>
public sealed class DatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-project-dataset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ImportCopiesTheImages_LeavesTheUsersFilesAsTheyWere_AndSkipsDuplicates()
    {
        string data = TestImages.LabelFolders(Path.Combine(_dir, "data"), normals: 5, anomalies: 3);
        var before = TestImages.Snapshot(data);
        using DefectProject p = DefectProject.Create(Path.Combine(_dir, "p"));

        ImportResult first = p.Dataset.Import(new ImportOptions { Source = data, TestFraction = 0.4, Seed = 1 });
        Assert.Equal(8, first.Added.Count);
        Assert.Empty(first.Duplicates);
        Assert.Equal(before, TestImages.Snapshot(data)); // not moved, not changed
        foreach (DatasetEntry e in first.Added)
        {
            Assert.StartsWith(p.Folder, e.ImagePath);
            Assert.Equal(File.ReadAllBytes(e.Source), File.ReadAllBytes(e.ImagePath));
            Assert.Equal(Path.GetFileName(Path.GetDirectoryName(e.Source)), e.Label);
            Assert.StartsWith($"import {first.ImportId}", e.Origin);
            Assert.False(e.Verified);
        }

        Assert.Contains(first.Added, e => e.Split == EntrySplit.Test);
        Assert.Contains(first.Added, e => e.Split == EntrySplit.Train);

        // The same images again, under other names: nothing new.
        string copy = Path.Combine(_dir, "copy");
        Directory.CreateDirectory(copy);
        foreach (string f in Directory.EnumerateFiles(Path.Combine(data, "normal")))
        {
            File.Copy(f, Path.Combine(copy, "other-" + Path.GetFileName(f)));
        }

        ImportResult again = p.Dataset.Import(new ImportOptions { Source = copy });
        Assert.Empty(again.Added);
        Assert.Equal(5, again.Duplicates.Count);
        Assert.Equal(8, p.Dataset.Count());
    }

    [Fact]
    public void AnUnreadableImageOrUnknownLabel_ImportsNothing_AndNamesTheProblem()
    {
        string data = TestImages.LabelFolders(Path.Combine(_dir, "data"), normals: 3, anomalies: 2);
        File.WriteAllText(Path.Combine(data, "normal", "broken.png"), "not a png");
        using DefectProject p = DefectProject.Create(Path.Combine(_dir, "p"), new ProjectOptions { Labels = ["normal", "anomaly"] });

        DatasetException e = Assert.Throws<DatasetException>(() => p.Dataset.Import(new ImportOptions { Source = data }));
        Assert.Contains("broken.png", e.Message);
        Assert.Contains("nothing imported", e.Message);
        Assert.Equal(0, p.Dataset.Count());

        File.Delete(Path.Combine(data, "normal", "broken.png"));
        TestImages.Write(Path.Combine(data, "scratch"), "s", 1, 77, 64, defect: true);
        DatasetException unknown = Assert.Throws<DatasetException>(() => p.Dataset.Import(new ImportOptions { Source = data }));
        Assert.Contains("'scratch'", unknown.Message);
        Assert.Equal(0, p.Dataset.Count());
        string tmp = Path.Combine(p.Folder, "tmp");
        Assert.True(!Directory.Exists(tmp) || !Directory.EnumerateFiles(tmp).Any());
    }

    [Fact]
    public void ManifestAndCsvImports_KeepLabelsAndMasks()
    {
        string images = Path.Combine(_dir, "lfv");
        List<string> normal = TestImages.Write(images, "normal", 2, 1, 48, defect: false);
        List<string> anomaly = TestImages.Write(images, "anomaly", 1, 2, 48, defect: true);
        using (Image mask = Image.Create(48, 48, PixelFormat.Gray8))
        {
            mask.GetRow(10).Fill(255);
            ImageCodecs.Save(mask.View(), Path.Combine(images, "anomaly-1-mask.png"));
        }

        string manifest = Path.Combine(_dir, "train.manifest");
        File.WriteAllLines(manifest,
        [
            """{"source-ref":"s3://bucket/lfv/normal-1.png","anomaly-label":0,"anomaly-label-metadata":{"class-name":"normal"}}""",
            """{"source-ref":"s3://bucket/lfv/normal-2.png","anomaly-label":0,"anomaly-label-metadata":{"class-name":"normal"}}""",
            """{"source-ref":"s3://bucket/lfv/anomaly-1.png","anomaly-label":1,"anomaly-label-metadata":{"class-name":"anomaly"},"anomaly-mask-ref":"s3://bucket/lfv/anomaly-1-mask.png","anomaly-mask-ref-metadata":{"internal-color-map":{"0":{"class-name":"cracked","hex-color":"#FFFFFF"}}}}""",
        ]);
        using DefectProject p = DefectProject.Create(Path.Combine(_dir, "p"));
        ImportResult r = p.Dataset.Import(new ImportOptions { Source = manifest, Images = images });
        Assert.Equal(3, r.Added.Count);
        DatasetEntry withMask = Assert.Single(r.Added, e => e.MaskPath is not null);
        Assert.Equal("anomaly", withMask.Label);
        Assert.True(File.Exists(withMask.MaskPath));

        string csv = Path.Combine(_dir, "list.csv");
        string extra = TestImages.Write(Path.Combine(_dir, "extra"), "x", 1, 99, 48, defect: true)[0];
        File.WriteAllText(csv, $"path,label\n{extra},cracked\n");
        ImportResult fromCsv = p.Dataset.Import(new ImportOptions { Source = csv, Split = EntrySplit.Test });
        DatasetEntry c = Assert.Single(fromCsv.Added);
        Assert.Equal(("cracked", EntrySplit.Test), (c.Label, c.Split));
    }

    [Fact]
    public void ListFilters_RelabelAndRemove_KeepTheRowsForLineage()
    {
        string data = TestImages.LabelFolders(Path.Combine(_dir, "data"), normals: 4, anomalies: 2);
        using DefectProject p = DefectProject.Create(Path.Combine(_dir, "p"));
        p.Dataset.Import(new ImportOptions { Source = data });
        Assert.Equal(4, p.Dataset.List(new DatasetQuery { Label = "normal" }).Count);
        Assert.Equal(2, p.Dataset.List(new DatasetQuery { Limit = 2 }).Count);
        Assert.Equal(0, p.Dataset.Count(new DatasetQuery { Split = EntrySplit.Test }));

        long[] anomalies = [.. p.Dataset.List(new DatasetQuery { Label = "anomaly" }).Select(e => e.Id)];
        Assert.Equal(2, p.Dataset.Relabel(anomalies, "scratch", EntrySplit.Test));
        Assert.Equal(2, p.Dataset.Count(new DatasetQuery { Label = "scratch", Split = EntrySplit.Test }));

        Assert.Equal(1, p.Dataset.Remove([anomalies[0]]));
        Assert.Equal(5, p.Dataset.Count());
        Assert.Equal(6, p.Dataset.Count(new DatasetQuery { IncludeRemoved = true }));
        Assert.NotNull(p.Dataset.Get([anomalies[0]])[0].RemovedAt);
        ProjectException twice = Assert.Throws<ProjectException>(() => p.Dataset.Remove([anomalies[0]]));
        Assert.Contains($"entry {anomalies[0]}", twice.Message);
        Assert.Equal(5, p.Dataset.Count()); // the failed change changed nothing
    }
}
