using DefectDetection.Datasets;
using System.Text.Json;
using System.Text.Json.Nodes;
using DefectDetection.Imaging;

namespace DefectDetection.Annotations;

/// <summary>
/// Reads and writes COCO object-detection JSON (<c>images</c>, <c>annotations</c> with <c>bbox</c> = [x, y, width,
/// height], <c>categories</c>).
/// </summary>
public static class CocoJson
{
    /// <summary>Writes a COCO JSON file for several images.</summary>
    public static void Write(IReadOnlyList<ImageAnnotation> images, string path)
    {
        ArgumentNullException.ThrowIfNull(images);
        using FileStream stream = File.Create(path);
        Write(images, stream);
    }

    /// <summary>Writes COCO JSON for several images to a stream (UTF-8, indented).</summary>
    public static void Write(IReadOnlyList<ImageAnnotation> images, Stream output)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(output);
        List<string> categories = images.SelectMany(i => i.Boxes).Select(b => b.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        JsonArray imageArray = [], annotationArray = [], categoryArray = [];
        for (int c = 0; c < categories.Count; c++)
        {
            categoryArray.Add((JsonNode)new JsonObject { ["id"] = c + 1, ["name"] = categories[c] });
        }

        int annotationId = 1;
        for (int i = 0; i < images.Count; i++)
        {
            ImageAnnotation image = images[i];
            imageArray.Add((JsonNode)new JsonObject { ["id"] = i + 1, ["file_name"] = image.FileName, ["width"] = image.Width, ["height"] = image.Height });
            foreach (LabeledBox box in image.Boxes)
            {
                annotationArray.Add((JsonNode)new JsonObject
                {
                    ["id"] = annotationId++,
                    ["image_id"] = i + 1,
                    ["category_id"] = categories.IndexOf(box.Label) + 1,
                    ["bbox"] = new JsonArray(box.Box.X, box.Box.Y, box.Box.Width, box.Box.Height),
                    ["area"] = box.Box.Area,
                    ["iscrowd"] = 0,
                });
            }
        }

        JsonObject root = new() { ["images"] = imageArray, ["annotations"] = annotationArray, ["categories"] = categoryArray };
        using Utf8JsonWriter writer = new(output, new JsonWriterOptions { Indented = true });
        root.WriteTo(writer);
    }

    /// <summary>Reads a COCO JSON file.</summary>
    /// <exception cref="AnnotationFormatException">The file is malformed; the message names the field.</exception>
    public static IReadOnlyList<ImageAnnotation> Read(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new AnnotationFormatException(path, $"not valid JSON: {ex.Message}", ex);
        }

        if (root is not JsonObject obj)
        {
            throw new AnnotationFormatException(path, "the top level is not a JSON object");
        }

        Dictionary<long, string> categories = [];
        foreach (JsonNode? c in Array(path, obj, "categories"))
        {
            categories[Long(path, c, "categories[].id")] = Str(path, c, "name", "categories[].name");
        }

        Dictionary<long, (string File, int W, int H, List<LabeledBox> Boxes)> images = [];
        List<long> order = [];
        foreach (JsonNode? im in Array(path, obj, "images"))
        {
            long id = Long(path, im, "images[].id");
            images[id] = (Str(path, im, "file_name", "images[].file_name"), (int)Long(path, im?["width"], "images[].width"), (int)Long(path, im?["height"], "images[].height"), []);
            order.Add(id);
        }

        int index = 0;
        foreach (JsonNode? a in Array(path, obj, "annotations"))
        {
            long imageId = Long(path, a?["image_id"], $"annotations[{index}].image_id");
            long categoryId = Long(path, a?["category_id"], $"annotations[{index}].category_id");
            if (!images.TryGetValue(imageId, out var image))
            {
                throw new AnnotationFormatException(path, $"annotations[{index}].image_id {imageId} names no image");
            }

            if (!categories.TryGetValue(categoryId, out string? label))
            {
                throw new AnnotationFormatException(path, $"annotations[{index}].category_id {categoryId} names no category");
            }

            if (a?["bbox"] is not JsonArray { Count: 4 } bbox)
            {
                throw new AnnotationFormatException(path, $"annotations[{index}].bbox is not an array of 4 numbers");
            }

            double x = Num(path, bbox[0], index), y = Num(path, bbox[1], index), w = Num(path, bbox[2], index), h = Num(path, bbox[3], index);
            image.Boxes.Add(new LabeledBox(new Rectangle((int)Math.Round(x), (int)Math.Round(y), (int)Math.Round(w), (int)Math.Round(h)), label));
            index++;
        }

        return order.Select(id => new ImageAnnotation(images[id].File, images[id].W, images[id].H, images[id].Boxes)).ToList();
    }

    private static JsonArray Array(string path, JsonObject obj, string name) =>
        obj[name] as JsonArray ?? throw new AnnotationFormatException(path, $"'{name}' is missing or not an array");

    private static long Long(string path, JsonNode? node, string field)
    {
        JsonNode? value = node is JsonObject o && field.EndsWith(".id", StringComparison.Ordinal) ? o["id"] : node;
        return value is JsonValue v && v.TryGetValue(out double d) ? (long)d : throw new AnnotationFormatException(path, $"'{field}' is missing or not a number");
    }

    private static string Str(string path, JsonNode? node, string name, string field) =>
        node?[name] is JsonValue v && v.TryGetValue(out string? s) ? s : throw new AnnotationFormatException(path, $"'{field}' is missing or not a string");

    private static double Num(string path, JsonNode? node, int index) =>
        node is JsonValue v && v.TryGetValue(out double d) ? d : throw new AnnotationFormatException(path, $"annotations[{index}].bbox holds a value that is not a number");
}
