using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using Xunit;

namespace DefectDetection.Vision.Tests.Anomaly;

public class GreedyCoresetTests
{
    private static float[] Clustered(int count, int dim, int seed)
    {
        // Many points in a few dense clusters plus a handful of far outliers: a random subset misses the outliers.
        var rng = new Random(seed);
        float[] rows = new float[count * dim];
        for (int i = 0; i < count; i++)
        {
            bool outlier = i % 97 == 0;
            int cluster = i % 5;
            for (int d = 0; d < dim; d++)
            {
                float centre = outlier ? (float)(rng.NextDouble() * 40) - 20 : (d == cluster ? 5 : 0);
                rows[(i * dim) + d] = centre + (float)(rng.NextDouble() * 0.5);
            }
        }

        return rows;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    public void Coreset_CoversBetterThanRandomSubsets(int projection)
    {
        const int count = 1500, dim = 24, target = 60;
        float[] rows = Clustered(count, dim, 11);
        int[] chosen = GreedyCoreset.Select(rows, count, dim, target, projection, 1, 2, null, default);
        Assert.Equal(target, chosen.Distinct().Count());
        Assert.All(chosen, c => Assert.InRange(c, 0, count - 1));
        double coreset = GreedyCoreset.CoveringRadius(rows, count, dim, chosen);
        var rng = new Random(2);
        for (int trial = 0; trial < 3; trial++)
        {
            int[] random = Enumerable.Range(0, count).OrderBy(_ => rng.Next()).Take(target).ToArray();
            double r = GreedyCoreset.CoveringRadius(rows, count, dim, random);
            Assert.True(coreset < r, $"coreset radius {coreset} vs random {r}");
        }
    }

    [Fact]
    public void Coreset_ExactGreedy_IsWithinTwiceTheBestRadius()
    {
        // Greedy k-centre is a 2-approximation: its radius is at most twice any k-subset's, in particular any random one,
        // and on well separated clusters (k = clusters) it picks one point per cluster.
        const int dim = 2;
        float[] rows = [0, 0, 0.1f, 0, 0, 0.1f, 10, 10, 10.1f, 10, 10, 10.1f, -10, 5, -10.1f, 5];
        int[] chosen = GreedyCoreset.Select(rows, 8, dim, 3, 0, 4, 1, null, default);
        int[] clusters = chosen.Select(i => i < 3 ? 0 : i < 6 ? 1 : 2).Distinct().ToArray();
        Assert.Equal(3, clusters.Length);
        Assert.True(GreedyCoreset.CoveringRadius(rows, 8, dim, chosen) < 0.2);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Coreset_SkippingRowsAndStoppingSumsEarly_PicksTheFullScansRows(int threads)
    {
        // The plain greedy loop (every row's full distance to every new centre, summed in the same order) is the
        // reference for the one that skips rows and stops summing early; 40 features make two bound checks a row.
        const int count = 3000, dim = 40, target = 300, seed = 5;
        float[] rows = Clustered(count, dim, 3);
        int[] chosen = GreedyCoreset.Select(rows, count, dim, target, 0, seed, threads, null, default);

        float[] minDist = Enumerable.Repeat(float.PositiveInfinity, count).ToArray();
        int current = new Random(seed).Next(count);
        for (int s = 0; s < target; s++)
        {
            Assert.True(chosen[s] == current, $"step {s}: {chosen[s]} vs {current}");
            float best = -1;
            int next = 0;
            for (int i = 0; i < count; i++)
            {
                minDist[i] = Math.Min(minDist[i], DistanceKernels.SquaredL2Bounded(rows.AsSpan(i * dim, dim), rows.AsSpan(current * dim, dim), float.PositiveInfinity));
                if (minDist[i] > best)
                {
                    best = minDist[i];
                    next = i;
                }
            }

            current = next;
        }
    }

    [Fact]
    public void Coreset_AllOrNone()
    {
        float[] rows = Clustered(10, 3, 1);
        Assert.Equal(Enumerable.Range(0, 10), GreedyCoreset.Select(rows, 10, 3, 10, 0, 1, 1, null, default));
        Assert.Empty(GreedyCoreset.Select(rows, 10, 3, 0, 0, 1, 1, null, default));
    }
}
