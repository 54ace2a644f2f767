using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// Squared Euclidean distances with one loop that steps down 512 -> 256 -> 128 bits -> scalar, and the
/// single-query row scan built on it (the blocked search of the memory bank is <see cref="BankSearch"/>).
/// </summary>
internal static class DistanceKernels
{
    /// <summary>Sum of (a[i] - b[i])^2 over equal-length spans.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SquaredL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            ThrowLength();
        }

        int n = a.Length;
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> d = Vector512.LoadUnsafe(ref pa, (nuint)i) - Vector512.LoadUnsafe(ref pb, (nuint)i);
                acc += d * d;
            }

            sum += Vector512.Sum(acc);
        }

        if (Vector256.IsHardwareAccelerated && n - i >= Vector256<float>.Count)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (; i <= n - (2 * Vector256<float>.Count); i += 2 * Vector256<float>.Count)
            {
                Vector256<float> d0 = Vector256.LoadUnsafe(ref pa, (nuint)i) - Vector256.LoadUnsafe(ref pb, (nuint)i);
                Vector256<float> d1 = Vector256.LoadUnsafe(ref pa, (nuint)(i + Vector256<float>.Count)) - Vector256.LoadUnsafe(ref pb, (nuint)(i + Vector256<float>.Count));
                acc0 += d0 * d0;
                acc1 += d1 * d1;
            }

            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> d = Vector256.LoadUnsafe(ref pa, (nuint)i) - Vector256.LoadUnsafe(ref pb, (nuint)i);
                acc0 += d * d;
            }

            sum += Vector256.Sum(acc0 + acc1);
        }

        if (Vector128.IsHardwareAccelerated && n - i >= Vector128<float>.Count)
        {
            Vector128<float> acc = Vector128<float>.Zero;
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> d = Vector128.LoadUnsafe(ref pa, (nuint)i) - Vector128.LoadUnsafe(ref pb, (nuint)i);
                acc += d * d;
            }

            sum += Vector128.Sum(acc);
        }

        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref pa, i) - Unsafe.Add(ref pb, i);
            sum += d * d;
        }

        return sum;
    }

    /// <summary>Floats summed between the checks of <see cref="SquaredL2Bounded"/> (two 64-byte cache lines).</summary>
    public const int BoundChunk = 32;

    /// <summary>
    /// <see cref="SquaredL2"/> summed <see cref="BoundChunk"/> floats at a time, stopping as soon as the sum reaches
    /// <paramref name="bound"/>: the full squared distance when it is below the bound, otherwise a partial sum that is
    /// already at least the bound (the rest of the rows is never read).
    /// </summary>
    public static float SquaredL2Bounded(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float bound)
    {
        if (a.Length != b.Length)
        {
            ThrowLength();
        }

        float sum = 0;
        for (int i = 0; i < a.Length && sum < bound; i += BoundChunk)
        {
            int n = Math.Min(BoundChunk, a.Length - i);
            sum += SquaredL2(a.Slice(i, n), b.Slice(i, n));
        }

        return sum;
    }

    /// <summary>The plain scalar reference of <see cref="SquaredL2"/> (double accumulation).</summary>
    public static double SquaredL2Reference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            sum += d * d;
        }

        return sum;
    }

    /// <summary>
    /// Keeps <paramref name="distances"/> (ascending) and <paramref name="indices"/> as the smallest distances seen so
    /// far: inserts (<paramref name="distance"/>, <paramref name="index"/>) when it is below the last entry (NaN never
    /// enters); an equal distance goes after the entries already there. Fill the lists with +infinity and -1 first.
    /// </summary>
    public static void InsertSmallest(Span<float> distances, Span<int> indices, float distance, int index)
    {
        int j = distances.Length - 1;
        if (!(distance < distances[j]))
        {
            return;
        }

        while (j > 0 && distances[j - 1] > distance)
        {
            distances[j] = distances[j - 1];
            indices[j] = indices[j - 1];
            j--;
        }

        distances[j] = distance;
        indices[j] = index;
    }

    /// <summary>
    /// The smallest squared distance from <paramref name="query"/> to the rows of <paramref name="bank"/>
    /// (row-major, <paramref name="dim"/> values a row), by scanning every row: the reference of <see cref="BankSearch"/>
    /// and its scalar path.
    /// </summary>
    public static float Nearest(ReadOnlySpan<float> query, ReadOnlySpan<float> bank, int dim, out int index)
    {
        int rows = bank.Length / dim;
        float best = float.PositiveInfinity;
        index = 0;
        for (int r = 0; r < rows; r++)
        {
            float d = SquaredL2(query, bank.Slice(r * dim, dim));
            if (d < best)
            {
                best = d;
                index = r;
            }
        }

        return best;
    }

    private static void ThrowLength() => throw new ArgumentException("The vectors differ in length.");
}
