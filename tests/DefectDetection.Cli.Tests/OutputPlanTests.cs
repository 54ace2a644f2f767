using DefectDetection.Cli;

namespace DefectDetection.Cli.Tests;

public sealed class OutputPlanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Touch(string relative, string content = "user data")
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void ClaimEach_GivesInputsWithTheSameNameNumberedNamesInInputOrder()
    {
        string a = Touch("a/x.jpg"), b = Touch("b/x.jpg"), c = Touch("c/x.png"), y = Touch("y.jpg");
        string outDir = Path.Combine(_dir, "out");
        IReadOnlyList<string[]> files = new OutputPlan([a, b, c, y], overwrite: false).ClaimEach([a, b, c, y], outDir, "--overlay", ".overlay.png", ".mask.png");

        string[] names = [.. files.Select(f => Path.GetFileName(f[0]) + " " + Path.GetFileName(f[1]))];
        Assert.Equal(["x.overlay.png x.mask.png", "x-2.overlay.png x-2.mask.png", "x-3.overlay.png x-3.mask.png", "y.overlay.png y.mask.png"], names);
        Assert.All(files.SelectMany(f => f), f => Assert.Equal(outDir, Path.GetDirectoryName(f)));
    }

    [Fact]
    public void ClaimEach_RefusesAnExistingFileOfTheGroupWithoutOverwrite()
    {
        string a = Touch("a/x.jpg");
        string mask = Touch("out/x.mask.png");
        ArgumentException e = Assert.Throws<ArgumentException>(() => new OutputPlan([a], false).ClaimEach([a], Path.Combine(_dir, "out"), "--overlay", ".overlay.png", ".mask.png"));
        Assert.Contains("--overlay", e.Message, StringComparison.Ordinal);
        Assert.Contains(mask, e.Message, StringComparison.Ordinal);
        Assert.Equal(2, new OutputPlan([a], true).ClaimEach([a], Path.Combine(_dir, "out"), "--overlay", ".overlay.png", ".mask.png")[0].Length);
    }

    [Fact]
    public void Claim_ComparesResolvedPaths_CaseSensitivelyOnLinux()
    {
        string input = Touch("in/Photo.png");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "alias"), Path.Combine(_dir, "in"));
        OutputPlan plan = new([input], overwrite: true);
        ArgumentException e = Assert.Throws<ArgumentException>(() => plan.Claim(Path.Combine(_dir, "alias", "Photo.png"), "OUT"));
        Assert.Contains("input", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => plan.Claim(Path.Combine(_dir, "in", ".", "..", "in", "Photo.png"), "OUT"));
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(Path.Combine(_dir, "in", "photo.png"), plan.Claim(Path.Combine(_dir, "in", "photo.png"), "OUT"));
        }
    }

    [Fact]
    public void Write_LeavesNoFileAndNoTemporaryFileWhenTheWriterFails()
    {
        string existing = Touch("keep.bin", "old");
        OutputPlan plan = new([], overwrite: true);
        string target = plan.Claim(existing, "--output");
        string fresh = plan.Claim(Path.Combine(_dir, "new", "fresh.bin"), "--output");
        void Fail(Stream s)
        {
            s.Write(new byte[100]);
            throw new IOException("disk full");
        }

        Assert.Throws<IOException>(() => plan.Write(target, Fail));
        Assert.Throws<IOException>(() => plan.Write(fresh, Fail));
        Assert.Equal("old", File.ReadAllText(existing));
        Assert.False(File.Exists(fresh));
        Assert.Equal([existing], Directory.GetFiles(_dir, "*", SearchOption.AllDirectories));

        plan.Write(target, s => s.Write("new"u8));
        Assert.Equal("new", File.ReadAllText(existing));
        Assert.Throws<InvalidOperationException>(() => plan.Write(Path.Combine(_dir, "unclaimed.bin"), s => s.WriteByte(1)));
    }
}
