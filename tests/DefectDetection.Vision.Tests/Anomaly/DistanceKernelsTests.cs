using DefectDetection.Vision.Anomaly;
using Xunit;

namespace DefectDetection.Vision.Tests.Anomaly;

public class DistanceKernelsTests
{
    [Fact]
    public void SquaredL2_MatchesScalarReference_ForAllLengthsUpTo257()
    {
        var rng = new Random(3);
        for (int n = 0; n <= 257; n++)
        {
            float[] a = new float[n + 3], b = new float[n + 3];
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = (float)((rng.NextDouble() * 4) - 2);
                b[i] = (float)((rng.NextDouble() * 4) - 2);
            }

            // Odd offsets exercise unaligned loads.
            int off = n % 3;
            double expected = DistanceKernels.SquaredL2Reference(a.AsSpan(off, n), b.AsSpan(off, n));
            float actual = DistanceKernels.SquaredL2(a.AsSpan(off, n), b.AsSpan(off, n));
            Assert.True(Math.Abs(actual - expected) <= 1e-5 * Math.Max(1, expected), $"n={n}: {actual} vs {expected}");
        }
    }

    [Fact]
    public void SquaredL2_RejectsDifferentLengths()
    {
        Assert.Throws<ArgumentException>(() => DistanceKernels.SquaredL2(new float[3], new float[4]));
    }

    [Fact]
    public void NearestDistances_MatchBruteForce_WithAndWithoutExclusion()
    {
        var rng = new Random(5);
        const int dim = 37, rows = 300, queries = 50;
        float[] bank = Enumerable.Range(0, rows * dim).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] q = Enumerable.Range(0, queries * dim).Select(_ => (float)rng.NextDouble()).ToArray();
        int[] sources = Enumerable.Range(0, rows).Select(r => r % 7).ToArray();
        foreach (int exclude in new[] { -1, 3 })
        {
            float[] dist = new float[queries];
            DistanceKernels.NearestDistances(q, queries, bank, dim, sources, exclude, dist, 2, default);
            for (int i = 0; i < queries; i++)
            {
                double best = double.PositiveInfinity;
                for (int r = 0; r < rows; r++)
                {
                    if (sources[r] != exclude)
                    {
                        best = Math.Min(best, DistanceKernels.SquaredL2Reference(q.AsSpan(i * dim, dim), bank.AsSpan(r * dim, dim)));
                    }
                }

                Assert.Equal(Math.Sqrt(best), dist[i], 4);
            }
        }
    }
}
