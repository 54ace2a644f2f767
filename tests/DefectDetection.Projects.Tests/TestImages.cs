using DefectDetection.Imaging;

namespace DefectDetection.Projects.Tests;

/// <summary>Small generated image sets for the project tests: textures, the anomalies with a painted square.</summary>
internal static class TestImages
{
    /// <summary>A smooth random texture (<see cref="SyntheticImages.Texture"/>); <paramref name="defect"/> paints a square a third of its side on it.</summary>
    public static Image Texture(int seed, int size, bool defect)
    {
        int s = size / 3, x0 = seed * 7 % (size - s), y0 = seed * 13 % (size - s);
        return SyntheticImages.Texture(seed, size, defect ? image => SyntheticImages.Paint(image, x0, y0, s) : null);
    }

    /// <summary>Writes <c>normal/</c> and <c>anomaly/</c> label folders under <paramref name="folder"/>; returns it.</summary>
    public static string LabelFolders(string folder, int normals, int anomalies, int seed = 0, int size = 64)
    {
        Write(Path.Combine(folder, "normal"), "n", normals, seed, size, defect: false);
        Write(Path.Combine(folder, "anomaly"), "a", anomalies, seed + 10_000, size, defect: true);
        return folder;
    }

    /// <summary>Writes <paramref name="count"/> PNG images into <paramref name="folder"/>; returns their paths.</summary>
    public static List<string> Write(string folder, string prefix, int count, int seed, int size, bool defect)
    {
        Directory.CreateDirectory(folder);
        List<string> files = [];
        for (int i = 0; i < count; i++)
        {
            using Image image = Texture(seed + i, size, defect);
            string file = Path.Combine(folder, $"{prefix}-{i + 1}.png");
            ImageCodecs.Save(image.View(), file);
            files.Add(file);
        }

        return files;
    }

    /// <summary>SHA-256 and write time of every file under a folder: proof that nothing was changed or moved.</summary>
    public static Dictionary<string, (string Hash, DateTime Written)> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(
            f => f,
            f => (Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))), File.GetLastWriteTimeUtc(f)));
}
