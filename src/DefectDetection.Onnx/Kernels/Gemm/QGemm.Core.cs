using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Gemm;

// The blocked, packed, parallel driver behind every integer GEMM and convolution.
internal static unsafe partial class QGemm
{
    internal const int BlockK = 1024; // even: k pairs never straddle blocks; one block up to 1024 keeps the requantization fused
    internal const byte KindPacked = 0, KindU8 = 1, KindS8 = 2;

    /// <summary>One operand: prepacked int16 panels (full K) or a raw u8/s8 matrix with zero point(s).</summary>
    internal struct Operand
    {
        public void* Data;
        public int Ld;
        public bool Trans;
        public byte Kind;
        public int Zero;      // zero point when Zeros is null
        public int* Zeros;    // per row (A) or per column (B)

        public static Operand Prepacked(short* data) => new() { Data = data, Kind = KindPacked };

        public static Operand U8(byte* data, int ld, int zero, int* zeros = null, bool trans = false)
            => new() { Data = data, Ld = ld, Kind = KindU8, Zero = zero, Zeros = zeros, Trans = trans };

        public static Operand S8(sbyte* data, int ld, int zero, int* zeros = null, bool trans = false)
            => new() { Data = data, Ld = ld, Kind = KindS8, Zero = zero, Zeros = zeros, Trans = trans };

        public readonly int Value(long row, long col, int zeroIndex)
        {
            long i = Trans ? (col * Ld) + row : (row * Ld) + col;
            int v = Kind == KindU8 ? ((byte*)Data)[i] : ((sbyte*)Data)[i];
            return v - (Zeros != null ? Zeros[zeroIndex] : Zero);
        }
    }

    /// <summary>The output stage: int32 accumulators (+ bias) or requantized bytes.</summary>
    internal struct Output
    {
        public int* C32;         // int32 output (null when requantizing)
        public int Ldc32;
        public byte* Cq;         // u8/s8 output
        public int Ldcq;
        public int* BiasRow, BiasCol;
        public float* Scales;    // requantization scales
        public bool ScalePerRow, ScalePerColumn;
        public int ZeroPoint, Min, Max;
    }

    internal struct Job : IParallelWork
    {
        public int M, N, K, Width, Mr, Nr, Mc, Nc, TilesN;
        public Operand A, B;
        public Output Out;
        public Int8KernelPaths Paths;

        public readonly void Run(int start, int end)
        {
            for (int t = start; t < end; t++)
            {
                RunTile(in this, t);
            }
        }
    }

    [ThreadStatic]
    private static short[]? t_packA;
    [ThreadStatic]
    private static short[]? t_packB;
    [ThreadStatic]
    private static int[]? t_acc;

    /// <summary>C = A x B into <paramref name="output"/>, with the fast paths in <paramref name="paths"/> (see <see cref="Int8KernelPaths"/>).</summary>
    internal static void Run(int M, int N, int K, int width, in Operand a, in Operand b, in Output output, IntraOpThreadPool? pool,
                             Int8KernelPaths paths = Int8KernelPaths.All)
    {
        if (M <= 0 || N <= 0)
        {
            return;
        }

        (int mr, int nr) = TileOf(width);
        var job = new Job { M = M, N = N, K = K, Width = width, Mr = mr, Nr = nr, A = a, B = b, Out = output, Paths = paths };
        int threads = pool?.DegreeOfParallelism ?? 1;
        job.Mc = mr * Math.Max(1, 128 / mr);
        job.Nc = nr * Math.Max(1, 256 / nr);
        long ops = 2L * M * N * Math.Max(K, 1);
        if (threads > 1 && ops > 200_000)
        {
            while (Tiles(M, job.Mc) * Tiles(N, job.Nc) < threads * 3 && (job.Nc > nr * 2 || job.Mc > mr * 2))
            {
                if (job.Nc > nr * 2 && (Tiles(N, job.Nc) <= Tiles(M, job.Mc) || job.Mc <= mr * 2))
                {
                    job.Nc = nr * Math.Max(1, job.Nc / nr / 2);
                }
                else
                {
                    job.Mc = mr * Math.Max(1, job.Mc / mr / 2);
                }
            }

            job.Nc = BalancedNc(M, N, job.Mc, job.Nc, mr, nr, threads);
        }
        else
        {
            pool = null;
        }

        job.TilesN = Tiles(N, job.Nc);
        if (b.Kind != KindPacked && Tiles(M, job.Mc) > 1 && (long)K * N <= WholePackLimit)
        {
            // Several row tiles would each pack the same B: pack it once, in parallel, and share it.
            int kp = (K + 1) / 2, panels = Tiles(N, nr);
            var pack = new PackBWork { B = b, N = N, K = K, Nr = nr, BytePairs = (paths & Int8KernelPaths.BytePairPack) != 0, Dst = AlignedScratch.Get(ref t_wholeB, Math.Max(1L, (long)panels * nr * kp * 2)) };
            IntraOpThreadPool.For(ops > 200_000 ? pool : null, panels, ref pack);
            job.B = Operand.Prepacked(pack.Dst);
        }

        IntraOpThreadPool.For(pool, Tiles(M, job.Mc) * job.TilesN, ref job);
    }

    internal const long WholePackLimit = 4_000_000;

    /// <summary>
    /// The column block (a multiple of NR, from the given one down to half of it) whose tiles finish earliest on
    /// <paramref name="threads"/> threads, as the pool hands them out: min(tiles, 4 x threads) runs of consecutive
    /// tiles, each taken by the first free thread. (49 tiles in 7 runs of 7 leave one of 2 threads 4 runs: 14% idle.)
    /// </summary>
    internal static int BalancedNc(int M, int N, int mc, int nc, int mr, int nr, int threads)
    {
        int best = nc;
        double bestTime = double.MaxValue;
        for (int c = nc; c >= Math.Max(nr, nc / 2); c -= nr)
        {
            double t = Makespan(M, N, mc, c, mr, nr, Math.Min(threads, 64));
            if (t < bestTime * 0.995)
            {
                best = c;
                bestTime = t;
            }
        }

        return best;
    }

    private static double Makespan(int M, int N, int mc, int nc, int mr, int nr, int threads)
    {
        int tilesN = Tiles(N, nc), tiles = Tiles(M, mc) * tilesN;
        int runs = Math.Max(1, Math.Min(tiles, threads * 4));
        int perRun = (tiles + runs - 1) / runs;
        Span<double> busy = stackalloc double[threads];
        for (int t0 = 0; t0 < tiles; t0 += perRun)
        {
            double cost = 0;
            for (int t = t0; t < Math.Min(tiles, t0 + perRun); t++)
            {
                int mb = Math.Min(mc, M - ((t / tilesN) * mc)), nb = Math.Min(nc, N - ((t % tilesN) * nc));
                cost += (double)Tiles(mb, mr) * mr * Tiles(nb, nr) * nr + 512; // padded tile area + a fixed cost
            }

            int first = 0;
            for (int i = 1; i < threads; i++)
            {
                first = busy[i] < busy[first] ? i : first;
            }

            busy[first] += cost;
        }

        double max = 0;
        foreach (double b in busy)
        {
            max = Math.Max(max, b);
        }

        return max;
    }

    [ThreadStatic]
    private static short[]? t_wholeB;

    private struct PackBWork : IParallelWork
    {
        public Operand B;
        public int N, K, Nr;
        public bool BytePairs;
        public short* Dst;

        public readonly void Run(int start, int end)
        {
            long panelSize = (long)((K + 1) / 2) * Nr * 2;
            for (int p = start; p < end; p++)
            {
                PackPanelsB(B, p * Nr, Math.Min(Nr, N - (p * Nr)), 0, K, Nr, Dst + (p * panelSize), BytePairs);
            }
        }
    }

    private static int Tiles(int n, int block) => (n + block - 1) / block;

    private static void RunTile(in Job j, int tile)
    {
        int m0 = (tile / j.TilesN) * j.Mc, n0 = (tile % j.TilesN) * j.Nc;
        int mb = Math.Min(j.Mc, j.M - m0), nb = Math.Min(j.Nc, j.N - n0);
        int mr = j.Mr, nr = j.Nr;
        int panelsM = (mb + mr - 1) / mr, panelsN = (nb + nr - 1) / nr;
        int K = j.K, kPairsAll = (K + 1) / 2;

        int* acc;
        int ldAcc;
        if (j.Out.C32 != null)
        {
            acc = j.Out.C32 + ((long)m0 * j.Out.Ldc32) + n0;
            ldAcc = j.Out.Ldc32;
        }
        else
        {
            acc = AlignedScratch.Get(ref t_acc, (long)mb * nb);
            ldAcc = nb;
        }

        if (K == 0)
        {
            for (int r = 0; r < mb; r++)
            {
                new Span<int>(acc + ((long)r * ldAcc), nb).Clear();
            }
        }

        // One k block and a requantized output with row (or no) bias and scales: 8-row tiles requantize in registers
        // (a narrow last panel in 8-column slices); tiles of fewer rows go through the accumulator block.
        ref readonly Output oq = ref j.Out;
        bool fused = j.Width == 512 && K > 0 && K <= BlockK && oq.Cq != null && oq.BiasCol == null && oq.ScalePerColumn == false && Avx512BW.IsSupported && Avx512F.VL.IsSupported;
        bool narrowEdge = (j.Paths & Int8KernelPaths.NarrowEdge) != 0, vbmi = (j.Paths & Int8KernelPaths.VbmiNarrowing) != 0;
        for (int k0 = 0; k0 < K; k0 += BlockK)
        {
            int kc = Math.Min(BlockK, K - k0), kp = (kc + 1) / 2;
            short* aBase;
            long aStride;
            if (j.A.Kind == KindPacked)
            {
                aBase = (short*)j.A.Data + ((long)(m0 / mr) * kPairsAll * mr * 2) + ((long)(k0 / 2) * mr * 2);
                aStride = (long)kPairsAll * mr * 2;
            }
            else
            {
                aBase = AlignedScratch.Get(ref t_packA, (long)panelsM * kp * mr * 2);
                aStride = (long)kp * mr * 2;
                PackPanelsA(j.A, m0, mb, k0, kc, mr, aBase);
            }

            short* bBase;
            long bStride;
            if (j.B.Kind == KindPacked)
            {
                bBase = (short*)j.B.Data + ((long)(n0 / nr) * kPairsAll * nr * 2) + ((long)(k0 / 2) * nr * 2);
                bStride = (long)kPairsAll * nr * 2;
            }
            else
            {
                bBase = AlignedScratch.Get(ref t_packB, (long)panelsN * kp * nr * 2);
                bStride = (long)kp * nr * 2;
                PackPanelsB(j.B, n0, nb, k0, kc, nr, bBase, (j.Paths & Int8KernelPaths.BytePairPack) != 0);
            }

            int mode = k0 > 0 ? ModeAdd : ModeStore;
            for (int ip = 0; ip < panelsM; ip++)
            {
                int rows = Math.Min(mr, mb - (ip * mr));
                short* ap = aBase + (ip * aStride);
                int* cRow = acc + ((long)ip * mr * ldAcc);
                for (int jp = 0; jp < panelsN; jp++)
                {
                    int cols = Math.Min(nr, nb - (jp * nr));
                    if (!fused)
                    {
                        MicroKernel(j.Width, kp, ap, bBase + (jp * bStride), cRow + (jp * nr), ldAcc, rows, cols, mode);
                        continue;
                    }

                    int m = m0 + (ip * mr), n = n0 + (jp * nr);
                    if (rows == 8 && cols <= 24 && narrowEdge)
                    {
                        // A narrow last panel: 8-column slices, so that at most 7 padding columns are multiplied. (A last
                        // 4-column slice in 128-bit vectors took as long as an 8-column one, so there is none.)
                        for (int c0 = 0; c0 < cols; c0 += 8)
                        {
                            Kernel512Requant8(kp, ap, bBase + (jp * bStride) + (c0 * 2), oq, m, oq.Cq + ((long)m * oq.Ldcq) + n + c0, Math.Min(8, cols - c0));
                        }

                        continue;
                    }

                    if (rows == 8)
                    {
                        Kernel512Requant(kp, ap, bBase + (jp * bStride), oq, m, oq.Cq + ((long)m * oq.Ldcq) + n, cols, vbmi);
                        continue;
                    }

                    MicroKernel(j.Width, kp, ap, bBase + (jp * bStride), cRow + (jp * nr), ldAcc, rows, cols, ModeStore);
                    for (int r = 0; r < rows; r++)
                    {
                        RequantizeRow(cRow + ((long)r * ldAcc) + (jp * nr), cols, oq.BiasRow != null ? oq.BiasRow[m + r] : 0, null,
                                      oq.ScalePerRow ? oq.Scales[m + r] : oq.Scales[0], null, oq.ZeroPoint, oq.Min, oq.Max,
                                      oq.Cq + ((long)(m + r) * oq.Ldcq) + n, j.Width);
                    }
                }
            }
        }

        if (fused)
        {
            return;
        }

        ref readonly Output o = ref j.Out;
        for (int r = 0; r < mb; r++)
        {
            int* row = acc + ((long)r * ldAcc);
            int m = m0 + r;
            if (o.C32 != null)
            {
                if (o.BiasRow != null)
                {
                    int bias = o.BiasRow[m];
                    for (int c = 0; c < nb; c++)
                    {
                        row[c] += bias;
                    }
                }

                if (o.BiasCol != null)
                {
                    for (int c = 0; c < nb; c++)
                    {
                        row[c] += o.BiasCol[n0 + c];
                    }
                }
            }
            else
            {
                RequantizeRow(row, nb, o.BiasRow != null ? o.BiasRow[m] : 0, o.BiasCol != null ? o.BiasCol + n0 : null,
                              o.ScalePerRow ? o.Scales[m] : o.Scales[0], o.ScalePerColumn ? o.Scales + n0 : null,
                              o.ZeroPoint, o.Min, o.Max, o.Cq + ((long)m * o.Ldcq) + n0, j.Width);
            }
        }
    }

    /// <summary>
    /// dst[i] = clamp(round_even((float)(acc[i] + bias) * scale), min - zp, max - zp) + zp as bytes (u8 or s8 two's complement).
    /// </summary>
    internal static void RequantizeRow(int* acc, int n, int biasScalar, int* biasCol, float scaleScalar, float* scaleCol,
                                       int zp, int min, int max, byte* dst, int width)
        => RequantizeCore<Off>(acc, null, n, biasScalar, biasCol, scaleScalar, scaleCol, zp, min, max, dst, width);

    /// <summary>As <see cref="RequantizeRow"/>, for accumulators held as exact integer-valued floats (|value| &lt; 2^31).</summary>
    internal static void RequantizeFloatRow(float* acc, int n, int biasScalar, float scaleScalar, int zp, int min, int max, byte* dst, int width)
        => RequantizeCore<On>(null, acc, n, biasScalar, null, scaleScalar, null, zp, min, max, dst, width);

    private static void RequantizeCore<TFloat>(int* acc, float* accF, int n, int biasScalar, int* biasCol, float scaleScalar, float* scaleCol,
                                               int zp, int min, int max, byte* dst, int width)
        where TFloat : struct, IConstant
    {
        float lo = min - zp, hi = max - zp;
        int i = 0;
        if (width >= 512 && Avx512BW.IsSupported)
        {
            Vector512<float> vlo = Vector512.Create(lo), vhi = Vector512.Create(hi), vs = Vector512.Create(scaleScalar);
            Vector512<int> vzp = Vector512.Create(zp), vb = Vector512.Create(biasScalar);
            for (; i <= n - 16; i += 16)
            {
                Vector512<int> a = (TFloat.Value != 0 ? Vector512.ConvertToInt32(Vector512.Load(accF + i)) : Vector512.Load(acc + i)) + vb;
                if (biasCol != null)
                {
                    a += Vector512.Load(biasCol + i);
                }

                Vector512<float> sc = scaleCol != null ? Vector512.Load(scaleCol + i) : vs;
                Vector512<float> f = Vector512.Min(Vector512.Max(Vector512.ConvertToSingle(a) * sc, vlo), vhi);
                Vector512<int> q = Vector512.ConvertToInt32(Vector512.Round(f)) + vzp;
                Vector128.Store(Avx512F.ConvertToVector128Byte(q), dst + i); // truncating narrow: the values fit
            }
        }

        if (width >= 256 && Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vlo = Vector256.Create(lo), vhi = Vector256.Create(hi), vs = Vector256.Create(scaleScalar);
            Vector256<int> vzp = Vector256.Create(zp), vb = Vector256.Create(biasScalar);
            for (; i <= n - 16; i += 16)
            {
                Vector256<int> a0, a1;
                if (TFloat.Value != 0)
                {
                    a0 = Vector256.ConvertToInt32(Vector256.Load(accF + i)) + vb;
                    a1 = Vector256.ConvertToInt32(Vector256.Load(accF + i + 8)) + vb;
                }
                else
                {
                    a0 = Vector256.Load(acc + i) + vb;
                    a1 = Vector256.Load(acc + i + 8) + vb;
                }

                if (biasCol != null)
                {
                    a0 += Vector256.Load(biasCol + i);
                    a1 += Vector256.Load(biasCol + i + 8);
                }

                Vector256<float> s0 = scaleCol != null ? Vector256.Load(scaleCol + i) : vs;
                Vector256<float> s1 = scaleCol != null ? Vector256.Load(scaleCol + i + 8) : vs;
                Vector256<float> f0 = Vector256.Min(Vector256.Max(Vector256.ConvertToSingle(a0) * s0, vlo), vhi);
                Vector256<float> f1 = Vector256.Min(Vector256.Max(Vector256.ConvertToSingle(a1) * s1, vlo), vhi);
                Vector256<int> q0 = Vector256.ConvertToInt32(Vector256.Round(f0)) + vzp;
                Vector256<int> q1 = Vector256.ConvertToInt32(Vector256.Round(f1)) + vzp;
                Vector256<ushort> w = Vector256.Narrow(q0, q1).AsUInt16(); // values fit: truncation keeps the low bytes
                Vector256<byte> bytes = Vector256.Narrow(w, w);
                Vector128.Store(bytes.GetLower(), dst + i);
            }
        }

        for (; i < n; i++)
        {
            int a = (TFloat.Value != 0 ? (int)accF[i] : acc[i]) + biasScalar + (biasCol != null ? biasCol[i] : 0);
            float v = a * (scaleCol != null ? scaleCol[i] : scaleScalar);
            v = Math.Clamp(v, lo, hi);
            dst[i] = (byte)((int)MathF.Round(v, MidpointRounding.ToEven) + zp);
        }
    }

    /// <summary>Packs rows m0..m0+mb, k0..k0+kc of a raw A as int16 (value - zero point) in MR-row panels of k pairs.</summary>
    internal static void PackPanelsA(in Operand a, int m0, int mb, int k0, int kc, int mr, short* dst)
    {
        int kp = (kc + 1) / 2;
        for (int p = 0; p < mb; p += mr)
        {
            int rows = Math.Min(mr, mb - p);
            for (int r = 0; r < mr; r++)
            {
                int m = m0 + p + r;
                short* d = dst + (r * 2);
                if (r >= rows)
                {
                    for (int k = 0; k < kp * 2; k++)
                    {
                        d[((k >> 1) * mr * 2) + (k & 1)] = 0;
                    }

                    continue;
                }

                if (!a.Trans && a.Kind == KindU8)
                {
                    byte* src = (byte*)a.Data + ((long)m * a.Ld) + k0;
                    short z = (short)(a.Zeros != null ? a.Zeros[m] : a.Zero);
                    for (int k = 0; k < kc; k++)
                    {
                        d[((k >> 1) * mr * 2) + (k & 1)] = (short)(src[k] - z);
                    }
                }
                else
                {
                    for (int k = 0; k < kc; k++)
                    {
                        d[((k >> 1) * mr * 2) + (k & 1)] = (short)a.Value(m, k0 + k, m);
                    }
                }

                if ((kc & 1) != 0)
                {
                    d[((kc >> 1) * mr * 2) + 1] = 0;
                }
            }

            dst += kp * mr * 2;
        }
    }

    /// <summary>
    /// Packs columns n0..n0+nb, k0..k0+kc of a raw B as int16 (value - zero point) in NR-column panels of k pairs
    /// (u8 rows by byte pairs where <paramref name="bytePairs"/> and AVX-512BW allow, see <see cref="Int8KernelPaths.BytePairPack"/>).
    /// </summary>
    internal static void PackPanelsB(in Operand b, int n0, int nb, int k0, int kc, int nr, short* dst, bool bytePairs = true)
    {
        int kp = (kc + 1) / 2;
        for (int p = 0; p < nb; p += nr)
        {
            int cols = Math.Min(nr, nb - p);
            if (!b.Trans && b.Kind == KindU8 && b.Zeros == null && PackU8PairsFast((byte*)b.Data + ((long)k0 * b.Ld) + n0 + p, b.Ld, kc, nr, cols, b.Zero, (int*)dst, bytePairs))
            {
            }
            else if (!b.Trans && b.Kind == KindU8 && b.Zeros == null)
            {
                short z = (short)b.Zero;
                for (int k = 0; k < kc; k++)
                {
                    byte* src = (byte*)b.Data + ((long)(k0 + k) * b.Ld) + n0 + p;
                    short* d = dst + ((k >> 1) * nr * 2) + (k & 1);
                    int c = 0;
                    for (; c < cols; c++)
                    {
                        d[c * 2] = (short)(src[c] - z);
                    }

                    for (; c < nr; c++)
                    {
                        d[c * 2] = 0;
                    }
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    short* d = dst + ((k >> 1) * nr * 2) + (k & 1);
                    int c = 0;
                    for (; c < cols; c++)
                    {
                        int n = n0 + p + c;
                        d[c * 2] = (short)b.Value(k0 + k, n, n);
                    }

                    for (; c < nr; c++)
                    {
                        d[c * 2] = 0;
                    }
                }
            }

            if ((kc & 1) != 0)
            {
                short* d = dst + ((kc >> 1) * nr * 2) + 1;
                for (int c = 0; c < nr; c++)
                {
                    d[c * 2] = 0;
                }
            }

            dst += kp * nr * 2;
        }
    }

    // One B panel (cols valid columns, the rest zero) from u8 rows: for each k pair, int32 lanes
    // (x[k] - z) | (x[k+1] - z) << 16. False if no ISA path (only the 512-bit one takes a partial panel).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool PackU8PairsFast(byte* src, int ld, int kc, int nr, int cols, int zero, int* dst, bool bytePairs)
    {
        if (nr == 32 && Avx512BW.IsSupported && Avx512BW.VL.IsSupported && bytePairs)
        {
            // Rows k and k + 1 interleaved as bytes (per 128-bit lane, lanes put back in order), widened to int16.
            // Columns past cols are read as z (masked loads touch no memory there), so they pack to 0.
            var z16 = Vector512.Create((short)zero);
            var pad = Vector256.Create((byte)zero); // also an odd K's last pair: (x - z, z - z)
            Vector256<byte> mask = Vector256.LessThan(Vector256<byte>.Indices, Vector256.Create((byte)cols));
            for (int k = 0; k < kc; k += 2, src += 2 * (long)ld, dst += 32)
            {
                Vector256<byte> r0 = cols == 32 ? Vector256.Load(src) : Avx512BW.VL.MaskLoad(src, mask, pad);
                Vector256<byte> r1 = k + 1 >= kc ? pad : cols == 32 ? Vector256.Load(src + ld) : Avx512BW.VL.MaskLoad(src + ld, mask, pad);
                Vector256<byte> lo = Avx2.UnpackLow(r0, r1), hi = Avx2.UnpackHigh(r0, r1);
                Vector512.Store(Avx512BW.ConvertToVector512Int16(Avx2.Permute2x128(lo, hi, 0x20)) - z16, (short*)dst);
                Vector512.Store(Avx512BW.ConvertToVector512Int16(Avx2.Permute2x128(lo, hi, 0x31)) - z16, (short*)(dst + 16));
            }

            return true;
        }

        if (cols != nr)
        {
            return false;
        }

        if (nr == 32 && Avx512F.IsSupported)
        {
            var z = Vector512.Create(zero);
            var mask = Vector512.Create(0xFFFF);
            for (int k = 0; k < kc; k += 2, src += 2 * (long)ld, dst += 32)
            {
                for (int c = 0; c < 32; c += 16)
                {
                    Vector512<int> lo = Avx512F.ConvertToVector512Int32(Vector128.Load(src + c)) - z;
                    Vector512<int> hi = k + 1 < kc ? Avx512F.ConvertToVector512Int32(Vector128.Load(src + ld + c)) - z : Vector512<int>.Zero;
                    Vector512.Store((lo & mask) | (hi << 16), dst + c);
                }
            }

            return true;
        }

        if (nr == 16 && Avx2.IsSupported)
        {
            var z = Vector256.Create(zero);
            var mask = Vector256.Create(0xFFFF);
            for (int k = 0; k < kc; k += 2, src += 2 * (long)ld, dst += 16)
            {
                for (int c = 0; c < 16; c += 8)
                {
                    Vector256<int> lo = Avx2.ConvertToVector256Int32(src + c) - z;
                    Vector256<int> hi = k + 1 < kc ? Avx2.ConvertToVector256Int32(src + ld + c) - z : Vector256<int>.Zero;
                    Vector256.Store((lo & mask) | (hi << 16), dst + c);
                }
            }

            return true;
        }

        if (nr == 8 && Sse41.IsSupported)
        {
            var z = Vector128.Create(zero);
            var mask = Vector128.Create(0xFFFF);
            for (int k = 0; k < kc; k += 2, src += 2 * (long)ld, dst += 8)
            {
                for (int c = 0; c < 8; c += 4)
                {
                    Vector128<int> lo = Sse41.ConvertToVector128Int32(src + c) - z;
                    Vector128<int> hi = k + 1 < kc ? Sse41.ConvertToVector128Int32(src + ld + c) - z : Vector128<int>.Zero;
                    Vector128.Store((lo & mask) | (hi << 16), dst + c);
                }
            }

            return true;
        }

        return false;
    }

    /// <summary>The 64-byte aligned start of the panels in an array from <see cref="PackWholeB"/> (pinned: the address never moves).</summary>
    internal static short* AlignedPanels(short* data) => (short*)(((nint)data + 63) & ~(nint)63);

    /// <summary>Packs a whole raw A (M x K) into full-K panels.</summary>
    internal static short[] PackWholeA(in Operand a, int M, int K, int width)
    {
        (int mr, _) = TileOf(width);
        int panels = (M + mr - 1) / mr, kp = (K + 1) / 2;
        short[] data = new short[Math.Max(1, (long)panels * mr * kp * 2)];
        fixed (short* d = data)
        {
            for (int p = 0; p < panels; p++)
            {
                PackPanelsA(a, p * mr, Math.Min(mr, M - (p * mr)), 0, K, mr, d + ((long)p * kp * mr * 2));
            }
        }

        return data;
    }

    /// <summary>
    /// Packs a whole raw B (K x N) into full-K panels, in a pinned array whose panels start at
    /// <see cref="AlignedPanels"/> (64-byte aligned: 512-bit loads of a panel never straddle cache lines).
    /// </summary>
    internal static short[] PackWholeB(in Operand b, int K, int N, int width)
    {
        (_, int nr) = TileOf(width);
        int panels = (N + nr - 1) / nr, kp = (K + 1) / 2;
        short[] data = GC.AllocateArray<short>((int)Math.Max(1, (long)panels * nr * kp * 2) + 32, pinned: true);
        fixed (short* d0 = data)
        {
            short* d = AlignedPanels(d0);
            for (int p = 0; p < panels; p++)
            {
                PackPanelsB(b, p * nr, Math.Min(nr, N - (p * nr)), 0, K, nr, d + ((long)p * kp * nr * 2));
            }
        }

        return data;
    }
}
