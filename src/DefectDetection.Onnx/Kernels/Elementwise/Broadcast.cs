namespace DefectDetection.Onnx.Kernels.Elementwise;

/// <summary>A binary element-wise operation with vector forms for the contiguous inner runs of a broadcast.</summary>
internal interface IBinaryOp<TIn, TOut>
{
    static abstract TOut Apply(TIn a, TIn b);

    static abstract void VectorVector(ReadOnlySpan<TIn> a, ReadOnlySpan<TIn> b, Span<TOut> d);

    static abstract void VectorScalar(ReadOnlySpan<TIn> a, TIn b, Span<TOut> d);

    static abstract void ScalarVector(TIn a, ReadOnlySpan<TIn> b, Span<TOut> d);
}

/// <summary>ONNX multidirectional (numpy) broadcasting.</summary>
internal static class Broadcast
{
    public const int MaxRank = 16;

    /// <summary>Writes the broadcast shape of a and b into <paramref name="result"/>; returns its rank.</summary>
    public static int Shape(ReadOnlySpan<int> a, ReadOnlySpan<int> b, Span<int> result)
    {
        int r = Math.Max(a.Length, b.Length);
        if (r > MaxRank)
        {
            throw new OnnxModelException($"Rank {r} exceeds the supported {MaxRank}.");
        }

        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1;
            int db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new OnnxModelException($"Shapes [{string.Join(",", a.ToArray())}] and [{string.Join(",", b.ToArray())}] cannot be broadcast.");
            }

            result[i] = da == 1 ? db : da;
        }

        return r;
    }

    /// <summary>Computes d = op(a, b) with broadcasting (out shape from <see cref="Shape"/>).</summary>
    public static void Binary<TIn, TOut, TOp>(ReadOnlySpan<TIn> a, ReadOnlySpan<int> aShape, ReadOnlySpan<TIn> b, ReadOnlySpan<int> bShape, Span<TOut> d, ReadOnlySpan<int> outShape)
        where TOp : IBinaryOp<TIn, TOut>
    {
        int total = d.Length;
        if (total == 0)
        {
            return;
        }

        if (a.Length == total && b.Length == total)
        {
            TOp.VectorVector(a, b, d);
            return;
        }

        if (b.Length == 1 && a.Length == total)
        {
            TOp.VectorScalar(a, b[0], d);
            return;
        }

        if (a.Length == 1 && b.Length == total)
        {
            TOp.ScalarVector(a[0], b, d);
            return;
        }

        int r = outShape.Length;
        Span<int> sa = stackalloc int[r];
        Span<int> sb = stackalloc int[r];
        Strides(aShape, outShape, sa);
        Strides(bShape, outShape, sb);

        // Inner block: the longest suffix where each operand is either contiguous (dims equal) or constant (dims 1).
        int k = r;
        int kindA = -1, kindB = -1; // 1 = full, 0 = broadcast
        long block = 1;
        while (k > 0)
        {
            int od = outShape[k - 1];
            int ka = sa[k - 1] == 0 && od != 1 ? 0 : 1;
            int kb = sb[k - 1] == 0 && od != 1 ? 0 : 1;
            if (od == 1)
            {
                k--;
                continue;
            }

            if (kindA >= 0 && (ka != kindA || kb != kindB))
            {
                break;
            }

            kindA = ka;
            kindB = kb;
            block *= od;
            k--;
        }

        int blk = (int)block;
        int outer = total / blk;
        Span<int> counter = stackalloc int[Math.Max(k, 1)];
        counter.Clear();
        int offA = 0, offB = 0;
        for (int o = 0; o < outer; o++)
        {
            Span<TOut> dst = d.Slice(o * blk, blk);
            if (kindA != 0 && kindB != 0)
            {
                TOp.VectorVector(a.Slice(offA, blk), b.Slice(offB, blk), dst);
            }
            else if (kindA != 0)
            {
                TOp.VectorScalar(a.Slice(offA, blk), b[offB], dst);
            }
            else if (kindB != 0)
            {
                TOp.ScalarVector(a[offA], b.Slice(offB, blk), dst);
            }
            else
            {
                dst.Fill(TOp.Apply(a[offA], b[offB]));
            }

            // Advance the outer counter (dims 0..k-1).
            for (int dim = k - 1; dim >= 0; dim--)
            {
                counter[dim]++;
                offA += sa[dim];
                offB += sb[dim];
                if (counter[dim] < outShape[dim])
                {
                    break;
                }

                offA -= sa[dim] * outShape[dim];
                offB -= sb[dim] * outShape[dim];
                counter[dim] = 0;
            }
        }
    }

    /// <summary>Element strides of an operand broadcast to <paramref name="outShape"/> (0 on broadcast dims).</summary>
    public static void Strides(ReadOnlySpan<int> shape, ReadOnlySpan<int> outShape, Span<int> strides)
    {
        int r = outShape.Length;
        int s = 1;
        for (int i = r - 1; i >= 0; i--)
        {
            int j = i - (r - shape.Length);
            int dim = j >= 0 ? shape[j] : 1;
            strides[i] = dim == 1 ? 0 : s;
            s *= dim;
        }
    }

    /// <summary>Copies <paramref name="src"/> broadcast to <paramref name="outShape"/> into <paramref name="dst"/>.</summary>
    public static void To<T>(ReadOnlySpan<T> src, ReadOnlySpan<int> srcShape, Span<T> dst, ReadOnlySpan<int> outShape)
    {
        Binary<T, T, FirstOp<T>>(src, srcShape, src.Slice(0, Math.Min(1, src.Length)), [], dst, outShape);
    }

    private readonly struct FirstOp<T> : IBinaryOp<T, T>
    {
        public static T Apply(T a, T b) => a;

        public static void VectorVector(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => a.CopyTo(d);

        public static void VectorScalar(ReadOnlySpan<T> a, T b, Span<T> d) => a.CopyTo(d);

        public static void ScalarVector(T a, ReadOnlySpan<T> b, Span<T> d) => d.Fill(a);
    }
}
