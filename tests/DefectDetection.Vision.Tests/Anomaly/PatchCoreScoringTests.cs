using DefectDetection.Imaging;
using DefectDetection.Testing;
using DefectDetection.Vision.Anomaly;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary>PatchCore's score reweighting and per-image standardisation.</summary>
public sealed class PatchCoreScoringTests
{
    private static string Backbone => SharedData.MobileNetV2Qdq;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    [InlineData(60, 4)]
    public void ReweightFactorMatchesTheFormula(int neighbours, int seed)
    {
        const int dim = 9, rows = 40;
        var rng = new Random(seed);
        float[] bank = new float[rows * dim];
        float[] query = new float[dim];
        for (int i = 0; i < bank.Length; i++)
        {
            bank[i] = (float)(rng.NextDouble() * 2);
        }

        for (int i = 0; i < dim; i++)
        {
            query[i] = (float)(rng.NextDouble() * 2.5);
        }

        double Dist(ReadOnlySpan<float> x, int row)
        {
            double s = 0;
            for (int i = 0; i < dim; i++)
            {
                s += Math.Pow(x[i] - (double)bank[(row * dim) + i], 2);
            }

            return Math.Sqrt(s);
        }

        int star = Enumerable.Range(0, rows).MinBy(r => Dist(query, r));
        int[] near = Enumerable.Range(0, rows).OrderBy(r => Dist(bank.AsSpan(star * dim, dim), r)).Take(neighbours).ToArray();
        double expected = 1 - (Math.Exp(Dist(query, star)) / near.Sum(r => Math.Exp(Dist(query, r))));
        Assert.Equal(expected, PatchCoreModel.ReweightFactor(query, bank, dim, neighbours), 5);
        Assert.InRange(PatchCoreModel.ReweightFactor(query, bank, dim, neighbours), 0, 1);
    }

    [SharedFact]
    public void StandardisedModelsIgnoreBrightnessAndContrastAndSurviveSaveLoad()
    {
        List<Image> normals = Enumerable.Range(0, 5).Select(Texture).ToList();
        var options = new PatchCoreOptions { BackbonePath = Backbone, Threads = 2, CoresetRatio = 0.25, StandardizeImages = true, ReweightNeighbours = 3 };
        using PatchCoreModel model = new PatchCoreTrainer(options).Fit(normals.Select(x => x.View()).ToList());
        using Image test = Texture(40);
        using Image dimmed = test.Clone();
        for (int y = 0; y < dimmed.Height; y++)
        {
            Span<byte> row = dimmed.GetRow(y);
            for (int x = 0; x < row.Length; x++)
            {
                row[x] = (byte)((row[x] / 2) + 30); // gain 0.5, offset 30: the same picture after standardisation
            }
        }

        double[] scores = model.Score([test.View(), dimmed.View()]);
        Assert.Equal(scores[0], scores[1], 0.05 * scores[0]);

        string path = Path.Combine(Path.GetTempPath(), $"patchcore-std-{Guid.NewGuid():N}.ddmodel");
        try
        {
            model.Save(path);
            using PatchCoreModel loaded = (PatchCoreModel)DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 });
            Assert.Equal(scores[0], loaded.Score([test.View()])[0], 6);
        }
        finally
        {
            File.Delete(path);
            normals.ForEach(x => x.Dispose());
        }
    }

    [SharedFact]
    public void FlipAugmentationLearnsTheMirroredImages()
    {
        using Image normal = Texture(7);
        using Image mirrored = DefectDetection.Imaging.Processing.Orientation.FlipHorizontal(normal.View());
        var plain = new PatchCoreOptions { BackbonePath = Backbone, Threads = 2, CoresetRatio = 1, BorderPatches = 0 };
        using PatchCoreModel withoutFlips = new PatchCoreTrainer(plain).Fit([normal.View()]);
        using PatchCoreModel withFlips = new PatchCoreTrainer(new PatchCoreOptions
        {
            BackbonePath = Backbone, Threads = 2, CoresetRatio = 1, BorderPatches = 0, AugmentFlips = true,
        }).Fit([normal.View()]);
        int patches = withoutFlips.Grid.Width * withoutFlips.Grid.Height;
        Assert.Equal(patches, withoutFlips.BankSize);
        Assert.Equal(4 * patches, withFlips.BankSize);
        Assert.All(withFlips.Sources, s => Assert.Equal(0, s));

        // The mirrored image's own features are in the bank: every patch finds itself.
        Assert.Equal(0, withFlips.Score([mirrored.View()])[0], 3);
        Assert.True(withoutFlips.Score([mirrored.View()])[0] > 0.1);
    }

    private static Image Texture(int seed)
    {
        const int size = 128;
        var rng = new Random(seed);
        Image image = Image.Create(size, size, PixelFormat.Gray8);
        double px = rng.NextDouble() * 6, py = rng.NextDouble() * 6;
        for (int y = 0; y < size; y++)
        {
            Span<byte> row = image.GetRow(y);
            for (int x = 0; x < size; x++)
            {
                row[x] = (byte)(120 + (50 * Math.Sin((x / 5.0) + px) * Math.Cos((y / 7.0) + py)) + (rng.NextDouble() * 8));
            }
        }

        return image;
    }
}
