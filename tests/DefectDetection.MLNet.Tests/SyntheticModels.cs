using DefectDetection.Imaging;
using DefectDetection.Vision.Variation;

namespace DefectDetection.MLNet.Tests;

/// <summary>A variation model of generated patterns and a few image files to judge (no shared data needed).</summary>
public sealed class SyntheticModels : IDisposable
{
    public SyntheticModels()
    {
        Folder = Directory.CreateTempSubdirectory("mlnet-synthetic-").FullName;
        List<Image> normals = [.. Enumerable.Range(0, 8).Select(i => SyntheticImages.Pattern(10 + i, (i % 3) - 1, (i % 2) * 2))];
        Variation = new VariationModelTrainer(new VariationModelOptions { MaxShift = 4 }).Fit([.. normals.Select(x => x.View())]);
        normals.ForEach(x => x.Dispose());
        for (int i = 0; i < 6; i++)
        {
            using Image image = SyntheticImages.Pattern(100 + i, 1, 0, i % 2 == 0 ? null : img => SyntheticImages.Square(img, 20 + (5 * i), 30, 6, 255));
            string path = Path.Combine(Folder, $"image-{i}.png");
            ImageCodecs.Save(image.View(), path);
            Images.Add(path);
        }
    }

    public string Folder { get; }

    public VariationModel Variation { get; }

    /// <summary>Six images; the odd ones carry a bright square.</summary>
    public List<string> Images { get; } = [];

    public void Dispose()
    {
        Variation.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
