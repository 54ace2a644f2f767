using DefectDetection.Vision.Backbones;
using DefectDetection.Imaging;
using DefectDetection.Testing;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary>PatchCore learning flipped copies of its normal images.</summary>
public sealed class PatchCoreScoringTests
{
    private static string Backbone => SharedData.MobileNetV2Qdq;

    [SharedFact]
    public void FlipAugmentationLearnsTheMirroredImages()
    {
        using Image normal = Texture(7);
        using Image mirrored = DefectDetection.Imaging.Processing.Orientation.FlipHorizontal(normal.View());
        var plain = new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 1, BorderPatches = 0 };
        using PatchCoreModel withoutFlips = new PatchCoreTrainer(plain).Fit([normal.View()]);
        using PatchCoreModel withFlips = new PatchCoreTrainer(new PatchCoreOptions
        {
            Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 1, BorderPatches = 0, AugmentFlips = true,
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
