using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Tests;

namespace DefectDetection.Core.Tests.Datasets;

/// <summary>Hostile dataset folders and manifests: link loops, paths that leave the dataset, S3 keys with no local file.</summary>
public sealed class DatasetPathSafetyTests
{
    private static string Png(TempDir t, string relative, byte shade = 90)
    {
        string path = Path.Combine(t.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using Image image = Image.Create(4, 3, PixelFormat.Gray8);
        image.Pixels.Fill(shade);
        ImageCodecs.Save(image, path);
        return path;
    }

    private static string Manifest(TempDir t, string relative, params string[] sourceRefs) =>
        t.File(relative, string.Join('\n', sourceRefs.Select(r => $$"""{"source-ref": "{{r}}", "anomaly-label": 0}""")) + "\n");

    [Fact]
    public void FromFolder_LinkLoopsAddNoImages()
    {
        using TempDir t = new();
        string root = t.Dir("data");
        for (int i = 1; i <= 3; i++)
        {
            Png(t, $"data/normal/n{i}.png");
            Png(t, $"data/anomaly/sub/a{i}.png");
        }

        Directory.CreateSymbolicLink(Path.Combine(root, "normal", "loop"), Path.Combine(root, "normal"));     // itself
        Directory.CreateSymbolicLink(Path.Combine(root, "normal", "up"), root);                                // the dataset
        Directory.CreateSymbolicLink(Path.Combine(root, "anomaly", "sub", "back"), Path.Combine(root, "anomaly")); // an ancestor
        File.CreateSymbolicLink(Path.Combine(root, "normal", "again.png"), Path.Combine(root, "anomaly", "sub", "a1.png"));

        ImageDataset ds = ImageDataset.FromFolder(root);

        Assert.Equal(6, ds.Count);
        Assert.Equal(3, ds.CountByLabel()["normal"]);
        Assert.Equal(3, ds.CountByLabel()["anomaly"]);
        Assert.Equal(6, ds.Select(i => Path.GetFileName(i.ImagePath)).Distinct().Count());
    }

    [Theory]
    [InlineData("../../outside/secret.png")]
    [InlineData("{outside}")]
    [InlineData("escape/secret.png")]
    public void FromManifest_RefusesPathsThatLeaveTheDataset(string reference)
    {
        using TempDir t = new();
        string secret = Png(t, "outside/secret.png");
        Directory.CreateSymbolicLink(Path.Combine(t.Dir("data/set"), "escape"), Path.GetDirectoryName(secret)!);
        reference = reference.Replace("{outside}", secret, StringComparison.Ordinal);
        string manifest = Manifest(t, "data/set/m.manifest", "ok.png", reference);
        Png(t, "data/set/ok.png");

        DatasetException e = DatasetAssert.ThrowsAt(() => ImageDataset.FromManifest(manifest), manifest, 2, "source-ref");
        Assert.Contains(reference, e.Message, StringComparison.Ordinal);
        Assert.Contains("outside", e.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://b/../../outside/secret.png")]
    [InlineData("s3://b/k/%2E%2E/%2E%2E/outside/secret.png")]
    [InlineData("../outside/secret.png")]
    public void FromManifest_KeepsPathsInsideTheImageFolder(string reference)
    {
        using TempDir t = new();
        Png(t, "outside/secret.png");
        string images = t.Dir("images");
        string manifest = Manifest(t, "m.manifest", reference);
        DatasetException e = DatasetAssert.ThrowsAt(() => ImageDataset.FromManifest(manifest, new ManifestOptions { ImageRoot = images }), manifest, 1, "source-ref");
        Assert.Contains(reference, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromManifest_S3WithoutAnImageFolder_SaysToGiveOne()
    {
        using TempDir t = new();
        string manifest = Manifest(t, "m.manifest", "s3://bucket/k/x.png");
        DatasetException e = DatasetAssert.ThrowsAt(() => ImageDataset.FromManifest(manifest), manifest, 1, "source-ref");
        Assert.Contains("ImageRoot", e.Message, StringComparison.Ordinal);
        Assert.Contains("--images", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromManifest_S3KeyNotFound_IsLookedForOnlyBelowTheImageFolder()
    {
        using TempDir t = new();
        string images = t.Dir("images");
        Png(t, "images/deep/er/found.png");
        Png(t, "elsewhere/lost.png"); // beside the image folder: must not be taken
        Directory.CreateSymbolicLink(Path.Combine(images, "deep", "loop"), images);
        string manifest = Manifest(t, "m.manifest", "s3://b/k/found.png", "s3://b/k/lost.png");

        ImageDataset ds = ImageDataset.FromManifest(manifest, new ManifestOptions { ImageRoot = images });

        Assert.Equal(Path.Combine(images, "deep", "er", "found.png"), ds[0].ImagePath);
        Assert.Equal(Path.Combine(images, "lost.png"), ds[1].ImagePath);
        DatasetProblem missing = Assert.Single(ds.Validate().Problems);
        Assert.Equal(DatasetProblemKind.MissingFile, missing.Kind);
        Assert.Contains("m.manifest:2", missing.Message, StringComparison.Ordinal);
    }
}
