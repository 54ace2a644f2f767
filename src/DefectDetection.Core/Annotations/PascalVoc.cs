using DefectDetection.Datasets;
using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using DefectDetection.Imaging;

namespace DefectDetection.Annotations;

/// <summary>
/// Reads and writes Pascal VOC XML annotations (one file per image; <c>bndbox</c> with 1-based inclusive
/// <c>xmin/ymin/xmax/ymax</c>, converted to and from 0-based boxes with exclusive right/bottom edges).
/// </summary>
public static class PascalVoc
{
    /// <summary>Writes one image's annotation as VOC XML.</summary>
    public static void Write(ImageAnnotation annotation, Stream output)
    {
        ArgumentNullException.ThrowIfNull(annotation);
        XElement root = new("annotation",
            new XElement("filename", annotation.FileName),
            new XElement("size",
                new XElement("width", annotation.Width),
                new XElement("height", annotation.Height),
                new XElement("depth", 3)),
            annotation.Boxes.Select(b => new XElement("object",
                new XElement("name", b.Label),
                new XElement("difficult", 0),
                new XElement("bndbox",
                    new XElement("xmin", b.Box.X + 1),
                    new XElement("ymin", b.Box.Y + 1),
                    new XElement("xmax", b.Box.Right),
                    new XElement("ymax", b.Box.Bottom)))));
        new XDocument(root).Save(output);
    }

    /// <summary>Writes one image's annotation to a file.</summary>
    public static void Write(ImageAnnotation annotation, string path)
    {
        using FileStream stream = File.Create(path);
        Write(annotation, stream);
    }

    /// <summary>Reads a VOC XML file.</summary>
    /// <exception cref="AnnotationFormatException">The file is not valid VOC XML; the message names the field.</exception>
    public static ImageAnnotation Read(string path)
    {
        XDocument doc;
        try
        {
            doc = XDocument.Load(path);
        }
        catch (XmlException ex)
        {
            throw new AnnotationFormatException(path, $"not well-formed XML at line {ex.LineNumber}: {ex.Message}", ex);
        }

        XElement root = doc.Root is { Name.LocalName: "annotation" } r ? r : throw new AnnotationFormatException(path, "root element is not <annotation>");
        string file = root.Element("filename")?.Value ?? System.IO.Path.ChangeExtension(System.IO.Path.GetFileName(path), ".jpg");
        XElement? size = root.Element("size");
        int width = size is null ? 0 : ReadInt(path, size, "width");
        int height = size is null ? 0 : ReadInt(path, size, "height");
        List<LabeledBox> boxes = [];
        int index = 0;
        foreach (XElement obj in root.Elements("object"))
        {
            string label = obj.Element("name")?.Value.Trim() is { Length: > 0 } n ? n : throw new AnnotationFormatException(path, $"object {index} has no <name>");
            XElement box = obj.Element("bndbox") ?? throw new AnnotationFormatException(path, $"object {index} ('{label}') has no <bndbox>");
            double xmin = ReadDouble(path, box, "xmin"), ymin = ReadDouble(path, box, "ymin");
            double xmax = ReadDouble(path, box, "xmax"), ymax = ReadDouble(path, box, "ymax");
            if (xmax < xmin || ymax < ymin)
            {
                throw new AnnotationFormatException(path, $"object {index} ('{label}') has xmax < xmin or ymax < ymin");
            }

            int x0 = (int)Math.Round(xmin) - 1, y0 = (int)Math.Round(ymin) - 1;
            boxes.Add(new LabeledBox(Rectangle.FromEdges(x0, y0, (int)Math.Round(xmax), (int)Math.Round(ymax)), label));
            index++;
        }

        return new ImageAnnotation(file, width, height, boxes);
    }

    private static int ReadInt(string path, XElement parent, string name) => (int)Math.Round(ReadDouble(path, parent, name));

    private static double ReadDouble(string path, XElement parent, string name)
    {
        string? text = parent.Element(name)?.Value;
        if (text is null)
        {
            throw new AnnotationFormatException(path, $"<{parent.Name.LocalName}> has no <{name}>");
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : throw new AnnotationFormatException(path, $"<{parent.Name.LocalName}>/<{name}> is not a number: '{text}'");
    }
}
