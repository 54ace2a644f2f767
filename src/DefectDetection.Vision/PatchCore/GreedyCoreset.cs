using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// Greedy k-centre selection (PatchCore's coreset): start at a random row, then repeatedly take the row farthest from
/// everything chosen so far. Distances are measured after an optional Gaussian random projection
/// (Johnson-Lindenstrauss), which keeps them approximately and makes each step cheaper.
/// </summary>
internal static class GreedyCoreset
{
    // Skip a row when |c - a|^2 > 4 (1 + 1e-3) |i - a|^2: then |i - c| exceeds |i - a| by far more than float rounding.
    private const float PruneFactor = 4.004f;

    // Rows ahead whose first cache lines are requested while a row is measured.
    private const int PrefetchAhead = 8;

    /// <summary>Picks <paramref name="target"/> row indices of <paramref name="rows"/> (count x dim, row-major).</summary>
    public static int[] Select(float[] rows, int count, int dim, int target, int projectionDimensions, int seed, int threads,
        IProgress<double>? progress, CancellationToken cancellationToken)
    {
        target = Math.Clamp(target, 0, count);
        if (target == 0)
        {
            return [];
        }

        if (target == count)
        {
            return Enumerable.Range(0, count).ToArray();
        }

        var rng = new Random(seed);
        float[] space = rows;
        int d = dim;
        if (projectionDimensions > 0 && projectionDimensions < dim)
        {
            space = Project(rows, count, dim, projectionDimensions, rng, threads, cancellationToken);
            d = projectionDimensions;
        }

        // minDist[i]: squared distance from row i to its nearest chosen row, owner[i]: which one (its step). A new centre c
        // cannot come closer to row i than that row's centre a when |c - a| >= 2 |i - a| (triangle inequality), so such
        // rows are skipped without reading them; the margin keeps the choice identical to the full scan under float rounding.
        // The other rows stop reading as soon as their partial distance reaches minDist (most of them after 32 features).
        float[] minDist = new float[count];
        minDist.AsSpan().Fill(float.PositiveInfinity);
        int[] owner = new int[count];
        owner.AsSpan().Fill(-1);
        float[] centreGap = new float[target];
        float[] centres = new float[(long)target * d]; // the chosen rows, contiguous for the gap loop
        int[] chosen = new int[target];
        int chunks = Math.Max(1, Math.Min(threads, count / 256));
        float[] chunkBest = new float[chunks];
        int[] chunkArg = new int[chunks];
        int[][] candidates = new int[chunks][];
        for (int c = 0; c < chunks; c++)
        {
            candidates[c] = new int[((long)count * (c + 1) / chunks) - ((long)count * c / chunks)];
        }

        var po = new ParallelOptions { MaxDegreeOfParallelism = chunks, CancellationToken = cancellationToken };
        int current = rng.Next(count);
        for (int s = 0; s < target; s++)
        {
            chosen[s] = current;
            int centre = current, step = s;
            ReadOnlySpan<float> newCentre = space.AsSpan(centre * d, d);
            newCentre.CopyTo(centres.AsSpan(s * d, d));
            for (int j = 0; j < s; j++)
            {
                centreGap[j] = DistanceKernels.SquaredL2(centres.AsSpan(j * d, d), newCentre);
            }

            Parallel.For(0, chunks, po, c =>
            {
                int start = (int)((long)count * c / chunks), end = (int)((long)count * (c + 1) / chunks);
                ReadOnlySpan<float> centreRow = space.AsSpan(centre * d, d);

                // First the rows the bound cannot rule out (no branch per row), then their distances: a loop whose
                // row reads do not wait on unpredictable branches, with the next rows prefetched.
                int[] list = candidates[c];
                int n = 0;
                for (int i = start; i < end; i++)
                {
                    int a = owner[i];
                    list[n] = i;
                    n += (a < 0) | (centreGap[Math.Max(a, 0)] <= PruneFactor * minDist[i]) ? 1 : 0;
                }

                for (int k = 0; k < n; k++)
                {
                    if (k + PrefetchAhead < n)
                    {
                        Prefetch(space, list[k + PrefetchAhead] * d);
                    }

                    int i = list[k];
                    float m = minDist[i];
                    float dist = DistanceKernels.SquaredL2Bounded(space.AsSpan(i * d, d), centreRow, m);
                    if (dist < m)
                    {
                        minDist[i] = dist;
                        owner[i] = step;
                    }
                }

                int arg = start + TensorPrimitives.IndexOfMax<float>(minDist.AsSpan(start, end - start));
                chunkBest[c] = minDist[arg];
                chunkArg[c] = arg;
            });

            int next = chunkArg[0];
            float far = chunkBest[0];
            for (int c = 1; c < chunks; c++)
            {
                if (chunkBest[c] > far)
                {
                    far = chunkBest[c];
                    next = chunkArg[c];
                }
            }

            current = next;
            if (progress is not null && (s & 255) == 0)
            {
                progress.Report((double)s / target);
            }
        }

        return chosen;
    }

    /// <summary>Largest distance from any row to its nearest chosen row (the covering radius), by brute force.</summary>
    public static double CoveringRadius(float[] rows, int count, int dim, IReadOnlyList<int> chosen)
    {
        double worst = 0;
        for (int i = 0; i < count; i++)
        {
            double best = double.PositiveInfinity;
            foreach (int c in chosen)
            {
                best = Math.Min(best, DistanceKernels.SquaredL2Reference(rows.AsSpan(i * dim, dim), rows.AsSpan(c * dim, dim)));
            }

            worst = Math.Max(worst, best);
        }

        return Math.Sqrt(worst);
    }

    private static unsafe void Prefetch(float[] rows, int offset)
    {
        if (Sse.IsSupported)
        {
            // A hint only: an address made stale by the garbage collector moving the array just prefetches nothing useful.
            byte* p = (byte*)Unsafe.AsPointer(ref rows[offset]);
            Sse.Prefetch0(p);
            Sse.Prefetch0(p + 64);
        }
    }

    private static float[] Project(float[] rows, int count, int dim, int k, Random rng, int threads, CancellationToken cancellationToken)
    {
        // Gaussian entries scaled by 1/sqrt(k) keep squared distances in expectation.
        float[] matrix = new float[dim * k];
        float scale = 1f / MathF.Sqrt(k);
        for (int i = 0; i < matrix.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            matrix[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2)) * scale;
        }

        float[] result = new float[count * k];
        var po = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = cancellationToken };
        Parallel.For(0, count, po, r =>
        {
            Span<float> o = result.AsSpan(r * k, k);
            ReadOnlySpan<float> x = rows.AsSpan(r * dim, dim);
            for (int j = 0; j < dim; j++)
            {
                if (x[j] != 0)
                {
                    TensorPrimitives.MultiplyAdd(matrix.AsSpan(j * k, k), x[j], o, o);
                }
            }
        });
        return result;
    }
}
