using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Gemm;

// The blocked, packed, parallel driver behind every float GEMM and convolution.
// Packed A: panels of MR rows, each K x MR (k-major). Packed B: panels of NR columns, each K x NR.
// A panel set packed for the full K has panel stride K * MR; a block packed per call has stride kc * MR.
internal static unsafe partial class Sgemm
{
    internal const int BlockK = 256;

    /// <summary>One operand: either prepacked panels or a raw row-major matrix packed per block.</summary>
    internal struct Operand
    {
        public float* Data;      // raw matrix, or packed panels (full K)
        public int Ld;           // raw: row stride
        public bool Trans;       // raw: stored transposed
        public bool Packed;      // Data holds full-K panels
        public float Scale;      // raw: multiplier applied while packing (alpha)
        public int* Offsets;     // implicit B (512-bit kernels only): B[k][n] = Data[Offsets[k] + n], read in place

        public static Operand Raw(float* data, int ld, bool trans, float scale = 1f)
            => new() { Data = data, Ld = ld, Trans = trans, Scale = scale };

        public static Operand Prepacked(float* data) => new() { Data = data, Packed = true, Scale = 1f };

        /// <summary>
        /// B[k][n] = data[offsets[k] + n], read in place by the micro-kernel (a convolution on a padded image); the
        /// reads run up to NR - 1 values past column N - 1, so the data must extend that far. Width 512 only.
        /// </summary>
        public static Operand Implicit(float* data, int* offsets) => new() { Data = data, Offsets = offsets, Scale = 1f };
    }

    /// <summary>Everything one GEMM call needs; shared read-only by the worker threads.</summary>
    internal struct Job : IParallelWork
    {
        public int M, N, K, Width, Mr, Nr, Mc, Nc, TilesM, TilesN, PanelsM, PanelsN;
        public Operand A, B;
        public float* C;
        public int Ldc;
        public float Beta;
        public float* BiasRow;   // per row of C, or null
        public float* BiasCol;   // per column of C, or null
        public ActivationParams Act;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end)
        {
            for (int t = start; t < end; t++)
            {
                RunTile(in this, t);
            }
        }
    }

    [ThreadStatic]
    private static float[]? t_packA;
    [ThreadStatic]
    private static float[]? t_packB;

    /// <summary>Computes the GEMM described by the operands on the pool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Run(int M, int N, int K, int width, in Operand a, in Operand b, float* c, int ldc, float beta,
                             float* biasRow, float* biasCol, ActivationParams act, IntraOpThreadPool? pool)
    {
        if (M <= 0 || N <= 0)
        {
            return;
        }

        (int mr, int nr) = TileOf(width);
        var job = new Job
        {
            M = M, N = N, K = K, Width = width, Mr = mr, Nr = nr,
            A = a, B = b, C = c, Ldc = ldc, Beta = beta, BiasRow = biasRow, BiasCol = biasCol, Act = act,
        };

        // Block sizes: A block (Mc x kc) in L2, B micro-panel streamed. Tiles split the MR-row and NR-column
        // panels as evenly as possible (sizes differ by at most one panel).
        int threads = pool?.DegreeOfParallelism ?? 1;
        job.PanelsM = Tiles(M, mr);
        job.PanelsN = Tiles(N, nr);
        int tilesM = Tiles(job.PanelsM, Math.Max(1, 128 / mr));
        int tilesN = Tiles(job.PanelsN, Math.Max(1, 256 / nr));
        long flops = 2L * M * N * Math.Max(K, 1);
        if (threads > 1 && flops > 200_000)
        {
            // The pool hands out at most 4 chunks per thread, each a run of equal tile counts: make the tile count
            // a multiple of that (so no thread is left with one more chunk than the others), or close to it.
            // Split the larger operand's dimension first: tiles that share a row block each read that block of A
            // again (and tiles sharing a column block re-read B), so a weight-heavy GEMM (M >= N) splits rows.
            int unit = threads * 4;
            int want = Math.Max(unit, Tiles(tilesM * tilesN, unit) * unit);
            if (M >= N)
            {
                tilesM = Math.Min(job.PanelsM, Tiles(want, tilesN));
                if (tilesM * tilesN < want)
                {
                    tilesN = Math.Min(job.PanelsN, Tiles(want, tilesM));
                }
            }
            else
            {
                tilesN = Math.Min(job.PanelsN, Tiles(want, tilesM));
                if (tilesM * tilesN < want)
                {
                    tilesM = Math.Min(job.PanelsM, Tiles(want, tilesN));
                }
            }
        }
        else
        {
            pool = null;
        }

        job.TilesM = tilesM;
        job.TilesN = tilesN;
        job.Mc = Tiles(job.PanelsM, tilesM) * mr; // the largest tile
        job.Nc = Tiles(job.PanelsN, tilesN) * nr;
        if (!b.Packed && b.Offsets == null && K > 0 && tilesM > 1 && (long)K * N <= WholePackLimit)
        {
            // Several row tiles would each pack the same B: pack it once, in parallel, and share it.
            int panels = Tiles(N, nr);
            var pack = new PackBWork { B = b, N = N, K = K, Nr = nr, Dst = AlignedScratch.Get(ref t_wholeB, (long)panels * nr * K) };
            IntraOpThreadPool.For(flops > 200_000 ? pool : null, panels, ref pack);
            job.B = Operand.Prepacked(pack.Dst);
        }

        int tiles = tilesM * tilesN;
        IntraOpThreadPool.For(pool, tiles, ref job);
    }

    internal const long WholePackLimit = 4_000_000;

    [ThreadStatic]
    private static float[]? t_wholeB;

    private struct PackBWork : IParallelWork
    {
        public Operand B;
        public int N, K, Nr;
        public float* Dst;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end)
        {
            for (int p = start; p < end; p++)
            {
                PackPanelsB(B, N, p * Nr, Math.Min(Nr, N - (p * Nr)), 0, K, Nr, Dst + ((long)p * K * Nr));
            }
        }
    }

    private static int Tiles(int n, int block) => (n + block - 1) / block;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunTile(in Job j, int tile)
    {
        int mr = j.Mr, nr = j.Nr;
        int tm = tile / j.TilesN, tn = tile % j.TilesN;
        int pm0 = (int)((long)tm * j.PanelsM / j.TilesM), pm1 = (int)((long)(tm + 1) * j.PanelsM / j.TilesM);
        int pn0 = (int)((long)tn * j.PanelsN / j.TilesN), pn1 = (int)((long)(tn + 1) * j.PanelsN / j.TilesN);
        int m0 = pm0 * mr, n0 = pn0 * nr;
        int mb = Math.Min(pm1 * mr, j.M) - m0, nb = Math.Min(pn1 * nr, j.N) - n0;
        int panelsM = (mb + mr - 1) / mr, panelsN = (nb + nr - 1) / nr;
        int K = j.K;
        bool fused = j.Width == 512 && (j.BiasRow != null || j.BiasCol != null || j.Act.Kind != FusedActivation.None) && CanFuse(j.Act.Kind);
        if (K == 0)
        {
            for (int r = 0; r < mb; r++)
            {
                var row = new Span<float>(j.C + ((long)(m0 + r) * j.Ldc) + n0, nb);
                if (j.Beta == 0)
                {
                    row.Clear();
                }
                else
                {
                    TensorPrimitives.Multiply(row, j.Beta, row);
                }
            }
        }

        for (int k0 = 0; k0 < K; k0 += BlockK)
        {
            int kc = Math.Min(BlockK, K - k0);
            float* aBase;
            long aStride;
            if (j.A.Packed)
            {
                aBase = j.A.Data + ((long)(m0 / mr) * K * mr) + ((long)k0 * mr);
                aStride = (long)K * mr;
            }
            else
            {
                aBase = AlignedScratch.Get(ref t_packA, (long)panelsM * kc * mr);
                aStride = (long)kc * mr;
                PackPanelsA(j.A, j.M, m0, mb, k0, kc, mr, aBase);
            }

            float* bBase;
            long bStride;
            int* off = null;
            if (j.B.Offsets != null)
            {
                bBase = j.B.Data + n0;
                bStride = nr;
                off = j.B.Offsets + k0;
            }
            else if (j.B.Packed)
            {
                bBase = j.B.Data + ((long)(n0 / nr) * K * nr) + ((long)k0 * nr);
                bStride = (long)K * nr;
            }
            else
            {
                bBase = AlignedScratch.Get(ref t_packB, (long)panelsN * kc * nr);
                bStride = (long)kc * nr;
                PackPanelsB(j.B, j.N, n0, nb, k0, kc, nr, bBase);
            }

            int mode = k0 > 0 ? ModeAdd : j.Beta == 0 ? ModeStore : ModeBeta;
            bool last = k0 + kc >= K;
            for (int ip = 0; ip < panelsM; ip++)
            {
                int rows = Math.Min(mr, mb - (ip * mr));
                float* ap = aBase + (ip * aStride);
                float* cRow = j.C + ((long)(m0 + (ip * mr)) * j.Ldc) + n0;
                for (int jp = 0; jp < panelsN; jp++)
                {
                    int cols = Math.Min(nr, nb - (jp * nr));
                    if (last && fused)
                    {
                        MicroKernelFused(kc, ap, bBase + (jp * bStride), off, cRow + (jp * nr), j.Ldc, rows, cols, mode, j.Beta,
                                         j.BiasRow != null ? j.BiasRow + m0 + (ip * mr) : null,
                                         j.BiasCol != null ? j.BiasCol + n0 + (jp * nr) : null, j.Act);
                    }
                    else if (off != null)
                    {
                        Kernel512<NoEpilogue, BOffsets>(kc, ap, bBase + (jp * bStride), off, cRow + (jp * nr), j.Ldc, rows, cols, mode, j.Beta, null, null, default);
                    }
                    else
                    {
                        MicroKernel(j.Width, kc, ap, bBase + (jp * bStride), cRow + (jp * nr), j.Ldc, rows, cols, mode, j.Beta);
                    }
                }
            }
        }

        if ((!fused || K == 0) && (j.BiasRow != null || j.BiasCol != null || j.Act.Kind != FusedActivation.None))
        {
            for (int r = 0; r < mb; r++)
            {
                var row = new Span<float>(j.C + ((long)(m0 + r) * j.Ldc) + n0, nb);
                if (j.BiasRow != null)
                {
                    TensorPrimitives.Add(row, j.BiasRow[m0 + r], row);
                }

                if (j.BiasCol != null)
                {
                    TensorPrimitives.Add(row, new ReadOnlySpan<float>(j.BiasCol + n0, nb), row);
                }

                j.Act.Apply(row);
            }
        }
    }

    /// <summary>Packs rows m0..m0+mb, k0..k0+kc of a raw A into MR-row panels (zero padded), scaled by A.Scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackPanelsA(in Operand a, int M, int m0, int mb, int k0, int kc, int mr, float* dst)
    {
        float s = a.Scale;
        for (int p = 0; p < mb; p += mr)
        {
            int rows = Math.Min(mr, mb - p);
            if (!a.Trans)
            {
                for (int r = 0; r < rows; r++)
                {
                    float* src = a.Data + ((long)(m0 + p + r) * a.Ld) + k0;
                    for (int k = 0; k < kc; k++)
                    {
                        dst[(k * mr) + r] = s * src[k];
                    }
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* src = a.Data + ((long)(k0 + k) * a.Ld) + m0 + p;
                    for (int r = 0; r < rows; r++)
                    {
                        dst[(k * mr) + r] = s * src[r];
                    }
                }
            }

            if (rows < mr)
            {
                for (int k = 0; k < kc; k++)
                {
                    for (int r = rows; r < mr; r++)
                    {
                        dst[(k * mr) + r] = 0;
                    }
                }
            }

            dst += kc * mr;
        }
    }

    /// <summary>Packs columns n0..n0+nb, k0..k0+kc of a raw B into NR-column panels (zero padded), scaled by B.Scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackPanelsB(in Operand b, int N, int n0, int nb, int k0, int kc, int nr, float* dst)
    {
        float s = b.Scale;
        for (int p = 0; p < nb; p += nr)
        {
            int cols = Math.Min(nr, nb - p);
            if (!b.Trans && cols == nr && s == 1f)
            {
                float* src = b.Data + ((long)k0 * b.Ld) + n0 + p;
                CopyRows(src, b.Ld, dst, nr, kc);
            }
            else if (!b.Trans)
            {
                for (int k = 0; k < kc; k++)
                {
                    float* src = b.Data + ((long)(k0 + k) * b.Ld) + n0 + p;
                    float* d = dst + (k * nr);
                    var dSpan = new Span<float>(d, cols);
                    if (s == 1f)
                    {
                        new ReadOnlySpan<float>(src, cols).CopyTo(dSpan);
                    }
                    else
                    {
                        TensorPrimitives.Multiply(new ReadOnlySpan<float>(src, cols), s, dSpan);
                    }

                    for (int c = cols; c < nr; c++)
                    {
                        d[c] = 0;
                    }
                }
            }
            else
            {
                for (int c = 0; c < cols; c++)
                {
                    float* src = b.Data + ((long)(n0 + p + c) * b.Ld) + k0;
                    for (int k = 0; k < kc; k++)
                    {
                        dst[(k * nr) + c] = s * src[k];
                    }
                }

                if (cols < nr)
                {
                    for (int k = 0; k < kc; k++)
                    {
                        for (int c = cols; c < nr; c++)
                        {
                            dst[(k * nr) + c] = 0;
                        }
                    }
                }
            }

            dst += kc * nr;
        }
    }

    // Copies kc rows of nr floats (nr = 32, 16, 8 or 4) from a strided source into a dense panel.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRows(float* src, int ld, float* dst, int nr, int kc)
    {
        if (nr == 32 && Vector512.IsHardwareAccelerated)
        {
            for (int k = 0; k < kc; k++, src += ld, dst += 32)
            {
                Vector512.Store(Vector512.Load(src), dst);
                Vector512.Store(Vector512.Load(src + 16), dst + 16);
            }
        }
        else if (nr == 16 && Vector256.IsHardwareAccelerated)
        {
            for (int k = 0; k < kc; k++, src += ld, dst += 16)
            {
                Vector256.Store(Vector256.Load(src), dst);
                Vector256.Store(Vector256.Load(src + 8), dst + 8);
            }
        }
        else if (nr == 8 && Vector128.IsHardwareAccelerated)
        {
            for (int k = 0; k < kc; k++, src += ld, dst += 8)
            {
                Vector128.Store(Vector128.Load(src), dst);
                Vector128.Store(Vector128.Load(src + 4), dst + 4);
            }
        }
        else
        {
            for (int k = 0; k < kc; k++, src += ld, dst += nr)
            {
                for (int c = 0; c < nr; c++)
                {
                    dst[c] = src[c];
                }
            }
        }
    }

    /// <summary>Packs a whole raw A (M x K) into full-K panels for the given width; returns the array.</summary>
    internal static float[] PackWholeA(in Operand a, int M, int K, int width)
    {
        (int mr, _) = TileOf(width);
        int panels = (M + mr - 1) / mr;
        float[] data = new float[Math.Max(1, (long)panels * mr * K)];
        fixed (float* d = data)
        {
            // Full-K panels: each panel is K x MR; pack in K blocks into the right offsets.
            for (int p = 0; p < panels; p++)
            {
                PackPanelsA(a, M, p * mr, Math.Min(mr, M - (p * mr)), 0, K, mr, d + ((long)p * K * mr));
            }
        }

        return data;
    }

    /// <summary>Packs a whole raw B (K x N) into full-K panels for the given width; returns the array.</summary>
    internal static float[] PackWholeB(in Operand b, int K, int N, int width)
    {
        (_, int nr) = TileOf(width);
        int panels = (N + nr - 1) / nr;
        float[] data = new float[Math.Max(1, (long)panels * nr * K)];
        fixed (float* d = data)
        {
            for (int p = 0; p < panels; p++)
            {
                PackPanelsB(b, N, p * nr, Math.Min(nr, N - (p * nr)), 0, K, nr, d + ((long)p * K * nr));
            }
        }

        return data;
    }
}
