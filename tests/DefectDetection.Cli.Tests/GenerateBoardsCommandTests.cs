using DefectDetection.Annotations;
using DefectDetection.Cli;
using DefectDetection.Imaging;

namespace DefectDetection.Cli.Tests;

public sealed class GenerateBoardsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-boards-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int Run(params string[] args)
    {
        using StringWriter o = new(), e = new();
        return Program.Run(args, o, e);
    }

    [Fact]
    public void WritesImagesWithVocAndCocoLabelsThatAgree()
    {
        Assert.Equal(0, Run("generate-boards", "--count", "2", "--out", _dir, "--seed", "3", "--width", "640", "--height", "480", "--defective", "1"));
        string[] pngs = Directory.GetFiles(_dir, "*.png");
        Assert.Equal(2, pngs.Length);
        IReadOnlyList<ImageAnnotation> coco = CocoJson.Read(Path.Combine(_dir, "annotations.coco.json"));
        Assert.Equal(2, coco.Count);
        foreach (ImageAnnotation image in coco)
        {
            ImageAnnotation voc = PascalVoc.Read(Path.Combine(_dir, Path.ChangeExtension(image.FileName, ".xml")));
            Assert.Equal(image.Boxes, voc.Boxes);
            Assert.NotEmpty(image.Boxes);
            ImageInfo info = ImageCodecs.Identify(Path.Combine(_dir, image.FileName));
            Assert.Equal((640, 480), (info.Width, info.Height));
        }
    }

    [Fact]
    public void NeverOverwritesExistingImagesAndRejectsBadCounts()
    {
        Assert.Equal(0, Run("generate-boards", "--count", "1", "--out", _dir, "--width", "400", "--height", "300"));
        string png = Directory.GetFiles(_dir, "*.png").Single();
        byte[] before = File.ReadAllBytes(png);
        Assert.NotEqual(0, Run("generate-boards", "--count", "1", "--out", _dir, "--width", "400", "--height", "300"));
        Assert.Equal(before, File.ReadAllBytes(png));
        Assert.Equal(2, Run("generate-boards", "--count", "0", "--out", _dir));
    }
}
