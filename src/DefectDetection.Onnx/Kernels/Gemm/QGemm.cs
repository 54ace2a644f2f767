using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// Integer matrix multiplication on row-major matrices with zero points (MatMulInteger, QLinearMatMul, Gemm on
/// quantized tensors): C[m,n] = sum_k (A[m,k] - aZeroPoint) * (B[k,n] - bZeroPoint[n]) in int32.
/// A is u8. B is s8, or u8 (handled as s8 after subtracting 128 from the values and the zero points).
/// For s8 activations the caller adds 128 to A and its zero point first. Zero points are given per column of B
/// (N values) or one for all.
/// </summary>
internal static partial class QGemm
{
    /// <summary>u8 x s8 -> int32. C is only written.</summary>
    public static void Multiply(int M, int N, int K, ReadOnlySpan<byte> A, int lda, byte aZeroPoint,
                                ReadOnlySpan<sbyte> B, int ldb, ReadOnlySpan<int> bZeroPoints,
                                Span<int> C, int ldc, IntraOpThreadPool? pool = null)
    {
        Check(M, N, K, A.Length, lda, B.Length, ldb, bZeroPoints.Length, C.Length, ldc);
        for (int m = 0; m < M; m++)
        {
            for (int n = 0; n < N; n++)
            {
                int bz = bZeroPoints.Length == 1 ? bZeroPoints[0] : bZeroPoints[n];
                int sum = 0;
                for (int k = 0; k < K; k++)
                {
                    sum += (A[(m * lda) + k] - aZeroPoint) * (B[(k * ldb) + n] - bz);
                }

                C[(m * ldc) + n] = sum;
            }
        }
    }

    /// <summary>u8 x u8 -> int32 (MatMulInteger with unsigned weights). C is only written.</summary>
    public static void Multiply(int M, int N, int K, ReadOnlySpan<byte> A, int lda, byte aZeroPoint,
                                ReadOnlySpan<byte> B, int ldb, ReadOnlySpan<int> bZeroPoints,
                                Span<int> C, int ldc, IntraOpThreadPool? pool = null)
    {
        Check(M, N, K, A.Length, lda, B.Length, ldb, bZeroPoints.Length, C.Length, ldc);
        for (int m = 0; m < M; m++)
        {
            for (int n = 0; n < N; n++)
            {
                int bz = bZeroPoints.Length == 1 ? bZeroPoints[0] : bZeroPoints[n];
                int sum = 0;
                for (int k = 0; k < K; k++)
                {
                    sum += (A[(m * lda) + k] - aZeroPoint) * (B[(k * ldb) + n] - bz);
                }

                C[(m * ldc) + n] = sum;
            }
        }
    }

    /// <summary>Packs a constant s8 right-hand operand B (K x N, row stride N) with its zero points (N values or 1).</summary>
    public static PackedQMatrix PackB(ReadOnlySpan<sbyte> B, int K, int N, ReadOnlySpan<int> bZeroPoints)
    {
        Check(0, N, K, 0, K, B.Length, N, bZeroPoints.Length, 0, N);
        var data = B.Slice(0, K * N).ToArray();
        var zps = new int[N];
        var sums = new int[N];
        for (int n = 0; n < N; n++)
        {
            zps[n] = bZeroPoints.Length == 1 ? bZeroPoints[0] : bZeroPoints[n];
            for (int k = 0; k < K; k++)
            {
                sums[n] += data[(k * N) + n];
            }
        }

        return new PackedQMatrix(data, K, N, zps, sums);
    }

    /// <summary>Packs a constant u8 right-hand operand B (K x N, row stride N) with its zero points (N values or 1).</summary>
    public static PackedQMatrix PackB(ReadOnlySpan<byte> B, int K, int N, ReadOnlySpan<int> bZeroPoints)
    {
        Check(0, N, K, 0, K, B.Length, N, bZeroPoints.Length, 0, N);
        var shifted = new sbyte[K * N];
        for (int i = 0; i < shifted.Length; i++)
        {
            shifted[i] = (sbyte)(B[i] - 128);
        }

        var zps = new int[bZeroPoints.Length];
        for (int i = 0; i < zps.Length; i++)
        {
            zps[i] = bZeroPoints[i] - 128;
        }

        return PackB(shifted, K, N, zps);
    }

    /// <summary>C[M,N] (int32) = (A - aZeroPoint) * (B - bZeroPoints) with a packed B. C is only written.</summary>
    public static void Multiply(int M, ReadOnlySpan<byte> A, int lda, byte aZeroPoint, PackedQMatrix B,
                                Span<int> C, int ldc, IntraOpThreadPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(B);
        Multiply(M, B.N, B.K, A, lda, aZeroPoint, B.Data, B.N, B.ZeroPoints, C, ldc, pool);
    }

    /// <summary>
    /// Quantized output: C[m,n] = requant(acc[m,n] + bias[n]) with the scale of column n (per-tensor or per column).
    /// C holds u8 or, when <see cref="Requantization.OutputSigned"/>, s8 as two's-complement bytes.
    /// </summary>
    public static void Multiply(int M, ReadOnlySpan<byte> A, int lda, byte aZeroPoint, PackedQMatrix B,
                                ReadOnlySpan<int> biasPerColumn, Requantization requant, Span<byte> C, int ldc,
                                IntraOpThreadPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(B);
        ArgumentNullException.ThrowIfNull(requant);
        int N = B.N;
        Check(M, N, B.K, A.Length, lda, B.Data.Length, N, B.ZeroPoints.Length, C.Length, ldc);
        if (!biasPerColumn.IsEmpty && biasPerColumn.Length < N)
        {
            throw new ArgumentException("The bias must have N values.", nameof(biasPerColumn));
        }

        if (!requant.IsPerTensor && requant.Scale.Length < N)
        {
            throw new ArgumentException("The requantization needs one scale per column.", nameof(requant));
        }

        int[] row = new int[N];
        for (int m = 0; m < M; m++)
        {
            Multiply(1, N, B.K, A.Slice(m * lda), lda, aZeroPoint, B.Data, N, B.ZeroPoints, row, N, null);
            for (int n = 0; n < N; n++)
            {
                int acc = row[n] + (biasPerColumn.IsEmpty ? 0 : biasPerColumn[n]);
                C[(m * ldc) + n] = (byte)requant.Apply(acc, n);
            }
        }
    }

    internal static void Check(int M, int N, int K, int aLength, int lda, int bLength, int ldb, int zpLength, int cLength, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(M);
        ArgumentOutOfRangeException.ThrowIfNegative(N);
        ArgumentOutOfRangeException.ThrowIfNegative(K);
        if (M > 0 && K > 0 && (lda < K || aLength < ((long)(M - 1) * lda) + K))
        {
            throw new ArgumentException("A is too small for its shape and stride.", "A");
        }

        if (K > 0 && N > 0 && (ldb < N || bLength < ((long)(K - 1) * ldb) + N))
        {
            throw new ArgumentException("B is too small for its shape and stride.", "B");
        }

        if (zpLength != 1 && zpLength != N)
        {
            throw new ArgumentException("The B zero points must have 1 or N values.", "bZeroPoints");
        }

        if (M > 0 && N > 0 && (ldc < N || cLength < ((long)(M - 1) * ldc) + N))
        {
            throw new ArgumentException("C is too small for its shape and stride.", "C");
        }
    }
}
