using DefectDetection.Datasets;
using DefectDetection.Testing;
using DefectDetection.Tests;

namespace DefectDetection.Core.Tests.Datasets;

public class DatasetReaderTests
{
    [Fact]
    public void FromFolder_TakesSubFolderNamesAsLabels_AndReportsEmptyLabelsAndIgnoredFiles()
    {
        using TempDir t = new();
        t.File("normal/a.jpg");
        t.File("normal/nested/b.png");
        t.File("anomaly/c.JPG");
        t.File("anomaly/notes.txt");
        t.File("anomaly/.DS_Store");
        t.Dir("scratch");
        t.File("readme.md");

        ImageDataset ds = ImageDataset.FromFolder(t.Path);

        Assert.Equal(["anomaly", "normal", "scratch"], ds.Labels);
        Assert.Equal(3, ds.Count);
        Assert.Equal(2, ds.CountByLabel()["normal"]);
        Assert.Equal(0, ds.CountByLabel()["scratch"]);
        Assert.Contains(ds, i => i.Label == "anomaly" && i.ImagePath.EndsWith("c.JPG", StringComparison.Ordinal));
        Assert.Equal(2, ds.IgnoredFiles.Count); // notes.txt and readme.md, not the hidden file

        DatasetValidationReport report = ds.Validate(readHeaders: false);
        Assert.False(report.IsValid);
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.EmptyLabel && p.Path == "scratch" && p.IsError);
        Assert.Equal(2, report.Problems.Count(p => p.Kind == DatasetProblemKind.IgnoredFile && !p.IsError));
        DatasetException ex = Assert.Throws<DatasetException>(report.ThrowIfInvalid);
        Assert.Contains("scratch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_MissingOrFlatFolder_Throws()
    {
        using TempDir t = new();
        DatasetException missing = Assert.Throws<DatasetException>(() => ImageDataset.FromFolder(Path.Combine(t.Path, "nope")));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        t.File("x.jpg");
        Assert.Throws<DatasetException>(() => ImageDataset.FromFolder(t.Path));
    }

    [Fact]
    public void FromLookoutForVisionFolder_ReadsTrainAndTest()
    {
        using TempDir t = new();
        t.File("train/normal/1.jpg");
        t.File("train/normal/2.jpg");
        t.File("train/anomaly/3.jpg");
        t.File("test/normal/4.jpg");
        t.File("test/anomaly/5.jpg");
        t.File("test/anomaly/6.jpg");

        DatasetSplit split = ImageDataset.FromLookoutForVisionFolder(t.Path);

        Assert.Equal(3, split.Train.Count);
        Assert.Equal(3, split.Test.Count);
        Assert.Empty(split.Validation);
        Assert.Equal(["anomaly", "normal"], split.Train.Labels);
        Assert.Equal(2, split.Test.CountByLabel()["anomaly"]);
        Assert.Throws<DatasetException>(() => ImageDataset.FromLookoutForVisionFolder(Path.Combine(t.Path, "train")));
    }

    [SharedFact]
    public void FromManifest_ReadsTheCookieManifest()
    {
        string manifest = SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "manifests", "template.manifest");
        ImageDataset ds = ImageDataset.FromManifest(manifest);

        Assert.Equal(63, ds.Count);
        Assert.Equal(["anomaly", "normal"], ds.Labels);
        Assert.Equal(32, ds.CountByLabel()["anomaly"]);
        Assert.Equal(31, ds.CountByLabel()["normal"]);
        LabeledImage first = ds.Single(i => Path.GetFileName(i.ImagePath) == "anomaly-1.jpg");
        Assert.True(File.Exists(first.ImagePath));
        Assert.NotNull(first.MaskPath);
        Assert.Equal("anomaly-1.png", Path.GetFileName(first.MaskPath));
        Assert.True(File.Exists(first.MaskPath));
        MaskColor color = Assert.Single(first.MaskColors);
        Assert.Equal("cracked", color.Label);
        Assert.Equal((0x23, 0xA4, 0x36), (color.R, color.G, color.B));
        Assert.All(ds.Where(i => i.Label == "normal"), i => Assert.Null(i.MaskPath));

        DatasetValidationReport report = ds.Validate(readHeaders: false);
        Assert.True(report.IsValid, report.ToString());
    }

    [SharedFact]
    [Trait("Needs", "JpegDecoder")]
    [Trait("Needs", "PngDecoder")]
    public void Validate_ReadsTheHeadersOfTheCookieImagesAndMasks()
    {
        ImageDataset ds = ImageDataset.FromManifest(SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "manifests", "template.manifest"));
        DatasetValidationReport report = ds.Validate();
        Assert.True(report.IsValid, report.ToString());
        Assert.Empty(report.Problems);
    }

    [Fact]
    public void FromManifest_MapsS3UrisToLocalFilesByKeyAndName()
    {
        using TempDir t = new();
        string images = t.Dir("local");
        t.File("local/normal-1.jpg");
        t.File("local/sub/anomaly-1.jpg");
        t.File("local/masks/anomaly-1.png");
        string manifest = t.File("m.manifest",
            """
            {"source-ref": "s3://bucket/prefix/normal-1.jpg", "anomaly-label": 0, "anomaly-label-metadata": {"class-name": "normal"}}

            {"source-ref": "s3://bucket/deep/prefix/anomaly-1.jpg", "anomaly-label": 1, "anomaly-mask-ref": "s3://bucket/x/masks/anomaly-1.png", "anomaly-mask-ref-metadata": {"internal-color-map": {"0": {"class-name": "BACKGROUND", "hex-color": "#ffffff"}, "1": {"class-name": "scratch", "hex-color": "#2ca02c"}}}}
            {"source-ref": "s3://bucket/missing.jpg", "anomaly-label": 1}
            """);

        ImageDataset ds = ImageDataset.FromManifest(manifest, new ManifestOptions { ImageRoot = images });

        Assert.Equal(3, ds.Count);
        Assert.Equal(Path.Combine(images, "normal-1.jpg"), ds[0].ImagePath);
        Assert.Equal(Path.Combine(images, "sub", "anomaly-1.jpg"), ds[1].ImagePath);
        Assert.Equal("anomaly", ds[1].Label); // no class-name: 1 means anomaly
        Assert.Equal(Path.Combine(images, "masks", "anomaly-1.png"), ds[1].MaskPath);
        Assert.Equal(2, ds[1].MaskColors.Count);
        Assert.Equal("#2CA02C", ds[1].MaskColors[1].Hex);

        DatasetValidationReport report = ds.Validate(readHeaders: false);
        DatasetProblem missing = Assert.Single(report.Problems);
        Assert.Equal(DatasetProblemKind.MissingFile, missing.Kind);
        Assert.Contains("m.manifest:4", missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"source-ref\": \"a.jpg\", \"anomaly-label\": 0}\n{not json", 2, null)]
    [InlineData("{\"anomaly-label\": 0}", 1, "source-ref")]
    [InlineData("{\"source-ref\": \"a.jpg\"}", 1, "anomaly-label")]
    [InlineData("{\"source-ref\": \"a.jpg\", \"anomaly-label\": 7}", 1, "anomaly-label")]
    [InlineData("{\"source-ref\": \"a.jpg\", \"anomaly-label\": 1, \"anomaly-mask-ref\": \"m.png\", \"anomaly-mask-ref-metadata\": {\"internal-color-map\": {\"0\": {\"class-name\": \"c\", \"hex-color\": \"green\"}}}}", 1, "anomaly-mask-ref-metadata.internal-color-map.0.hex-color")]
    [InlineData("{\"source-ref\": \"http://host/a.jpg\", \"anomaly-label\": 1}", 1, "source-ref")]
    public void FromManifest_BadLines_NameTheLineAndField(string content, int line, string? field)
    {
        using TempDir t = new();
        string manifest = t.File("bad.manifest", content);
        DatasetAssert.ThrowsAt(() => ImageDataset.FromManifest(manifest), manifest, line, field);
    }

    [Fact]
    public void FromManifest_ReadsObjectDetectionBoxes()
    {
        using TempDir t = new();
        string manifest = t.File("boxes.manifest",
            """{"source-ref": "img.jpg", "anomaly-label": 1, "bb": {"annotations": [{"class_id": 1, "left": 10, "top": 20, "width": 30, "height": 40}]}, "bb-metadata": {"type": "groundtruth/object-detection", "class-map": {"1": "spur"}}}""");
        ImageDataset ds = ImageDataset.FromManifest(manifest);
        LabeledBox box = Assert.Single(ds[0].Boxes);
        Assert.Equal("spur", box.Label);
        Assert.Equal(new DefectDetection.Imaging.Rectangle(10, 20, 30, 40), box.Box);
    }

    [Fact]
    public void FromCsv_HeaderOptional_QuotesAndRelativePaths()
    {
        using TempDir t = new();
        string withHeader = t.File("lists/a.csv", "Path,Label\nimg/1.jpg,normal\n\"img/two, with comma.jpg\",\"anomaly\"\n# comment\n\nimg/3.jpg,anomaly,masks/3.png\n");
        ImageDataset ds = ImageDataset.FromCsv(withHeader);
        Assert.Equal(3, ds.Count);
        Assert.Equal(Path.Combine(t.Path, "lists", "img", "1.jpg"), ds[0].ImagePath);
        Assert.Equal(Path.Combine(t.Path, "lists", "img", "two, with comma.jpg"), ds[1].ImagePath);
        Assert.Equal("anomaly", ds[1].Label);
        Assert.Equal(Path.Combine(t.Path, "lists", "masks", "3.png"), ds[2].MaskPath);

        string noHeader = t.File("b.csv", "x.jpg,normal\r\ny.jpg,anomaly\r\n");
        Assert.Equal(2, ImageDataset.FromCsv(noHeader).Count);
    }

    [Theory]
    [InlineData("a.jpg,normal\nb.jpg\n", 2, null)]
    [InlineData("a.jpg,\n", 1, "label")]
    [InlineData(",normal\n", 1, "path")]
    [InlineData("\"a.jpg,normal\n", 1, "column 1")]
    [InlineData("a.jpg,normal,m.png,extra\n", 1, null)]
    [InlineData("a.jpg,normal\n\0,a\n", 2, "path")] // found by tools/Fuzz: ArgumentException from Path.GetFullPath
    [InlineData("a.jpg,normal,m\0.png\n", 1, "mask")]
    public void FromCsv_BadLines_NameTheLine(string content, int line, string? field)
    {
        using TempDir t = new();
        string csv = t.File("bad.csv", content);
        DatasetAssert.ThrowsAt(() => ImageDataset.FromCsv(csv), csv, line, field);
    }

    [SharedFact]
    public void FromSplitsFile_ReadsMagneticTileSplits()
    {
        string splits = SharedData.PathOf("datasets", "magnetic-tile", "splits.json");
        ImageDataset train = ImageDataset.FromSplitsFile(splits, "classification", "train");
        ImageDataset test = ImageDataset.FromSplitsFile(splits, "classification", "test");
        Assert.Equal(938, train.Count);
        Assert.Equal(406, test.Count);
        Assert.Equal(6, train.Labels.Count);
        Assert.Contains("free", train.Labels);
        Assert.True(train.Validate(readHeaders: false).IsValid);

        ImageDataset normal = ImageDataset.FromSplitsFile(splits, "anomaly_detection", "train_normal");
        Assert.Equal(666, normal.Count);
        Assert.Equal(["normal"], normal.Labels);
        ImageDataset anomalies = ImageDataset.FromSplitsFile(splits, "anomaly_detection", "test_anomaly");
        Assert.Equal(392, anomalies.Count);
        Assert.All(anomalies, i => Assert.True(File.Exists(i.MaskPath)));
        Assert.Empty(train.Select(i => i.ImagePath).Intersect(test.Select(i => i.ImagePath)));

        DatasetException ex = Assert.Throws<DatasetException>(() => ImageDataset.FromSplitsFile(splits, "classification", "validation"));
        Assert.Contains("train", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromSplitsFile_BadEntry_NamesTheField()
    {
        using TempDir t = new();
        string file = t.File("splits.json", """{"task": {"list": ["a.jpg", {"label": "x"}]}}""");
        DatasetException ex = Assert.Throws<DatasetException>(() => ImageDataset.FromSplitsFile(file, "task", "list"));
        Assert.Equal("task.list[1].image", ex.Field);
        Assert.Throws<DatasetException>(() => ImageDataset.FromSplitsFile(file, "other", "list"));
    }
}
