using BenchmarkDotNet.Attributes;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>
/// Scoring one image's patches against a whole-bank model of the magnetic-tile size (666 training images x 784 patches
/// = 522,144 rows of 130 features, <see cref="PatchCoreOptions.CoresetRatio"/> 1), on 2 threads: the search of every
/// row against the search of the rows of the <see cref="PatchCoreOptions.NearestImages"/> training images whose mean
/// features are nearest (the retrieval included). Random features in [-2, 2]; the work does not depend on the values.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class NearestImagesBenchmarks
{
    private const int Dim = 130, Patches = 784, Images = 666, Threads = 2;
    private float[] _queries = null!;
    private float[] _distances = null!;
    private PatchBank _bank = null!;

    /// <summary>Training images searched; 0 = the whole bank.</summary>
    [Params(0, 50, 10)]
    public int NearestImages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        float[] features = new float[Images * Patches * Dim];
        for (int i = 0; i < features.Length; i++)
        {
            features[i] = (float)((rng.NextDouble() * 4) - 2);
        }

        int[] sources = Enumerable.Range(0, Images * Patches).Select(r => r / Patches).ToArray();
        float[] descriptors = NearestImages > 0 ? PatchBank.Describe(features, Images, Patches, Dim) : [];
        _bank = new PatchBank(features, sources, Dim, descriptors, NearestImages);
        _queries = Enumerable.Range(0, Patches * Dim).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
        _distances = new float[Patches];
    }

    [Benchmark(Description = "one image's 784 patches, 2 threads")]
    public float Score()
    {
        _bank.Distances(_queries, 0, 1, Patches, _distances, Threads, default);
        return _distances[Patches - 1];
    }
}
