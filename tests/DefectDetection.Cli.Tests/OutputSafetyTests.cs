using DefectDetection.Cli;
using DefectDetection.Imaging;
using DefectDetection.Testing;

namespace DefectDetection.Cli.Tests;

/// <summary>
/// Every command that writes follows <see cref="OutputPlan"/>: no existing file replaced without --overwrite, never an
/// input, no two outputs in one file. Each case checks exit code 2, a message naming the option and file, and that
/// the user's files are byte for byte what they were.
/// </summary>
public sealed class OutputSafetyTests : IDisposable
{
    private static readonly string Relu = Path.Combine(SharedData.RepoRoot, "tests", "DefectDetection.Onnx.Tests", "Fixtures", "conformance", "unary_relu");

    private readonly string _dir = Directory.CreateTempSubdirectory("defect-outputs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string Png(string relative, int width = 6, int height = 4)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using Image image = Image.Create(width, height, PixelFormat.Rgb24);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (byte)(i * 13);
        }

        ImageCodecs.Save(image, path);
        return path;
    }

    private string UserFile(string relative, string content)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    // The files below _dir and their bytes.
    private Dictionary<string, byte[]> Snapshot() =>
        Directory.GetFiles(_dir, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

    private void AssertUnchanged(Dictionary<string, byte[]> before)
    {
        Dictionary<string, byte[]> after = Snapshot();
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        foreach ((string file, byte[] bytes) in before)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(after[file]), $"{file} changed");
        }
    }

    private static void AssertRefused((int Code, string Out, string Err) result, params string[] mentions)
    {
        Assert.True(result.Code == 2, $"exit {result.Code}: {result.Err}{result.Out}");
        foreach (string m in mentions)
        {
            Assert.Contains(m, result.Err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void OnnxRun_NeverWritesOverTheModelOrAnInput_AndReplacesAnOutputOnlyWithOverwrite()
    {
        string model = Path.Combine(_dir, "model.onnx"), input = Path.Combine(_dir, "x.f32");
        File.Copy(Path.Combine(Relu, "model.onnx"), model);
        File.Copy(Path.Combine(Relu, "input.0.bin"), input);
        string output = Path.Combine(_dir, "y.f32");
        string outName = OnnxCommandOutputName();
        string[] run = ["onnx", "run", "--model", model, "--input", $"x={input}:2x3x5"];
        Dictionary<string, byte[]> before = Snapshot();

        AssertRefused(Run([.. run, "--output", $"{outName}={model}"]), "--output", model, "input");
        AssertRefused(Run([.. run, "--output", $"{outName}={model}", "--overwrite"]), "--output", model, "input");
        AssertRefused(Run([.. run, "--output", $"{outName}={input}", "--overwrite"]), "--output", input);
        AssertRefused(Run([.. run, "--output", $"{outName}={output}", "--output", $"{outName}={output}"]), "--output", output, "twice");
        AssertUnchanged(before);

        File.WriteAllText(output, "the user's notes");
        before = Snapshot();
        AssertRefused(Run([.. run, "--output", $"{outName}={output}"]), "--output", output, "--overwrite");
        AssertUnchanged(before);

        var replaced = Run([.. run, "--output", $"{outName}={output}", "--overwrite"]);
        Assert.True(replaced.Code == 0, replaced.Err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(Relu, "expected.0.bin")), File.ReadAllBytes(output));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    private static string OnnxCommandOutputName()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Relu, "expected.json")));
        return doc.RootElement.GetProperty("outputs")[0].GetProperty("name").GetString()!;
    }

    [Fact]
    public void ImageConvert_KeepsAnExistingOutUnlessOverwrite_AndNeverWritesOverItsInputThroughALink()
    {
        string source = Png("in.png");
        string existing = UserFile("out.pgm", "not an image, the user's file");
        Dictionary<string, byte[]> before = Snapshot();
        AssertRefused(Run("image", "convert", source, existing), "OUT", existing, "--overwrite");
        AssertUnchanged(before);

        string link = Path.Combine(_dir, "link.png");
        File.CreateSymbolicLink(link, source);
        before = Snapshot();
        AssertRefused(Run("image", "convert", source, link, "--overwrite"), "OUT", link, "input");
        AssertUnchanged(before);

        var replaced = Run("image", "convert", source, existing, "--overwrite");
        Assert.True(replaced.Code == 0, replaced.Err);
        using Image a = ImageCodecs.Load(source), b = ImageCodecs.Load(existing);
        Assert.Equal(a.Pixels.ToArray(), b.Pixels.ToArray());
    }

    [Fact]
    public void ImageCommands_ReportAFolderAsAFolder()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "photos")).FullName;
        AssertRefused(Run("image", "info", folder), folder, "is a folder");
        AssertRefused(Run("image", "convert", folder, Path.Combine(_dir, "x.png")), folder, "is a folder");
        string folderWithExtension = Directory.CreateDirectory(Path.Combine(_dir, "album.png")).FullName;
        AssertRefused(Run("image", "convert", Png("in.png"), folderWithExtension, "--overwrite"), "OUT", folderWithExtension, "is a folder");
    }

    [Fact]
    public void GenerateBoards_KeepsTheUsersLabelsUnlessOverwrite_AndWritesNothingWhenRefused()
    {
        string outDir = Path.Combine(_dir, "boards");
        UserFile("boards/board-1-0001.xml", "<annotation>the user's own labels</annotation>");
        UserFile("boards/annotations.coco.json", "{\"images\": []}");
        Dictionary<string, byte[]> before = Snapshot();
        AssertRefused(Run("generate-boards", "--count", "2", "--out", outDir, "--width", "256", "--height", "256"), "--out", Path.Combine(outDir, "board-1-0001.xml"), "--overwrite");
        AssertUnchanged(before); // board-1-0000.png was not written either: every name is claimed first

        string notAFolder = UserFile("notes.txt", "the user's notes");
        before = Snapshot();
        AssertRefused(Run("generate-boards", "--count", "1", "--out", notAFolder, "--width", "256", "--height", "256", "--overwrite"), "--out", notAFolder, "not a folder");
        AssertUnchanged(before);

        var replaced = Run("generate-boards", "--count", "2", "--out", outDir, "--width", "256", "--height", "256", "--overwrite");
        Assert.True(replaced.Code == 0, replaced.Err);
        Assert.Equal(2, Annotations.CocoJson.Read(Path.Combine(outDir, "annotations.coco.json")).Count);
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp"));
    }

    [Theory]
    [InlineData(256)]
    [InlineData(280)]
    [InlineData(300)]
    public void GenerateBoards_AtTheSmallestSizes_DrawsDefectiveBoards(int side)
    {
        string outDir = Path.Combine(_dir, "small");
        var result = Run("generate-boards", "--count", "2", "--out", outDir, "--width", side.ToString(System.Globalization.CultureInfo.InvariantCulture), "--height", "256", "--defective", "1");
        Assert.True(result.Code == 0, result.Err);
        foreach (Annotations.ImageAnnotation board in Annotations.CocoJson.Read(Path.Combine(outDir, "annotations.coco.json")))
        {
            Assert.NotEmpty(board.Boxes);
        }
    }

    [Theory]
    [InlineData("--defective", "NaN")]
    [InlineData("--defective", "Infinity")]
    [InlineData("--defective", "-Infinity")]
    [InlineData("--defective", "1.5")]
    [InlineData("--defective", "-0.1")]
    [InlineData("--width", "255")]
    [InlineData("--height", "0")]
    [InlineData("--count", "0")]
    [InlineData("--count", "2147483647")]
    public void GenerateBoards_RejectsOddValuesNamingTheOption(string option, string value)
    {
        string outDir = Path.Combine(_dir, "odd");
        string[] args = ["generate-boards", "--count", "1", "--out", outDir, "--width", "256", "--height", "256"];
        int at = Array.IndexOf(args, option);
        args = at >= 0 ? [.. args[..(at + 1)], value, .. args[(at + 2)..]] : [.. args, option, value];
        AssertRefused(Run(args), option, value);
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any());
    }

    [Fact]
    public void Train_RefusesManifestPathsOutsideTheDataset()
    {
        UserFile("secret/passwd.png", "not for the dataset");
        string manifest = UserFile("data/m/train.manifest",
            "{\"source-ref\": \"../../secret/passwd.png\", \"anomaly-label\": 0}\n");
        string s3 = UserFile("data/s3.manifest", "{\"source-ref\": \"s3://b/x.png\", \"anomaly-label\": 0}\n");
        Dictionary<string, byte[]> before = Snapshot();
        AssertRefused(Run("train", "--data", manifest, "--out", Path.Combine(_dir, "m.ddmodel")), manifest, "line 1", "../../secret/passwd.png", "outside");
        AssertRefused(Run("train", "--data", s3, "--out", Path.Combine(_dir, "m.ddmodel")), s3, "s3://b/x.png", "--images");
        AssertUnchanged(before);
    }

    [Fact]
    public void Train_NeverSavesTheModelOverItsBackboneOrDataFile()
    {
        string backbone = UserFile("backbone.onnx", "the user's backbone");
        string manifest = UserFile("m.manifest", "{\"source-ref\": \"a.png\", \"anomaly-label\": 0}\n");
        Dictionary<string, byte[]> before = Snapshot();
        AssertRefused(Run("train", "--data", manifest, "--backbone", backbone, "--out", backbone, "--overwrite"), "--out", backbone, "input");
        AssertRefused(Run("train", "--data", manifest, "--out", manifest, "--overwrite"), "--out", manifest, "input");
        AssertUnchanged(before);
    }

    [Fact]
    public void Train_NamesTheManifestLineOfAnS3ImageThatIsNotInTheImageFolder()
    {
        string images = Directory.CreateDirectory(Path.Combine(_dir, "images")).FullName;
        Png("images/a.png");
        string manifest = UserFile("m.manifest",
            "{\"source-ref\": \"s3://b/k/a.png\", \"anomaly-label\": 0}\n{\"source-ref\": \"s3://b/k/gone.png\", \"anomaly-label\": 0}\n");
        var result = Run("train", "--data", manifest, "--images", images, "--out", Path.Combine(_dir, "m.ddmodel"));
        AssertRefused(result, Path.Combine(images, "gone.png"), "m.manifest:2");
        Assert.False(File.Exists(Path.Combine(_dir, "m.ddmodel")));
    }
}
