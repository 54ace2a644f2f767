using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DefectDetection.Onnx.Kernels.Gemm;

// Register-blocked micro-kernels: C[MR x NR] (op)= Apanel[kc x MR] * Bpanel[kc x NR].
// Store modes: 0 = overwrite, 1 = accumulate into C, 2 = C = acc + beta * C.
internal static unsafe partial class Sgemm
{
    internal const int ModeStore = 0, ModeAdd = 1, ModeBeta = 2;

    /// <summary>Micro-tile rows (MR) and columns (NR) for a vector width.</summary>
    internal static (int Mr, int Nr) TileOf(int width) => width switch
    {
        512 => (8, 32),
        256 => (6, 16),
        128 => (6, 8),
        _ => (4, 4),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma512(Vector512<float> a, Vector512<float> b, Vector512<float> c)
        => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma256(Vector256<float> a, Vector256<float> b, Vector256<float> c)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : (a * b) + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fma128(Vector128<float> a, Vector128<float> b, Vector128<float> c)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c)
         : System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? System.Runtime.Intrinsics.Arm.AdvSimd.FusedMultiplyAdd(c, a, b)
         : (a * b) + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* p, Vector512<float> v, int mode, float beta)
    {
        if (mode == ModeAdd)
        {
            v += Vector512.Load(p);
        }
        else if (mode == ModeBeta)
        {
            v = Fma512(Vector512.Create(beta), Vector512.Load(p), v);
        }

        Vector512.Store(v, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* p, Vector256<float> v, int mode, float beta)
    {
        if (mode == ModeAdd)
        {
            v += Vector256.Load(p);
        }
        else if (mode == ModeBeta)
        {
            v = Fma256(Vector256.Create(beta), Vector256.Load(p), v);
        }

        Vector256.Store(v, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* p, Vector128<float> v, int mode, float beta)
    {
        if (mode == ModeAdd)
        {
            v += Vector128.Load(p);
        }
        else if (mode == ModeBeta)
        {
            v = Fma128(Vector128.Create(beta), Vector128.Load(p), v);
        }

        Vector128.Store(v, p);
    }

    // Copies a full MR x NR tile from tmp into the valid rows x cols corner of C.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StorePartial(float* tmp, int nr, float* c, int ldc, int rows, int cols, int mode, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* src = tmp + (r * nr);
            float* dst = c + ((long)r * ldc);
            for (int j = 0; j < cols; j++)
            {
                float v = src[j];
                dst[j] = mode == ModeAdd ? dst[j] + v : mode == ModeBeta ? v + (beta * dst[j]) : v;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MicroKernel(int width, int kc, float* a, float* b, float* c, int ldc, int rows, int cols, int mode, float beta)
    {
        switch (width)
        {
            case 512 when rows == 1:
                Kernel512Row1(kc, a, b, c, cols, mode, beta);
                break;
            case 512:
                Kernel512<NoEpilogue, BPanels>(kc, a, b, null, c, ldc, rows, cols, mode, beta, null, null, default);
                break;
            case 256:
                Kernel256(kc, a, b, c, ldc, rows, cols, mode, beta);
                break;
            case 128:
                Kernel128(kc, a, b, c, ldc, rows, cols, mode, beta);
                break;
            default:
                KernelScalar(kc, a, b, c, ldc, rows, cols, mode, beta);
                break;
        }
    }

    // 1 x 32 (a single valid row, e.g. a fully-connected layer at batch 1): k unrolled by 4 into independent
    // accumulators so the FMA latency is hidden instead of computing 7 padding rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512Row1(int kc, float* a, float* b, float* c, int cols, int mode, float beta)
    {
        Vector512<float> s0 = default, s1 = default, t0 = default, t1 = default, u0 = default, u1 = default, v0 = default, v1 = default;
        int k = 0;
        for (; k + 4 <= kc; k += 4, a += 32, b += 128)
        {
            Vector512<float> a0 = Vector512.Create(a[0]), a1 = Vector512.Create(a[8]), a2 = Vector512.Create(a[16]), a3 = Vector512.Create(a[24]);
            s0 = Fma512(a0, Vector512.Load(b), s0); s1 = Fma512(a0, Vector512.Load(b + 16), s1);
            t0 = Fma512(a1, Vector512.Load(b + 32), t0); t1 = Fma512(a1, Vector512.Load(b + 48), t1);
            u0 = Fma512(a2, Vector512.Load(b + 64), u0); u1 = Fma512(a2, Vector512.Load(b + 80), u1);
            v0 = Fma512(a3, Vector512.Load(b + 96), v0); v1 = Fma512(a3, Vector512.Load(b + 112), v1);
        }

        for (; k < kc; k++, a += 8, b += 32)
        {
            Vector512<float> a0 = Vector512.Create(a[0]);
            s0 = Fma512(a0, Vector512.Load(b), s0);
            s1 = Fma512(a0, Vector512.Load(b + 16), s1);
        }

        s0 = (s0 + t0) + (u0 + v0);
        s1 = (s1 + t1) + (u1 + v1);
        if (cols == 32)
        {
            Store512(c, s0, mode, beta);
            Store512(c + 16, s1, mode, beta);
            return;
        }

        float* tmp = stackalloc float[32];
        Vector512.Store(s0, tmp);
        Vector512.Store(s1, tmp + 16);
        StorePartial(tmp, 32, c, 0, 1, cols, mode, beta);
    }

    // 8 x 32: 16 accumulators of 16 floats. With an enabled epilogue, the bias and activation are applied on the way out.
    // B rows come from TB: packed panels (32 values per k) or in place at b + off[k].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512<TEpi, TB>(int kc, float* a, float* b, int* off, float* c, int ldc, int rows, int cols, int mode, float beta,
                                            float* biasRow, float* biasCol, in ActivationParams act)
        where TEpi : struct, IEpilogue
        where TB : struct, IBLayout
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < kc; k++)
        {
            float* bk = TB.Row(b, off, k);
            Vector512<float> b0 = Vector512.Load(bk), b1 = Vector512.Load(bk + 16);
            Vector512<float> av = Vector512.Create(a[0]);
            c00 = Fma512(av, b0, c00); c01 = Fma512(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Fma512(av, b0, c10); c11 = Fma512(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Fma512(av, b0, c20); c21 = Fma512(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Fma512(av, b0, c30); c31 = Fma512(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Fma512(av, b0, c40); c41 = Fma512(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Fma512(av, b0, c50); c51 = Fma512(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Fma512(av, b0, c60); c61 = Fma512(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Fma512(av, b0, c70); c71 = Fma512(av, b1, c71);
            a += 8;
        }

        if (TEpi.Enabled && rows == 8 && cols == 32)
        {
            Vector512<float> col0 = default, col1 = default;
            if (biasCol != null)
            {
                col0 = Vector512.Load(biasCol);
                col1 = Vector512.Load(biasCol + 16);
            }

            if (biasRow != null)
            {
                FinishRow512<TEpi>(c, c00, c01, mode, beta, Vector512.Create(biasRow[0]), col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c10, c11, mode, beta, Vector512.Create(biasRow[1]), col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c20, c21, mode, beta, Vector512.Create(biasRow[2]), col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c30, c31, mode, beta, Vector512.Create(biasRow[3]), col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c40, c41, mode, beta, Vector512.Create(biasRow[4]), col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c50, c51, mode, beta, Vector512.Create(biasRow[5]), col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c60, c61, mode, beta, Vector512.Create(biasRow[6]), col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c70, c71, mode, beta, Vector512.Create(biasRow[7]), col0, col1, act);
            }
            else
            {
                Vector512<float> z = default;
                FinishRow512<TEpi>(c, c00, c01, mode, beta, z, col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c10, c11, mode, beta, z, col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c20, c21, mode, beta, z, col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c30, c31, mode, beta, z, col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c40, c41, mode, beta, z, col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c50, c51, mode, beta, z, col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c60, c61, mode, beta, z, col0, col1, act); c += ldc;
                FinishRow512<TEpi>(c, c70, c71, mode, beta, z, col0, col1, act);
            }

            return;
        }

        if (rows == 8 && cols == 32)
        {
            Store512(c, c00, mode, beta); Store512(c + 16, c01, mode, beta); c += ldc;
            Store512(c, c10, mode, beta); Store512(c + 16, c11, mode, beta); c += ldc;
            Store512(c, c20, mode, beta); Store512(c + 16, c21, mode, beta); c += ldc;
            Store512(c, c30, mode, beta); Store512(c + 16, c31, mode, beta); c += ldc;
            Store512(c, c40, mode, beta); Store512(c + 16, c41, mode, beta); c += ldc;
            Store512(c, c50, mode, beta); Store512(c + 16, c51, mode, beta); c += ldc;
            Store512(c, c60, mode, beta); Store512(c + 16, c61, mode, beta); c += ldc;
            Store512(c, c70, mode, beta); Store512(c + 16, c71, mode, beta);
            return;
        }

        float* tmp = stackalloc float[8 * 32];
        Vector512.Store(c00, tmp); Vector512.Store(c01, tmp + 16);
        Vector512.Store(c10, tmp + 32); Vector512.Store(c11, tmp + 48);
        Vector512.Store(c20, tmp + 64); Vector512.Store(c21, tmp + 80);
        Vector512.Store(c30, tmp + 96); Vector512.Store(c31, tmp + 112);
        Vector512.Store(c40, tmp + 128); Vector512.Store(c41, tmp + 144);
        Vector512.Store(c50, tmp + 160); Vector512.Store(c51, tmp + 176);
        Vector512.Store(c60, tmp + 192); Vector512.Store(c61, tmp + 208);
        Vector512.Store(c70, tmp + 224); Vector512.Store(c71, tmp + 240);
        StorePartial(tmp, 32, c, ldc, rows, cols, mode, beta);
        if (TEpi.Enabled)
        {
            FinishPartial(c, ldc, rows, cols, biasRow, biasCol, act);
        }
    }

    // 6 x 16: 12 accumulators of 8 floats.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, int mode, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> av = Vector256.Create(a[0]);
            c00 = Fma256(av, b0, c00); c01 = Fma256(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Fma256(av, b0, c10); c11 = Fma256(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Fma256(av, b0, c20); c21 = Fma256(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Fma256(av, b0, c30); c31 = Fma256(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Fma256(av, b0, c40); c41 = Fma256(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Fma256(av, b0, c50); c51 = Fma256(av, b1, c51);
            a += 6;
            b += 16;
        }

        if (rows == 6 && cols == 16)
        {
            Store256(c, c00, mode, beta); Store256(c + 8, c01, mode, beta); c += ldc;
            Store256(c, c10, mode, beta); Store256(c + 8, c11, mode, beta); c += ldc;
            Store256(c, c20, mode, beta); Store256(c + 8, c21, mode, beta); c += ldc;
            Store256(c, c30, mode, beta); Store256(c + 8, c31, mode, beta); c += ldc;
            Store256(c, c40, mode, beta); Store256(c + 8, c41, mode, beta); c += ldc;
            Store256(c, c50, mode, beta); Store256(c + 8, c51, mode, beta);
            return;
        }

        float* tmp = stackalloc float[6 * 16];
        Vector256.Store(c00, tmp); Vector256.Store(c01, tmp + 8);
        Vector256.Store(c10, tmp + 16); Vector256.Store(c11, tmp + 24);
        Vector256.Store(c20, tmp + 32); Vector256.Store(c21, tmp + 40);
        Vector256.Store(c30, tmp + 48); Vector256.Store(c31, tmp + 56);
        Vector256.Store(c40, tmp + 64); Vector256.Store(c41, tmp + 72);
        Vector256.Store(c50, tmp + 80); Vector256.Store(c51, tmp + 88);
        StorePartial(tmp, 16, c, ldc, rows, cols, mode, beta);
    }

    // 6 x 8: 12 accumulators of 4 floats.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel128(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, int mode, float beta)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            Vector128<float> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 4);
            Vector128<float> av = Vector128.Create(a[0]);
            c00 = Fma128(av, b0, c00); c01 = Fma128(av, b1, c01);
            av = Vector128.Create(a[1]);
            c10 = Fma128(av, b0, c10); c11 = Fma128(av, b1, c11);
            av = Vector128.Create(a[2]);
            c20 = Fma128(av, b0, c20); c21 = Fma128(av, b1, c21);
            av = Vector128.Create(a[3]);
            c30 = Fma128(av, b0, c30); c31 = Fma128(av, b1, c31);
            av = Vector128.Create(a[4]);
            c40 = Fma128(av, b0, c40); c41 = Fma128(av, b1, c41);
            av = Vector128.Create(a[5]);
            c50 = Fma128(av, b0, c50); c51 = Fma128(av, b1, c51);
            a += 6;
            b += 8;
        }

        if (rows == 6 && cols == 8)
        {
            Store128(c, c00, mode, beta); Store128(c + 4, c01, mode, beta); c += ldc;
            Store128(c, c10, mode, beta); Store128(c + 4, c11, mode, beta); c += ldc;
            Store128(c, c20, mode, beta); Store128(c + 4, c21, mode, beta); c += ldc;
            Store128(c, c30, mode, beta); Store128(c + 4, c31, mode, beta); c += ldc;
            Store128(c, c40, mode, beta); Store128(c + 4, c41, mode, beta); c += ldc;
            Store128(c, c50, mode, beta); Store128(c + 4, c51, mode, beta);
            return;
        }

        float* tmp = stackalloc float[6 * 8];
        Vector128.Store(c00, tmp); Vector128.Store(c01, tmp + 4);
        Vector128.Store(c10, tmp + 8); Vector128.Store(c11, tmp + 12);
        Vector128.Store(c20, tmp + 16); Vector128.Store(c21, tmp + 20);
        Vector128.Store(c30, tmp + 24); Vector128.Store(c31, tmp + 28);
        Vector128.Store(c40, tmp + 32); Vector128.Store(c41, tmp + 36);
        Vector128.Store(c50, tmp + 40); Vector128.Store(c51, tmp + 44);
        StorePartial(tmp, 8, c, ldc, rows, cols, mode, beta);
    }

    // 4 x 4 scalar.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelScalar(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, int mode, float beta)
    {
        float* tmp = stackalloc float[16];
        for (int i = 0; i < 16; i++)
        {
            tmp[i] = 0;
        }

        for (int k = 0; k < kc; k++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            for (int r = 0; r < 4; r++)
            {
                float av = a[r];
                float* t = tmp + (r * 4);
                t[0] += av * b0;
                t[1] += av * b1;
                t[2] += av * b2;
                t[3] += av * b3;
            }

            a += 4;
            b += 4;
        }

        StorePartial(tmp, 4, c, ldc, rows, cols, mode, beta);
    }
}
