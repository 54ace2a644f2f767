using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
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
    public void SquaredL2Bounded_IsTheFullDistanceBelowTheBound_AndAtLeastTheBoundOtherwise()
    {
        var rng = new Random(4);
        for (int n = 0; n <= 257; n++)
        {
            float[] a = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
            float[] b = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
            double full = DistanceKernels.SquaredL2Reference(a, b);
            foreach (double bound in new[] { double.PositiveInfinity, full * 2, full * 0.5, full * 0.05 })
            {
                float r = DistanceKernels.SquaredL2Bounded(a, b, (float)bound);
                if (bound > full)
                {
                    Assert.True(Math.Abs(r - full) <= 1e-5 * Math.Max(1, full), $"n={n}, bound {bound}: {r} vs {full}");
                }
                else
                {
                    Assert.True(r >= bound && r <= full * (1 + 1e-5), $"n={n}, bound {bound}: {r} (full {full})");
                }
            }
        }

        // A small bound stops after the first chunk: only the first 32 floats are summed.
        float[] x = new float[100], y = new float[100];
        x.AsSpan(0, DistanceKernels.BoundChunk).Fill(1);
        x.AsSpan(DistanceKernels.BoundChunk).Fill(10);
        Assert.Equal(DistanceKernels.BoundChunk, DistanceKernels.SquaredL2Bounded(x, y, 1));
        Assert.Throws<ArgumentException>(() => DistanceKernels.SquaredL2Bounded(new float[3], new float[4], 1));
    }

    [Fact]
    public void SquaredL2_RejectsDifferentLengths()
    {
        Assert.Throws<ArgumentException>(() => DistanceKernels.SquaredL2(new float[3], new float[4]));
    }

    [Fact]
    public void Nearest_ReturnsTheFirstRowOfSmallestDistance()
    {
        float[] bank = [5, 5, 1, 2, 0, 0, 1, 2];
        Assert.Equal(1f, DistanceKernels.Nearest([1, 1], bank, 2, out int index));
        Assert.Equal(1, index);
    }

    [Fact]
    public void InsertSmallest_KeepsTheSmallestInStableAscendingOrder_AndSkipsNaN()
    {
        var rng = new Random(4);
        float[] values = Enumerable.Range(0, 200).Select(_ => (float)rng.Next(0, 40)).ToArray();
        values[7] = float.NaN;
        values[50] = float.NaN;
        foreach (int k in new[] { 1, 5, 17 })
        {
            float[] d = Enumerable.Repeat(float.PositiveInfinity, k).ToArray();
            int[] idx = Enumerable.Repeat(-1, k).ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                DistanceKernels.InsertSmallest(d, idx, values[i], i);
            }

            int[] expected = Enumerable.Range(0, values.Length).Where(i => !float.IsNaN(values[i])).OrderBy(i => values[i]).ThenBy(i => i).Take(k).ToArray();
            Assert.Equal(expected, idx);
            Assert.Equal(expected.Select(i => values[i]), d);
        }

        // Fewer values than places: the rest stays +infinity / -1.
        float[] few = [float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity];
        int[] fewIdx = [-1, -1, -1];
        DistanceKernels.InsertSmallest(few, fewIdx, 2f, 9);
        Assert.Equal([9, -1, -1], fewIdx);
    }
}
