using DefectDetection.Vision.Backbones;
using DefectDetection.Imaging;
using DefectDetection.ModelFiles;
using DefectDetection.Testing;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using Xunit;

namespace DefectDetection.Vision.Tests.Anomaly;

/// <summary><see cref="PatchCoreOptions.NearestImages"/>: the image retrieval ahead of the patch search, and its model files.</summary>
public sealed class NearestImagesTests
{
    private static string Backbone => SharedData.MobileNetV2Qdq;

    [Fact]
    public void EachImageIsComparedWithTheRowsOfItsNearestTrainingImagesOnly()
    {
        // 9 training images of 6 patches x 5 features; the rows come in no particular order (as with flipped copies),
        // and image 4 kept no row (as a coreset may do).
        var rng = new Random(5);
        const int dim = 5, patches = 6, images = 9, k = 3;
        float[] trainFeatures = Random(rng, images * patches * dim, 3);
        float[] descriptors = PatchBank.Describe(trainFeatures, images, patches, dim);
        for (int f = 0; f < dim; f++)
        {
            Assert.Equal(Enumerable.Range(0, patches).Average(p => trainFeatures[(((2 * patches) + p) * dim) + f]), descriptors[(2 * dim) + f], 5);
        }

        int[] rowOrder = Enumerable.Range(0, images * patches).Where(r => r / patches != 4).OrderBy(_ => rng.Next()).ToArray();
        float[] bank = rowOrder.SelectMany(r => trainFeatures.AsSpan(r * dim, dim).ToArray()).ToArray();
        int[] sources = rowOrder.Select(r => r / patches).ToArray();
        var patchBank = new PatchBank(bank, sources, dim, descriptors, k);
        Assert.True(patchBank.Sources.Zip(patchBank.Sources.Skip(1)).All(x => x.First <= x.Second), "rows grouped by image");
        Assert.Equal(
            rowOrder.Select(r => (r / patches, string.Join(",", trainFeatures.AsSpan(r * dim, dim).ToArray()))).Order(),
            Enumerable.Range(0, sources.Length).Select(r => (patchBank.Sources[r], string.Join(",", patchBank.Bank.AsSpan(r * dim, dim).ToArray()))).Order());

        // Queries: near copies of training images 4 (no rows: must be skipped), 7 and 0.
        int[] like = [4, 7, 0];
        float[] queries = like.SelectMany(i => trainFeatures.AsSpan(i * patches * dim, patches * dim).ToArray().Select(v => v + (float)((rng.NextDouble() - 0.5) * 0.2))).ToArray();
        float[] dist = new float[like.Length * patches];
        patchBank.Distances(queries, 0, like.Length, patches, dist, 2, default);
        float[] whole = new float[like.Length * patches];
        new PatchBank(bank, sources, dim, [], 0).Distances(queries, 0, like.Length, patches, whole, 2, default);
        for (int i = 0; i < like.Length; i++)
        {
            // By hand: the k images with rows whose mean feature is nearest to the query's, then the nearest of their rows.
            float[] mean = Enumerable.Range(0, dim).Select(f => (float)Enumerable.Range(0, patches).Average(p => queries[(((i * patches) + p) * dim) + f])).ToArray();
            int[] chosen = Enumerable.Range(0, images).Where(g => g != 4)
                .OrderBy(g => Enumerable.Range(0, dim).Sum(f => Math.Pow(mean[f] - descriptors[(g * dim) + f], 2))).Take(k).ToArray();
            Assert.DoesNotContain(4, chosen);
            if (like[i] != 4)
            {
                Assert.Contains(like[i], chosen);
            }

            for (int p = 0; p < patches; p++)
            {
                ReadOnlySpan<float> q = queries.AsSpan(((i * patches) + p) * dim, dim);
                double best = double.PositiveInfinity, all = double.PositiveInfinity;
                for (int r = 0; r < rowOrder.Length; r++)
                {
                    double d = DistanceKernels.SquaredL2Reference(q, trainFeatures.AsSpan(rowOrder[r] * dim, dim));
                    all = Math.Min(all, d);
                    if (chosen.Contains(rowOrder[r] / patches))
                    {
                        best = Math.Min(best, d);
                    }
                }

                Assert.Equal(Math.Sqrt(best), dist[(i * patches) + p], 4);
                Assert.Equal(Math.Sqrt(all), whole[(i * patches) + p], 4);
            }
        }

        // At least as many images as were trained: the whole bank, to the bit.
        float[] many = new float[dist.Length];
        new PatchBank(bank, sources, dim, descriptors, images).Distances(queries, 0, like.Length, patches, many, 2, default);
        Assert.Equal(whole, many);
    }

    [Fact]
    public void BadInputIsRefused()
    {
        float[] bank = new float[4 * 2];
        Assert.Throws<ArgumentException>(() => new PatchBank(bank, [0, 0, 1, 1], 2, [], 1));
        Assert.Throws<ArgumentException>(() => new PatchBank(bank, [0, 0, 1, 2], 2, new float[4], 1));
        Assert.Throws<ArgumentException>(() => new PatchBank(bank, [0, 0, 1], 2, new float[4], 1));
        var patchBank = new PatchBank(bank, [0, 0, 1, 1], 2, [0, 0, 1, 1, 2, 2], 1);
        float[] nan = [float.NaN, 0, 0, 0];
        Assert.Contains("not finite", Assert.Throws<ArgumentException>(() => patchBank.Distances(nan, 0, 1, 2, new float[2], 1, default)).Message, StringComparison.Ordinal);
        Assert.Equal("NearestImages", Assert.Throws<ArgumentOutOfRangeException>(() => new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.FromFile("x.onnx"), NearestImages = -1 })).ParamName);
    }

    [SharedFact]
    public void ASubsetOfTheBankNeverScoresLower_AllImagesIsTheWholeBank_AndTheFileKeepsIt()
    {
        // Two kinds of normal part (fine and coarse streaks); each test image is compared with one training image only.
        List<Image> normals = [.. Enumerable.Range(0, 4).Select(i => Streaks(i, 3)), .. Enumerable.Range(0, 4).Select(i => Streaks(10 + i, 9))];
        List<Image> tests = [Streaks(50, 3), Streaks(51, 9), Streaks(52, 6)];
        ImageView[] views = tests.Select(x => x.View()).ToArray();
        PatchCoreOptions Options(int nearest) => new() { Backbone = BackboneSpec.FromFile(Backbone), Threads = 2, CoresetRatio = 1, AugmentFlips = true, NearestImages = nearest };
        using PatchCoreModel whole = new PatchCoreTrainer(Options(0)).Fit(normals.Select(x => x.View()).ToList());
        using PatchCoreModel one = new PatchCoreTrainer(Options(1)).Fit(normals.Select(x => x.View()).ToList());
        using PatchCoreModel all = new PatchCoreTrainer(Options(normals.Count)).Fit(normals.Select(x => x.View()).ToList());
        Assert.Equal(1, one.NearestImages);
        Assert.Equal(whole.Sources.Order(), one.Sources.Order());

        double[] s0 = whole.Score(views), s1 = one.Score(views), sAll = all.Score(views);
        Assert.Equal(s0, sAll);
        Assert.Equal(whole.Threshold, all.Threshold);
        for (int i = 0; i < views.Length; i++)
        {
            Assert.True(s1[i] >= s0[i] - 1e-5, $"image {i}: {s1[i]} with one training image, {s0[i]} with all");
        }

        Assert.True(s1[2] > s0[2] + 0.01, $"the in-between part: {s1[2]} with one training image, {s0[2]} with all");

        string path = Path.Combine(Path.GetTempPath(), $"patchcore-nearest-{Guid.NewGuid():N}.ddmodel");
        string badPath = Path.ChangeExtension(path, ".bad.ddmodel");
        try
        {
            one.Save(path);
            ModelPackage package = ModelPackage.Load(path, new ModelLoadOptions { BackbonePath = Backbone });
            Assert.Equal(1, package.Manifest.PatchCore!.NearestImages);
            using (PatchCoreModel loaded = (PatchCoreModel)DefectModel.Load(path, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 }))
            {
                Assert.Equal(1, loaded.NearestImages);
                Assert.Equal(s1, loaded.Score(views));
            }

            var tensors = new Dictionary<string, ModelTensor>(package.Tensors);
            tensors.Remove("image_descriptors");
            new ModelPackage(package.Manifest, tensors).Save(badPath);
            ModelFileException e = Assert.Throws<ModelFileException>(() => (PatchCoreModel)DefectModel.Load(badPath, new DefectModelLoadOptions { BackbonePath = Backbone, Threads = 2 }));
            Assert.Contains("tensors/image_descriptors", e.Message, StringComparison.Ordinal);

            whole.Save(badPath, new DefectModelSaveOptions { Overwrite = true });
            Assert.False(ModelFileEdits.Manifest(badPath)["patchcore"]!.AsObject().ContainsKey("nearest_images")); // off: not written
        }
        finally
        {
            File.Delete(path);
            File.Delete(badPath);
            normals.ForEach(x => x.Dispose());
            tests.ForEach(x => x.Dispose());
        }
    }

    private static Image Streaks(int seed, int width) => StreakTexture.Create(seed, 160, 160, _ => new StreakStyle(100, 60, width));

    private static float[] Random(Random rng, int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 2 * scale)).ToArray();
}
