namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// A constant right-hand GEMM operand (K x N) rearranged once by <see cref="Sgemm.PackB"/> into the layout the
/// micro-kernel reads. Immutable; one instance can be used by many threads at the same time.
/// </summary>
internal sealed class PackedMatrix
{
    internal PackedMatrix(float[] data, int k, int n, int width)
    {
        Data = data;
        Width = width;
        K = k;
        N = n;
    }

    /// <summary>Rows of the logical matrix (the shared dimension).</summary>
    public int K { get; }

    /// <summary>Columns of the logical matrix.</summary>
    public int N { get; }

    /// <summary>The vector width the panels were packed for (see <see cref="KernelOptions"/>).</summary>
    internal int Width { get; }

    /// <summary>The packed values (layout private to <see cref="Sgemm"/>).</summary>
    internal float[] Data { get; }
}
