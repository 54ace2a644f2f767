using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Tests;

namespace DefectDetection.Core.Tests.Datasets;

/// <summary>The MVTec AD and plain image-folder layouts, and orders that depend on the images, not on their listing.</summary>
public class DatasetLayoutAndOrderTests
{
    /// <summary>A small gray PNG whose pixels depend on <paramref name="seed"/>.</summary>
    private static string Png(TempDir t, string relative, int seed, int width = 12, int height = 10)
    {
        string path = Path.Combine(t.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using Image image = Image.Create(width, height, PixelFormat.Gray8);
        for (int y = 0; y < height; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = 0; x < width; x++)
            {
                row[x] = (byte)((seed * 37) + (x * 5) + (y * 11));
            }
        }

        ImageCodecs.Save(image, path);
        return path;
    }

    private static ImageDataset Shuffled(ImageDataset ds, int seed)
    {
        LabeledImage[] items = [.. ds];
        new Random(seed).Shuffle(items);
        return new ImageDataset(items, ds.Labels);
    }

    [Fact]
    public void Split_DoesNotDependOnTheOrderTheImagesAreListedIn()
    {
        ImageDataset ds = new(Enumerable.Range(0, 40).Select(i => new LabeledImage($"/data/{(i % 3 == 0 ? "anomaly" : "normal")}/{i}.jpg", i % 3 == 0 ? "anomaly" : "normal")));
        SplitOptions options = new() { TrainFraction = 0.6, ValidationFraction = 0.2, TestFraction = 0.2, Seed = 3 };
        DatasetSplit reference = ds.Split(options);
        for (int seed = 0; seed < 5; seed++)
        {
            DatasetSplit split = Shuffled(ds, seed).Split(options);
            Assert.Equal(reference.Test.Select(i => i.ImagePath).Order(), split.Test.Select(i => i.ImagePath).Order());
            Assert.Equal(reference.Validation.Select(i => i.ImagePath).Order(), split.Validation.Select(i => i.ImagePath).Order());
        }
    }

    [Fact]
    public void InContentOrder_DependsOnTheFilesContentNotOnTheirOrderOrNames()
    {
        using TempDir t = new();
        string[] files = [.. Enumerable.Range(0, 8).Select(i => Png(t, $"a/{i}.png", i))];
        ImageDataset ds = new(files.Select(f => new LabeledImage(f, "normal")));
        string[] reference = [.. ds.InContentOrder().Select(i => i.ImagePath)];
        Assert.Equal(files.Order(), reference.Order());
        for (int seed = 0; seed < 4; seed++)
        {
            Assert.Equal(reference, Shuffled(ds, seed).InContentOrder().Select(i => i.ImagePath));
        }

        // The same files under other names (in another order) come in the same order of content.
        string[] renamed = [.. files.Select((f, i) => Path.Combine(t.Dir("b"), $"{(char)('z' - i)}.png"))];
        for (int i = 0; i < files.Length; i++)
        {
            File.Copy(files[i], renamed[i]);
        }

        Dictionary<string, string> back = renamed.Select((r, i) => (r, files[i])).ToDictionary(p => p.r, p => p.Item2);
        Assert.Equal(reference, new ImageDataset(renamed.Select(f => new LabeledImage(f, "normal"))).InContentOrder().Select(i => back[i.ImagePath]));
    }

    [Fact]
    public void InContentOrder_IdenticalFilesFollowTheirPaths_AndAMissingFileIsNamed()
    {
        using TempDir t = new();
        string a = Png(t, "x/a.png", 1), b = Path.Combine(t.Path, "x", "b.png");
        File.Copy(a, b);
        ImageDataset ds = new([new LabeledImage(b, "normal"), new LabeledImage(a, "normal")]);
        Assert.Equal([a, b], ds.InContentOrder().Select(i => i.ImagePath));

        string missing = Path.Combine(t.Path, "x", "gone.png");
        FileNotFoundException e = Assert.Throws<FileNotFoundException>(() => new ImageDataset([new LabeledImage(missing, "normal") { Origin = "list.csv:4" }]).InContentOrder());
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("list.csv:4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromImageFolder_TakesEveryImageWhateverItsName()
    {
        using TempDir t = new();
        t.File("IMG_0001.JPG");
        t.File("part 7.png");
        t.File("nested/scan.bmp");
        t.File("notes.txt");
        t.File(".hidden.jpg");

        ImageDataset ds = ImageDataset.FromImageFolder(t.Path);
        Assert.Equal(["normal"], ds.Labels);
        Assert.Equal(3, ds.Count);
        Assert.All(ds, i => Assert.Equal("normal", i.Label));
        Assert.Single(ds.IgnoredFiles);

        Assert.Equal(2, ImageDataset.FromImageFolder(t.Path, "good", new FolderDatasetOptions { Recursive = false }).Count);

        using TempDir empty = new();
        empty.File("readme.txt");
        DatasetException none = Assert.Throws<DatasetException>(() => ImageDataset.FromImageFolder(empty.Path));
        Assert.Contains("no image files", none.Message, StringComparison.Ordinal);
        Assert.Equal(empty.Path, none.FilePath);
        DatasetException missing = Assert.Throws<DatasetException>(() => ImageDataset.FromImageFolder(Path.Combine(empty.Path, "nope")));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromMvtecFolder_ReadsGoodAndDefectFoldersWithTheirMasks()
    {
        using TempDir t = new();
        Png(t, "train/good/000.png", 1);
        Png(t, "train/good/001.png", 2);
        Png(t, "test/good/000.png", 3);
        Png(t, "test/crack/000.png", 4);
        Png(t, "test/crack/001.png", 5);
        Png(t, "test/hole/000.png", 6);
        string crackMask = Png(t, "ground_truth/crack/000_mask.png", 0);
        string plainMask = Png(t, "ground_truth/crack/001.png", 0);
        t.File("license.txt");

        DatasetSplit split = ImageDataset.FromMvtecFolder(t.Path);
        Assert.Equal(["crack", "good", "hole"], split.Train.Labels);
        Assert.Equal(split.Train.Labels, split.Test.Labels);
        Assert.Equal(2, split.Train.Count);
        Assert.All(split.Train, i => Assert.Equal("good", i.Label));
        Assert.Empty(split.Validation);
        Assert.Equal(4, split.Test.Count);
        Assert.Null(split.Test.Single(i => i.Label == "good").MaskPath);
        Assert.Equal(crackMask, split.Test.Single(i => i.ImagePath.EndsWith(Path.Combine("crack", "000.png"), StringComparison.Ordinal)).MaskPath);
        Assert.Equal(plainMask, split.Test.Single(i => i.ImagePath.EndsWith(Path.Combine("crack", "001.png"), StringComparison.Ordinal)).MaskPath);

        // The hole's mask is missing: reported naming the mask expected and the image's folder.
        DatasetValidationReport report = split.Test.Validate();
        DatasetProblem missing = Assert.Single(report.Problems, p => p.IsError);
        Assert.Equal(DatasetProblemKind.MissingFile, missing.Kind);
        Assert.Equal(Path.Combine(t.Path, "ground_truth", "hole", "000_mask.png"), missing.Path);
        Assert.Contains(Path.Combine(t.Path, "test", "hole"), missing.Message, StringComparison.Ordinal);

        // A mask of another size than its image, and an unreadable mask, are named.
        Png(t, "ground_truth/hole/000_mask.png", 0, width: 20);
        report = ImageDataset.FromMvtecFolder(t.Path).Test.Validate();
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.MaskSizeMismatch && p.Message.Contains("000_mask.png", StringComparison.Ordinal) && p.Message.Contains("20x10", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(t.Path, "ground_truth", "hole", "000_mask.png"), "not a png");
        report = ImageDataset.FromMvtecFolder(t.Path).Test.Validate();
        Assert.Contains(report.Problems, p => p.Kind == DatasetProblemKind.UnreadableImage && p.Path.EndsWith("000_mask.png", StringComparison.Ordinal));
    }

    [Fact]
    public void FromMvtecFolder_WithoutGroundTruthHasNoMasks_AndWithoutTrainOrTestThrows()
    {
        using TempDir t = new();
        Png(t, "train/good/000.png", 1);
        Png(t, "test/scratch/000.png", 2);
        Assert.All(ImageDataset.FromMvtecFolder(t.Path).Test, i => Assert.Null(i.MaskPath));

        using TempDir bare = new();
        Png(bare, "train/good/000.png", 1);
        DatasetException e = Assert.Throws<DatasetException>(() => ImageDataset.FromMvtecFolder(bare.Path));
        Assert.Contains("test/", e.Message, StringComparison.Ordinal);
    }
}
