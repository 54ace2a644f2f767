namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// A constant int8 right-hand operand (K x N) with its per-column zero points, rearranged once by
/// <see cref="QGemm.PackB(ReadOnlySpan{sbyte}, int, int, ReadOnlySpan{int})"/>. Immutable and thread-safe.
/// </summary>
internal sealed class PackedQMatrix
{
    internal PackedQMatrix(sbyte[] data, int k, int n, int[] zeroPoints, int[] columnSums)
    {
        Data = data;
        K = k;
        N = n;
        ZeroPoints = zeroPoints;
        ColumnSums = columnSums;
    }

    /// <summary>Rows of the logical matrix (the shared dimension).</summary>
    public int K { get; }

    /// <summary>Columns of the logical matrix.</summary>
    public int N { get; }

    /// <summary>Packed s8 values (layout private to <see cref="QGemm"/>).</summary>
    internal sbyte[] Data { get; }

    /// <summary>Zero point per column (N values), in the s8 domain of <see cref="Data"/>.</summary>
    internal int[] ZeroPoints { get; }

    /// <summary>Sum over k of the s8 values of each column.</summary>
    internal int[] ColumnSums { get; }
}
