using System.Text.Json;
using DefectDetection.Cli;
using DefectDetection.Imaging;
using DefectDetection.Testing;

namespace DefectDetection.Cli.Tests;

public sealed class ImageCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string WritePng(int width, int height, PixelFormat format)
    {
        using Image image = Image.Create(width, height, format);
        Span<byte> px = image.Pixels;
        for (int i = 0; i < px.Length; i++)
        {
            px[i] = (byte)(i * 7);
        }

        string path = Path.Combine(_dir, $"img-{width}x{height}-{format}.png");
        ImageCodecs.Save(image, path);
        return path;
    }

    [Fact]
    public void InfoPrintsJsonWithTheHeaderFields()
    {
        string path = WritePng(37, 21, PixelFormat.Rgb24);
        var (code, output, _) = Run("image", "info", path, "--json");
        Assert.Equal(0, code);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal("png", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal(37, doc.RootElement.GetProperty("width").GetInt32());
        Assert.Equal(21, doc.RootElement.GetProperty("height").GetInt32());
        Assert.Equal(3, doc.RootElement.GetProperty("channels").GetInt32());
    }

    [Fact]
    public void ConvertWritesPpmAndPgmThatDecodeToTheSamePixels()
    {
        string png = WritePng(9, 5, PixelFormat.Rgb24);
        string ppm = Path.Combine(_dir, "out.ppm");
        Assert.Equal(0, Run("image", "convert", png, ppm).Code);
        using Image a = ImageCodecs.Load(png);
        using Image b = ImageCodecs.Load(ppm);
        Assert.Equal(a.Pixels.ToArray(), b.Pixels.ToArray());

        string grayPng = WritePng(4, 3, PixelFormat.Gray8);
        string pgm = Path.Combine(_dir, "out.pgm");
        Assert.Equal(0, Run("image", "convert", grayPng, pgm).Code);
        using Image c = ImageCodecs.Load(pgm);
        Assert.Equal(PixelFormat.Gray8, c.PixelFormat);
    }

    [Fact]
    public void BadInputGivesExitCodeTwoAndAClearMessage()
    {
        string missing = Path.Combine(_dir, "missing.jpg");
        var (code, _, err) = Run("image", "info", missing);
        Assert.Equal(2, code);
        Assert.Contains("not found", err, StringComparison.OrdinalIgnoreCase);

        string garbage = Path.Combine(_dir, "garbage.png");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        (code, _, err) = Run("image", "info", garbage);
        Assert.Equal(2, code);
        Assert.Contains("garbage.png", err);

        string png = WritePng(3, 3, PixelFormat.Gray8);
        (code, _, err) = Run("image", "convert", png, Path.Combine(_dir, "out.xyz"));
        Assert.Equal(2, code);
        Assert.Contains(".xyz", err);
    }

    [Fact]
    public void ConvertRefusesToOverwriteItsInput()
    {
        string png = WritePng(3, 3, PixelFormat.Gray8);
        byte[] before = File.ReadAllBytes(png);
        var (code, _, err) = Run("image", "convert", png, png);
        Assert.Equal(2, code);
        Assert.Contains("overwrite", err);
        Assert.Equal(before, File.ReadAllBytes(png));
    }

    [SharedFact]
    public void InfoReadsTheCookieJpegHeaderWithOrientation()
    {
        string path = SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "training-images", "normal-1.jpg");
        var (code, output, _) = Run("image", "info", path, "--json");
        Assert.Equal(0, code);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal("jpeg", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal(576, doc.RootElement.GetProperty("width").GetInt32());
        Assert.Equal(768, doc.RootElement.GetProperty("height").GetInt32());
        Assert.Equal(1, doc.RootElement.GetProperty("orientation").GetInt32());
    }
}
