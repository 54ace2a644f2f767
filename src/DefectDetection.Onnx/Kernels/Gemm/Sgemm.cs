using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// Single-precision matrix multiplication on row-major matrices:
/// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C (+ bias) followed by an optional activation.
/// </summary>
internal static unsafe partial class Sgemm
{
    /// <summary>
    /// C = alpha * op(A) * op(B) + beta * C. op(A) is A (M x K, row stride <paramref name="lda"/>) or, with
    /// <paramref name="transA"/>, the transpose of A stored K x M. Likewise op(B) is K x N or, transposed, stored N x K.
    /// When <paramref name="beta"/> is 0, C is not read (it may hold garbage or NaN). <paramref name="vectorBits"/>: the
    /// widest vector to use (see <see cref="KernelOptions.Resolve"/>); null for the widest available.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int M, int N, int K, float alpha,
                                ReadOnlySpan<float> A, int lda, ReadOnlySpan<float> B, int ldb, float beta,
                                Span<float> C, int ldc, IntraOpThreadPool? pool = null, int? vectorBits = null)
    {
        CheckShapes(transA, transB, M, N, K, A.Length, lda, B.Length, ldb, C.Length, ldc);
        if (M == 0 || N == 0)
        {
            return;
        }

        fixed (float* a = A)
        fixed (float* b = B)
        fixed (float* c = C)
        {
            Run(M, N, K, KernelOptions.Resolve(vectorBits), Operand.Raw(a, lda, transA, alpha), Operand.Raw(b, ldb, transB),
                c, ldc, beta, null, null, ActivationParams.None, pool);
        }
    }

    /// <summary>
    /// Packs a constant right-hand operand once (e.g. the weights of Gemm/MatMul at session creation).
    /// B is K x N with row stride N, or with <paramref name="transB"/> N x K with row stride K.
    /// <paramref name="alpha"/> is folded into the packed values. <paramref name="vectorBits"/>: the widest vector the
    /// multiplications with it will use (see <see cref="KernelOptions.Resolve"/>); null for the widest available.
    /// </summary>
    public static PackedMatrix PackB(ReadOnlySpan<float> B, int K, int N, bool transB, float alpha = 1f, int? vectorBits = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(K);
        ArgumentOutOfRangeException.ThrowIfNegative(N);
        if (B.Length < (long)K * N)
        {
            throw new ArgumentException("B is smaller than K x N.", nameof(B));
        }

        int width = KernelOptions.Resolve(vectorBits);
        fixed (float* b = B)
        {
            float[] data = PackWholeB(Operand.Raw(b, transB ? K : N, transB, alpha), K, N, width);
            return new PackedMatrix(data, K, N, width);
        }
    }

    /// <summary>
    /// C[M,N] = A[M,K] * B + bias (one value per column, or empty) then <paramref name="act"/>, with B packed by
    /// <see cref="PackB"/>. C is only written.
    /// </summary>
    public static void Multiply(int M, ReadOnlySpan<float> A, int lda, PackedMatrix B, Span<float> C, int ldc,
                                ReadOnlySpan<float> biasPerColumn, ActivationParams act, IntraOpThreadPool? pool)
    {
        ArgumentNullException.ThrowIfNull(B);
        int N = B.N;
        int K = B.K;
        CheckShapes(false, false, M, N, K, A.Length, lda, K * N, N, C.Length, ldc);
        if (!biasPerColumn.IsEmpty && biasPerColumn.Length < N)
        {
            throw new ArgumentException("The bias must have N values.", nameof(biasPerColumn));
        }

        if (M == 0 || N == 0)
        {
            return;
        }

        fixed (float* a = A)
        fixed (float* b = B.Data)
        fixed (float* c = C)
        fixed (float* bias = biasPerColumn)
        {
            Run(M, N, K, B.Width, Operand.Raw(a, lda, false), Operand.Prepacked(b), c, ldc, 0f,
                null, biasPerColumn.IsEmpty ? null : bias, act, pool);
        }
    }

    internal static void CheckShapes(bool transA, bool transB, int M, int N, int K, int aLength, int lda,
                                     int bLength, int ldb, int cLength, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(M);
        ArgumentOutOfRangeException.ThrowIfNegative(N);
        ArgumentOutOfRangeException.ThrowIfNegative(K);
        int aRows = transA ? K : M, aCols = transA ? M : K;
        int bRows = transB ? N : K, bCols = transB ? K : N;
        if (aRows > 0 && aCols > 0 && (lda < aCols || aLength < ((long)(aRows - 1) * lda) + aCols))
        {
            throw new ArgumentException("A is too small for its shape and stride.", "A");
        }

        if (bRows > 0 && bCols > 0 && (ldb < bCols || bLength < ((long)(bRows - 1) * ldb) + bCols))
        {
            throw new ArgumentException("B is too small for its shape and stride.", "B");
        }

        if (M > 0 && N > 0 && (ldc < N || cLength < ((long)(M - 1) * ldc) + N))
        {
            throw new ArgumentException("C is too small for its shape and stride.", "C");
        }
    }
}
