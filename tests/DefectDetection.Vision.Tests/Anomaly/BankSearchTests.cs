using System.Runtime.Intrinsics;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using Xunit;

namespace DefectDetection.Vision.Tests.Anomaly;

public class BankSearchTests
{
    public static TheoryData<int> Widths()
    {
        var data = new TheoryData<int> { 0 };
        if (Vector128.IsHardwareAccelerated)
        {
            data.Add(128);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            data.Add(256);
        }

        if (Vector512.IsHardwareAccelerated)
        {
            data.Add(512);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void NearestDistances_MatchTheRowScan_ForOddShapes(int bits)
    {
        var rng = new Random(bits + 7);
        foreach ((int dim, int rows, int queries) in new[] { (1, 1, 1), (3, 15, 9), (37, 300, 50), (130, 17, 8), (128, 33, 17), (5, 16, 7), (2, 257, 3) })
        {
            float[] bank = Random(rng, rows * dim);
            float[] q = Random(rng, queries * dim);
            var search = new BankSearch(bank, dim, bits);
            Assert.Equal(bits, search.VectorBits);
            float[] dist = new float[queries + 1];
            dist[queries] = -1;
            search.NearestDistances(q, queries, dist, 2, default);
            for (int i = 0; i < queries; i++)
            {
                double best = double.PositiveInfinity;
                for (int r = 0; r < rows; r++)
                {
                    best = Math.Min(best, DistanceKernels.SquaredL2Reference(q.AsSpan(i * dim, dim), bank.AsSpan(r * dim, dim)));
                }

                Assert.True(Math.Abs(Math.Sqrt(best) - dist[i]) <= 1e-5 * Math.Max(1, Math.Sqrt(best)), $"dim {dim}, rows {rows}, query {i}: {dist[i]} vs {Math.Sqrt(best)}");
            }

            Assert.Equal(-1, dist[queries]);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void NearestRows_FindTheSameRowAsTheScan_AndAnExactCopyAtDistanceZero(int bits)
    {
        var rng = new Random(11);
        const int dim = 130, rows = 1000;
        float[] bank = Random(rng, rows * dim);
        var search = new BankSearch(bank, dim, bits);

        // Queries 0-3 are bank rows (including the last, in a part-filled panel), 4-7 are random.
        int[] copies = [0, 17, 998, 999];
        float[] block = Random(rng, BankSearch.Block * dim);
        for (int j = 0; j < copies.Length; j++)
        {
            bank.AsSpan(copies[j] * dim, dim).CopyTo(block.AsSpan(j * dim));
        }

        int[] best = new int[BankSearch.Block];
        search.NearestRows(block, best);
        for (int j = 0; j < BankSearch.Block; j++)
        {
            DistanceKernels.Nearest(block.AsSpan(j * dim, dim), bank, dim, out int expected);
            Assert.Equal(expected, best[j]);
        }

        float[] dist = new float[copies.Length];
        search.NearestDistances(block, copies.Length, dist, 1, default);
        Assert.All(dist, d => Assert.Equal(0f, d));
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void GroupedSearch_ReadsOnlyTheChosenGroups(int bits)
    {
        // Groups of 0, 1, 15, 16, 17 and 40 rows (panel boundaries inside and between groups), dim 37.
        var rng = new Random(bits + 3);
        const int dim = 37, queries = 11;
        int[] sizes = [5, 0, 17, 1, 16, 40, 15, 3];
        int[] starts = new int[sizes.Length + 1];
        for (int g = 0; g < sizes.Length; g++)
        {
            starts[g + 1] = starts[g] + sizes[g];
        }

        int rows = starts[^1];
        float[] bank = Random(rng, rows * dim);
        float[] q = Random(rng, (queries + 2) * dim);

        // Every group not chosen below holds an exact copy of each query (distance 0): a search that read it would find 0.
        int[][] selections = [[2], [0, 2, 3], [4, 5], [5, 6, 7], [1, 3], [0, 2, 3, 4, 5, 6, 7]];
        var search = new BankSearch(bank, dim, bits, starts);
        Assert.Equal(sizes.Length, search.Groups);
        foreach (int[] chosen in selections)
        {
            float[] trapped = (float[])bank.Clone();
            for (int g = 0; g < sizes.Length; g++)
            {
                if (!chosen.Contains(g))
                {
                    for (int r = starts[g], j = 0; r < starts[g + 1]; r++, j++)
                    {
                        q.AsSpan((2 + (j % queries)) * dim, dim).CopyTo(trapped.AsSpan(r * dim, dim));
                    }
                }
            }

            var trappedSearch = new BankSearch(trapped, dim, bits, starts);
            float[] dist = Enumerable.Repeat(-1f, queries + 4).ToArray();
            trappedSearch.NearestDistances(q, 2, queries, dist, 2, chosen, default);
            Assert.Equal(-1f, dist[0]);
            Assert.Equal(-1f, dist[1]);
            Assert.Equal(-1f, dist[queries + 2]);
            for (int i = 2; i < queries + 2; i++)
            {
                double best = double.PositiveInfinity;
                foreach (int g in chosen)
                {
                    for (int r = starts[g]; r < starts[g + 1]; r++)
                    {
                        best = Math.Min(best, DistanceKernels.SquaredL2Reference(q.AsSpan(i * dim, dim), trapped.AsSpan(r * dim, dim)));
                    }
                }

                Assert.True(Math.Abs(Math.Sqrt(best) - dist[i]) <= 1e-5 * Math.Max(1, Math.Sqrt(best)), $"groups {string.Join(",", chosen)}, query {i}: {dist[i]} vs {Math.Sqrt(best)}");
                Assert.True(dist[i] > 0.1f || chosen.Length == 0);
            }
        }

        // No selection reads every group: the same distances as an ungrouped search.
        float[] all = new float[queries + 2], plain = new float[queries + 2];
        search.NearestDistances(q, 0, queries + 2, all, 1, default, default);
        new BankSearch(bank, dim, bits).NearestDistances(q, queries + 2, plain, 1, default);
        Assert.Equal(plain, all);
    }

    [Fact]
    public void GroupedSearch_RejectsBadGroups()
    {
        float[] bank = new float[10 * 4];
        Assert.Throws<ArgumentException>(() => new BankSearch(bank, 4, -1, [1, 10]));
        Assert.Throws<ArgumentException>(() => new BankSearch(bank, 4, -1, [0, 6, 9]));
        Assert.Throws<ArgumentException>(() => new BankSearch(bank, 4, -1, [0, 6, 5, 10]));
        Assert.Throws<ArgumentException>(() => new BankSearch(bank, 4, -1, [0]));
        var search = new BankSearch(bank, 4, -1, [0, 4, 4, 10]);
        float[] q = new float[8], d = new float[2];
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => search.NearestDistances(q, 0, 2, d, 1, [1], default)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => search.NearestDistances(q, 0, 2, d, 1, [2, 0], default));
        Assert.Throws<ArgumentException>(() => search.NearestDistances(q, 0, 2, d, 1, [3], default));
        Assert.Throws<ArgumentException>(() => search.NearestDistances(q, 1, 2, d, 1, [0], default));
    }

    [Fact]
    public void Constructor_RejectsAnEmptyOrRaggedBank()
    {
        Assert.Throws<ArgumentException>(() => new BankSearch([], 4));
        Assert.Throws<ArgumentException>(() => new BankSearch(new float[7], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BankSearch(new float[8], 0));
    }

    [Fact]
    public void NearestDistances_RejectsQueriesThatDoNotFit()
    {
        var search = new BankSearch(new float[8], 4);
        Assert.Throws<ArgumentException>(() => search.NearestDistances(new float[7], 2, new float[2], 1, default));
        Assert.Throws<ArgumentException>(() => search.NearestDistances(new float[8], 2, new float[1], 1, default));
    }

    [Fact]
    public void NearestDistances_StopsWhenCancelled()
    {
        var search = new BankSearch(new float[64], 4);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => search.NearestDistances(new float[400], 100, new float[100], 2, cts.Token));
    }

    private static float[] Random(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
}
