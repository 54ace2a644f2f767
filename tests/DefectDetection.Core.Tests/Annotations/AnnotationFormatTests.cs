using DefectDetection.Datasets;
using DefectDetection.Annotations;
using DefectDetection.Imaging;

namespace DefectDetection.Core.Tests.Annotations;

public sealed class AnnotationFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-ann-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly ImageAnnotation Board = new("board-001.png", 3200, 2400,
    [
        new LabeledBox(new Rectangle(10, 20, 30, 40), "missing_hole"),
        new LabeledBox(new Rectangle(0, 0, 1, 1), "spur"),
    ]);

    [Fact]
    public void VocUsesOneBasedInclusiveCoordinatesAndRoundTrips()
    {
        string path = Path.Combine(_dir, "a.xml");
        PascalVoc.Write(Board, path);
        string xml = File.ReadAllText(path);
        Assert.Contains("<xmin>11</xmin>", xml);
        Assert.Contains("<xmax>40</xmax>", xml);
        ImageAnnotation back = PascalVoc.Read(path);
        Assert.Equal(Board.FileName, back.FileName);
        Assert.Equal((3200, 2400), (back.Width, back.Height));
        Assert.Equal(Board.Boxes, back.Boxes);
    }

    [Fact]
    public void CocoRoundTripsSeveralImagesAndCategories()
    {
        string path = Path.Combine(_dir, "coco.json");
        ImageAnnotation second = new("b.png", 10, 10, [new LabeledBox(new Rectangle(1, 2, 3, 4), "spurious_copper")]);
        CocoJson.Write([Board, second], path);
        IReadOnlyList<ImageAnnotation> back = CocoJson.Read(path);
        Assert.Equal(2, back.Count);
        Assert.Equal(Board.Boxes, back[0].Boxes);
        Assert.Equal(second.Boxes, back[1].Boxes);
    }

    [Fact]
    public void MalformedFilesNameTheProblem()
    {
        string voc = Path.Combine(_dir, "bad.xml");
        File.WriteAllText(voc, "<annotation><object><name>x</name><bndbox><xmin>a</xmin></bndbox></object></annotation>");
        var ex = Assert.Throws<AnnotationFormatException>(() => PascalVoc.Read(voc));
        Assert.Contains("xmin", ex.Message);

        File.WriteAllText(voc, "<annotation><object>");
        Assert.Throws<AnnotationFormatException>(() => PascalVoc.Read(voc));

        string coco = Path.Combine(_dir, "bad.json");
        File.WriteAllText(coco, """{"images":[{"id":1,"file_name":"a.png","width":5,"height":5}],"categories":[{"id":1,"name":"x"}],"annotations":[{"image_id":2,"category_id":1,"bbox":[0,0,1,1]}]}""");
        var ex2 = Assert.Throws<AnnotationFormatException>(() => CocoJson.Read(coco));
        Assert.Contains("image_id", ex2.Message);
    }
}
