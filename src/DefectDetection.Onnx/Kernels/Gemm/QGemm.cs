using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// Integer matrix multiplication on row-major matrices with zero points (MatMulInteger, QLinearMatMul, quantized
/// Gemm): C[m,n] = sum_k (A[m,k] - aZeroPoint) * (B[k,n] - bZeroPoint[n]) accumulated exactly in int32.
/// A is u8 (for s8 activations the caller adds 128 to A and its zero point). B is s8 or u8. B zero points are
/// given per column (N values) or one for all.
/// </summary>
internal static unsafe partial class QGemm
{
    /// <summary>
    /// u8 x s8 -> int32. C is only written. <paramref name="vectorBits"/>: the widest vector to use (see
    /// <see cref="KernelOptions.Resolve"/>); null for the widest available (likewise below).
    /// </summary>
    public static void Multiply(int M, int N, int K, ReadOnlySpan<byte> A, int lda, byte aZeroPoint,
                                ReadOnlySpan<sbyte> B, int ldb, ReadOnlySpan<int> bZeroPoints,
                                Span<int> C, int ldc, IntraOpThreadPool? pool = null, int? vectorBits = null)
    {
        Check(M, N, K, A.Length, lda, B.Length, ldb, bZeroPoints.Length, C.Length, ldc);
        fixed (byte* a = A)
        fixed (sbyte* b = B)
        fixed (int* zb = bZeroPoints)
        fixed (int* c = C)
        {
            var output = new Output { C32 = c, Ldc32 = ldc };
            Run(M, N, K, IntWidth(KernelOptions.Resolve(vectorBits)), Operand.U8(a, lda, aZeroPoint),
                Operand.S8(b, ldb, bZeroPoints.IsEmpty ? 0 : bZeroPoints[0], bZeroPoints.Length == 1 ? null : zb), output, pool);
        }
    }

    /// <summary>u8 x u8 -> int32 (MatMulInteger with unsigned weights). C is only written.</summary>
    public static void Multiply(int M, int N, int K, ReadOnlySpan<byte> A, int lda, byte aZeroPoint,
                                ReadOnlySpan<byte> B, int ldb, ReadOnlySpan<int> bZeroPoints,
                                Span<int> C, int ldc, IntraOpThreadPool? pool = null, int? vectorBits = null)
    {
        Check(M, N, K, A.Length, lda, B.Length, ldb, bZeroPoints.Length, C.Length, ldc);
        fixed (byte* a = A)
        fixed (byte* b = B)
        fixed (int* zb = bZeroPoints)
        fixed (int* c = C)
        {
            var output = new Output { C32 = c, Ldc32 = ldc };
            Run(M, N, K, IntWidth(KernelOptions.Resolve(vectorBits)), Operand.U8(a, lda, aZeroPoint),
                Operand.U8(b, ldb, bZeroPoints.IsEmpty ? 0 : bZeroPoints[0], bZeroPoints.Length == 1 ? null : zb), output, pool);
        }
    }

    /// <summary>Packs a constant s8 right-hand operand B (K x N, row stride N) with its zero points (N values or 1).</summary>
    public static PackedQMatrix PackB(ReadOnlySpan<sbyte> B, int K, int N, ReadOnlySpan<int> bZeroPoints, int? vectorBits = null)
    {
        Check(0, N, K, 0, K, B.Length, N, bZeroPoints.Length, 0, N);
        int width = IntWidth(KernelOptions.Resolve(vectorBits));
        fixed (sbyte* b = B)
        fixed (int* zb = bZeroPoints)
        {
            return new PackedQMatrix(PackWholeB(Operand.S8(b, N, bZeroPoints.IsEmpty ? 0 : bZeroPoints[0], bZeroPoints.Length == 1 ? null : zb), K, N, width), K, N, width);
        }
    }

    /// <summary>Packs a constant u8 right-hand operand B (K x N, row stride N) with its zero points (N values or 1).</summary>
    public static PackedQMatrix PackB(ReadOnlySpan<byte> B, int K, int N, ReadOnlySpan<int> bZeroPoints, int? vectorBits = null)
    {
        Check(0, N, K, 0, K, B.Length, N, bZeroPoints.Length, 0, N);
        int width = IntWidth(KernelOptions.Resolve(vectorBits));
        fixed (byte* b = B)
        fixed (int* zb = bZeroPoints)
        {
            return new PackedQMatrix(PackWholeB(Operand.U8(b, N, bZeroPoints.IsEmpty ? 0 : bZeroPoints[0], bZeroPoints.Length == 1 ? null : zb), K, N, width), K, N, width);
        }
    }

    /// <summary>C[M,N] (int32) = (A - aZeroPoint) * (B - bZeroPoints) with a packed B. C is only written.</summary>
    public static void Multiply(int M, ReadOnlySpan<byte> A, int lda, byte aZeroPoint, PackedQMatrix B,
                                Span<int> C, int ldc, IntraOpThreadPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(B);
        Check(M, B.N, B.K, A.Length, lda, B.K * B.N, B.N, 1, C.Length, ldc);
        fixed (byte* a = A)
        fixed (short* b = B.Data)
        fixed (int* c = C)
        {
            var output = new Output { C32 = c, Ldc32 = ldc };
            Run(M, B.N, B.K, B.Width, Operand.U8(a, lda, aZeroPoint), Operand.Prepacked(AlignedPanels(b)), output, pool);
        }
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
        Check(M, N, B.K, A.Length, lda, B.K * N, N, 1, C.Length, ldc);
        if (!biasPerColumn.IsEmpty && biasPerColumn.Length < N)
        {
            throw new ArgumentException("The bias must have N values.", nameof(biasPerColumn));
        }

        if (!requant.IsPerTensor && requant.Scale.Length < N)
        {
            throw new ArgumentException("The requantization needs one scale per column.", nameof(requant));
        }

        fixed (byte* a = A)
        fixed (short* b = B.Data)
        fixed (byte* c = C)
        fixed (int* bias = biasPerColumn)
        fixed (float* scales = requant.Scale)
        {
            var output = new Output
            {
                Cq = c, Ldcq = ldc, BiasCol = biasPerColumn.IsEmpty ? null : bias, Scales = scales,
                ScalePerColumn = !requant.IsPerTensor, ZeroPoint = requant.OutputZeroPoint, Min = requant.Min, Max = requant.Max,
            };
            Run(M, N, B.K, B.Width, Operand.U8(a, lda, aZeroPoint), Operand.Prepacked(AlignedPanels(b)), output, pool);
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
