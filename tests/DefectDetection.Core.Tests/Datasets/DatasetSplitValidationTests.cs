using DefectDetection.Datasets;
using DefectDetection.Tests;

namespace DefectDetection.Core.Tests.Datasets;

public class DatasetSplitValidationTests
{
    private static ImageDataset Make(params (string Label, int Count)[] groups) =>
        new(groups.SelectMany(g => Enumerable.Range(0, g.Count).Select(i => new LabeledImage($"/data/{g.Label}/{i}.jpg", g.Label))));

    [Fact]
    public void Split_IsStratifiedCompleteAndDisjoint()
    {
        ImageDataset ds = Make(("normal", 100), ("anomaly", 20), ("rare", 3));
        DatasetSplit split = ds.Split(new SplitOptions { TrainFraction = 0.6, ValidationFraction = 0.2, TestFraction = 0.2, Seed = 5 });

        Assert.Equal(60, split.Train.CountByLabel()["normal"]);
        Assert.Equal(20, split.Validation.CountByLabel()["normal"]);
        Assert.Equal(20, split.Test.CountByLabel()["normal"]);
        Assert.Equal(12, split.Train.CountByLabel()["anomaly"]);
        Assert.Equal(4, split.Validation.CountByLabel()["anomaly"]);
        Assert.Equal(4, split.Test.CountByLabel()["anomaly"]);
        // 3 images: one each (at least one per positive fraction while training keeps one).
        Assert.Equal(1, split.Train.CountByLabel()["rare"]);
        Assert.Equal(1, split.Validation.CountByLabel()["rare"]);
        Assert.Equal(1, split.Test.CountByLabel()["rare"]);

        string[] all = [.. split.Train.Concat(split.Validation).Concat(split.Test).Select(i => i.ImagePath)];
        Assert.Equal(ds.Count, all.Length);
        Assert.Equal(ds.Count, all.Distinct().Count());
        Assert.Equal(ds.Labels, split.Test.Labels);
    }

    [Fact]
    public void Split_IsDeterministicPerSeed()
    {
        ImageDataset ds = Make(("a", 50), ("b", 50));
        string[] Test(int seed) => [.. ds.Split(new SplitOptions { Seed = seed }).Test.Select(i => i.ImagePath)];
        Assert.Equal(Test(1), Test(1));
        Assert.NotEqual(Test(1), Test(2));
    }

    [Fact]
    public void Split_SingleImageLabel_StaysInTraining_AndBadFractionsThrow()
    {
        ImageDataset ds = Make(("a", 1), ("b", 10));
        DatasetSplit split = ds.Split();
        Assert.Equal(1, split.Train.CountByLabel()["a"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Split(new SplitOptions { TrainFraction = 0.5, ValidationFraction = 0.1, TestFraction = 0.1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Split(new SplitOptions { TrainFraction = 1.2, ValidationFraction = -0.2, TestFraction = 0 }));
    }

    [Fact]
    public void Validate_ReportsMissingUnreadableUnknownAndDuplicates()
    {
        using TempDir t = new();
        string garbage = t.File("a/garbage.jpg", "this is not an image");
        string missing = Path.Combine(t.Path, "a", "missing.jpg");
        ImageDataset ds = new(
            [
                new LabeledImage(garbage, "normal"),
                new LabeledImage(missing, "normal") { Origin = "list.csv:3" },
                new LabeledImage(garbage, "weird"),
            ],
            ["normal", "anomaly"]);

        DatasetValidationReport report = ds.Validate();

        Assert.False(report.IsValid);
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.MissingFile && p.Path == missing && p.Message.Contains("list.csv:3", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.UnreadableImage && p.Path == garbage);
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.UnknownLabel && p.Message.Contains("weird", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.EmptyLabel && p.Path == "anomaly");
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.DuplicateImage && !p.IsError);

        DatasetException ex = Assert.Throws<DatasetException>(report.ThrowIfInvalid);
        Assert.Contains("missing.jpg", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ExpectedLabels_OverrideTheDatasetLabels()
    {
        ImageDataset ds = Make(("a", 2), ("b", 2));
        DatasetValidationReport report = ds.Validate(["a", "b", "c"], readHeaders: false);
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.EmptyLabel && p.Path == "c");
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.MissingFile);
    }

    [Fact]
    public void WithLabelsMapped_RenamesLabels()
    {
        ImageDataset ds = Make(("crack", 2), ("blowhole", 1), ("free", 3));
        ImageDataset binary = ds.WithLabelsMapped(new Dictionary<string, string> { ["crack"] = "anomaly", ["blowhole"] = "anomaly", ["free"] = "normal" });
        Assert.Equal(["anomaly", "normal"], binary.Labels.Order());
        Assert.Equal(3, binary.CountByLabel()["anomaly"]);
    }

    [Fact]
    public void Filter_KeepsTheLabels()
    {
        ImageDataset ds = Make(("a", 2), ("b", 3));
        ImageDataset onlyB = ds.Filter(i => i.Label == "b");
        Assert.Equal(3, onlyB.Count);
        Assert.Equal(["a", "b"], onlyB.Labels);
        Assert.Contains(onlyB.Validate(readHeaders: false).Problems, p => p.Kind == DatasetProblemKind.EmptyLabel && p.Path == "a");
    }
}
