using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Testing;
using DefectDetection.Tests;

namespace DefectDetection.Core.Tests.Datasets;

public class DeepPcbDatasetTests
{
    [Fact]
    public void ReadList_ResolvesPairsAndTypedBoxes()
    {
        using TempDir t = new();
        t.File("group1/1/1000_test.jpg");
        t.File("group1/1/1000_temp.jpg");
        t.File("group1/1/1001_test.jpg");
        t.File("group1/1/1001_temp.jpg");
        t.File("group1/1_not/1000.txt", "10 20 40 50 1\n100 110 130 150 6\n");
        t.File("group1/1_not/1001.txt", "0,0,5,7,3\r\n\r\n1 2 3 4 2");
        string list = t.File("test.txt", "group1/1/1000.jpg group1/1_not/1000.txt\n\ngroup1/1/1001.jpg   group1/1_not/1001.txt\n");

        IReadOnlyList<DeepPcbPair> pairs = DeepPcbDataset.ReadList(list);

        Assert.Equal(2, pairs.Count);
        Assert.Equal(Path.Combine(t.Path, "group1/1/1000_test.jpg"), pairs[0].TestImagePath);
        Assert.Equal(Path.Combine(t.Path, "group1/1/1000_temp.jpg"), pairs[0].TemplateImagePath);
        Assert.Equal([new LabeledBox(new Rectangle(10, 20, 30, 30), "open"), new LabeledBox(new Rectangle(100, 110, 30, 40), "pin-hole")], pairs[0].Defects);
        Assert.Equal([new LabeledBox(new Rectangle(0, 0, 5, 7), "mousebite"), new LabeledBox(new Rectangle(1, 2, 2, 2), "short")], pairs[1].Defects);
        Assert.Equal(["open", "short", "mousebite", "spur", "copper", "pin-hole"], DeepPcbDataset.TypeNames);
    }

    [Theory]
    [InlineData("1 2 3 4", 1, null)]                 // four fields
    [InlineData("1 2 3 4 5\n1 2 x 4 5", 2, "x2")]    // not a number
    [InlineData("1 2 3 4 7", 1, "type")]             // unknown type
    [InlineData("1 2 3 4 0", 1, "type")]
    [InlineData("\n5 5 5 9 1", 2, null)]             // empty box
    [InlineData("-1 2 3 4 1", 1, null)]              // negative
    public void ReadAnnotation_MalformedLine_NamesFileLineAndField(string content, int line, string? field)
    {
        using TempDir t = new();
        string path = t.File("a.txt", content);
        DatasetAssert.ThrowsAt(() => DeepPcbDataset.ReadAnnotation(path), path, line, field);
    }

    [Fact]
    public void ReadList_MalformedOrMissing_Throws()
    {
        using TempDir t = new();
        string one = t.File("one.txt", "group/1/1.jpg\n");
        Assert.Equal(1, Assert.Throws<DatasetException>(() => DeepPcbDataset.ReadList(one)).Line);
        string png = t.File("png.txt", "\ngroup/1/1.png group/1_not/1.txt\n");
        Assert.Equal(2, Assert.Throws<DatasetException>(() => DeepPcbDataset.ReadList(png)).Line);
        string missing = t.File("missing.txt", "group/1/1.jpg group/1_not/1.txt\n");
        DatasetException e = Assert.Throws<DatasetException>(() => DeepPcbDataset.ReadList(missing));
        Assert.Contains("1_test.jpg", e.Message, StringComparison.Ordinal);
        Assert.Empty(Assert.Single(DeepPcbDataset.ReadList(missing, checkFiles: false)).Defects);
        Assert.Throws<DatasetException>(() => DeepPcbDataset.ReadList(Path.Combine(t.Path, "absent.txt")));
        Assert.Throws<DatasetException>(() => DeepPcbDataset.ReadAnnotation(Path.Combine(t.Path, "absent.txt")));
    }

    [SharedFact]
    public void ReadList_SharedDeepPcb_HasTheOfficialSplits()
    {
        IReadOnlyList<DeepPcbPair> test = DeepPcbDataset.ReadList(SharedData.PathOf("datasets", "deeppcb", "test.txt"));
        IReadOnlyList<DeepPcbPair> train = DeepPcbDataset.ReadList(SharedData.PathOf("datasets", "deeppcb", "train.txt"));
        Assert.Equal(200, train.Count);
        Assert.InRange(test.Count, 499, 500);
        Assert.All(test, p => Assert.InRange(p.Defects.Count, 1, 30));
        Assert.Equal(DeepPcbDataset.TypeNames.Order(), test.SelectMany(p => p.Defects).Select(d => d.Label).Distinct().Order());
    }
}
