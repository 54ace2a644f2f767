using BenchmarkDotNet.Attributes;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>
/// The memory-bank nearest-neighbour search alone: the 784 patches of one 224x224 image (28x28 grid, 130 features:
/// the default taps plus the two position features) against banks of the sizes the magnetic-tile runs build (4,437
/// rows: 566 normals at a 1% coreset; 13,054: 666 normals at 2.5%), on 2 threads. <c>RowScan</c> is the search the
/// model used before <see cref="BankSearch"/>: each query scans the row-major bank with the SIMD squared distance.
/// Random features in [-2, 2]; the search does the same work whatever the values.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class BankSearchBenchmarks
{
    private const int Dim = 130, Queries = 784, Threads = 2;
    private float[] _bank = null!;
    private float[] _queries = null!;
    private float[] _distances = null!;
    private BankSearch _search = null!;

    [Params(4437, 13054)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _bank = Enumerable.Range(0, Rows * Dim).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
        _queries = Enumerable.Range(0, Queries * Dim).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
        _distances = new float[Queries];
        _search = new BankSearch(_bank, Dim);
    }

    [Benchmark(Baseline = true, Description = "row scan, 784 queries, 2 threads")]
    public float RowScan()
    {
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, c =>
        {
            for (int q = Queries * c / Threads; q < Queries * (c + 1) / Threads; q++)
            {
                _distances[q] = MathF.Sqrt(DistanceKernels.Nearest(_queries.AsSpan(q * Dim, Dim), _bank, Dim, out _));
            }
        });
        return _distances[Queries - 1];
    }

    [Benchmark(Description = "packed panels, 784 queries, 2 threads")]
    public float Packed()
    {
        _search.NearestDistances(_queries, Queries, _distances, Threads, default);
        return _distances[Queries - 1];
    }
}
