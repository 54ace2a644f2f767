namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// A constant integer right-hand operand (K x N, s8 or u8) with its per-column zero points, rearranged once by
/// <see cref="QGemm.PackB(ReadOnlySpan{sbyte}, int, int, ReadOnlySpan{int}, int?)"/> into the micro-kernel's layout
/// (zero points already subtracted). Immutable and thread-safe.
/// </summary>
internal sealed class PackedQMatrix
{
    internal PackedQMatrix(short[] data, int k, int n, int width)
    {
        Data = data;
        K = k;
        N = n;
        Width = width;
    }

    /// <summary>Rows of the logical matrix (the shared dimension).</summary>
    public int K { get; }

    /// <summary>Columns of the logical matrix.</summary>
    public int N { get; }

    /// <summary>The integer kernel width the panels were packed for.</summary>
    internal int Width { get; }

    /// <summary>Packed int16 values (value - zero point; layout private to <see cref="QGemm"/>).</summary>
    internal short[] Data { get; }
}
