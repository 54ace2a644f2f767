using DefectDetection.Vision.Backbones;
using DefectDetection.Imaging;
using DefectDetection.ModelFiles;
using DefectDetection.Testing;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary><see cref="PatchCoreOptions.MaxLayerFeatures"/>: adaptive average pooling of each tapped layer's channels.</summary>
public sealed class LayerFeatureReductionTests
{
    private static string Backbone => SharedData.MobileNetV2Qdq;

    [SharedTheory]
    [InlineData(20)]
    [InlineData(32)]
    [InlineData(7)]
    public void EachLayerIsPooledToAtMostTheLimit_AsMeansOfAdjacentChannels(int limit)
    {
        // MobileNetV2's default taps have 32 and 96 channels; the reduced features must be the means, over PyTorch's
        // adaptive pooling bins [j*c/d, ceil((j+1)*c/d)), of the full features computed by the unreduced extractor.
        string[] layers = ["/features/features.6/Add_output_0_DequantizeLinear_Output", "/features/features.13/Add_output_0_DequantizeLinear_Output"];
        using PatchFeatureExtractor full = new(File.ReadAllBytes(Backbone), "backbone.onnx", layers, 96, 3, 1);
        using PatchFeatureExtractor reduced = new(File.ReadAllBytes(Backbone), "backbone.onnx", layers, 96, 3, 1, maxLayerFeatures: limit);
        int[] channels = [32, 96];
        int[] kept = channels.Select(c => Math.Min(c, limit)).ToArray();
        Assert.Equal(128, full.Dimension);
        Assert.Equal(kept.Sum(), reduced.Dimension);

        using Image image = Image.Create(96, 96, PixelFormat.Rgb24);
        new Random(limit).NextBytes(image.Pixels);
        int patches = full.Patches;
        float[] a = new float[patches * full.Dimension], b = new float[patches * reduced.Dimension];
        Array.Fill(b, float.NaN); // the destination is a pooled buffer in use: every feature must be written, not added to
        full.Extract([image.View()], a, CancellationToken.None);
        reduced.Extract([image.View()], b, CancellationToken.None);
        for (int p = 0; p < patches; p++)
        {
            int fullOffset = 0, reducedOffset = 0;
            for (int l = 0; l < 2; l++)
            {
                int c = channels[l], d = kept[l];
                for (int j = 0; j < d; j++)
                {
                    int start = (int)Math.Floor(j * (double)c / d), end = (int)Math.Ceiling((j + 1) * (double)c / d);
                    double mean = 0;
                    for (int ch = start; ch < end; ch++)
                    {
                        mean += a[(p * full.Dimension) + fullOffset + ch];
                    }

                    mean /= end - start;
                    Assert.Equal(mean, b[(p * reduced.Dimension) + reducedOffset + j], 1e-4);
                }

                fullOffset += c;
                reducedOffset += d;
            }
        }
    }

    [Fact]
    public void ANegativeLimitIsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile("x.onnx"), MaxLayerFeatures = -1 }));
        Assert.Equal("MaxLayerFeatures", e.ParamName);
    }

    [SharedFact]
    public void AReducedModelScoresTheSameAfterSaveLoad()
    {
        List<Image> normals = Enumerable.Range(0, 3).Select(Noise).ToList();
        using PatchCoreModel model = new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 0.5, InputSize = 96, MaxLayerFeatures = 16 })
            .Fit(normals.Select(x => x.View()).ToList());
        Assert.Equal(32, model.FeatureDimension);
        using Image test = Noise(9);
        double score = model.Predict(test.View()).Score;
        string path = Path.Combine(Path.GetTempPath(), $"patchcore-reduced-{Guid.NewGuid():N}.ddmodel");
        try
        {
            model.Save(path);
            Assert.Equal(16, ModelPackage.Load(path, new ModelLoadOptions { BackbonePath = Backbone }).Manifest.PatchCore!.MaxLayerFeatures);
            using PatchCoreModel loaded = (PatchCoreModel)DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 });
            Assert.Equal(32, loaded.FeatureDimension);
            Assert.Equal(score, loaded.Predict(test.View()).Score);
        }
        finally
        {
            File.Delete(path);
            normals.ForEach(x => x.Dispose());
        }
    }

    private static Image Noise(int seed)
    {
        Image image = Image.Create(96, 96, PixelFormat.Rgb24);
        new Random(seed).NextBytes(image.Pixels);
        return image;
    }
}
