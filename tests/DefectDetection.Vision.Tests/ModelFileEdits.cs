using System.IO.Compression;
using System.Text.Json.Nodes;

namespace DefectDetection.Vision.Tests;

/// <summary>Copies of model files with their manifest JSON edited, to test how the real reader treats them.</summary>
internal static class ModelFileEdits
{
    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> with <paramref name="edit"/> applied to its manifest.</summary>
    public static void EditManifest(string source, string destination, Action<JsonObject> edit)
    {
        File.Copy(source, destination, overwrite: true);
        using ZipArchive zip = ZipFile.Open(destination, ZipArchiveMode.Update);
        ZipArchiveEntry entry = zip.GetEntry("manifest.json") ?? throw new InvalidDataException($"{source} has no manifest.json");
        JsonObject root;
        using (Stream s = entry.Open())
        {
            root = JsonNode.Parse(s)!.AsObject();
        }

        edit(root);
        entry.Delete();
        using Stream w = zip.CreateEntry("manifest.json").Open();
        using var writer = new System.Text.Json.Utf8JsonWriter(w);
        root.WriteTo(writer);
    }

    /// <summary>The manifest of a model file as JSON.</summary>
    public static JsonObject Manifest(string path)
    {
        using ZipArchive zip = ZipFile.OpenRead(path);
        using Stream s = zip.GetEntry("manifest.json")!.Open();
        return JsonNode.Parse(s)!.AsObject();
    }
}
