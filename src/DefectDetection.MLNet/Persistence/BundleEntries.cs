using System.IO.Compression;
using System.Text.Json;

namespace DefectDetection.MLNet.Persistence;

/// <summary>Reading entries of a saved model, with errors that name the file and the entry.</summary>
internal static class BundleEntries
{
    public static Stream Open(ZipArchive archive, string entry, string file) =>
        (archive.GetEntry(entry) ?? throw new InvalidDataException($"'{file}' lacks the entry '{entry}'.")).Open();

    public static T ReadJson<T>(ZipArchive archive, string entry, string file)
    {
        using Stream s = Open(archive, entry, file);
        try
        {
            return JsonSerializer.Deserialize<T>(s) ?? throw new InvalidDataException($"'{file}': the entry '{entry}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{file}': the entry '{entry}' is malformed: {e.Message}", e);
        }
    }
}
