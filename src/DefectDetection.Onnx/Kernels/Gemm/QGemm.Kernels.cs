using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DefectDetection.Onnx.Kernels.Gemm;

// Integer micro-kernels. Both operands are packed as int16 with their zero points already subtracted, in k pairs:
// A panel [K/2][MR][2], B panel [K/2][NR][2]. One pmaddwd multiplies a broadcast (a[k], a[k+1]) pair with NR
// (b[k], b[k+1]) pairs and adds the two products into int32: exact, since |a|, |b| <= 255 can never saturate.
// (.NET exposes the 512-bit VNNI dot product only through AVX10, which this class of CPU lacks.)
internal static unsafe partial class QGemm
{
    internal const int ModeStore = 0, ModeAdd = 1;

    /// <summary>The integer kernel width for a requested vector width (what the ISA offers at or below it).</summary>
    internal static int IntWidth(int requested)
        => requested >= 512 && Avx512BW.IsSupported ? 512
         : requested >= 256 && Avx2.IsSupported ? 256
         : requested >= 128 && Sse2.IsSupported ? 128
         : 0;

    /// <summary>Micro-tile rows (MR) and columns (NR) for an integer kernel width.</summary>
    internal static (int Mr, int Nr) TileOf(int width) => width switch
    {
        512 => (8, 32),
        256 => (6, 16),
        128 => (6, 8),
        _ => (4, 4),
    };

    internal static void MicroKernel(int width, int kPairs, short* a, short* b, int* c, int ldc, int rows, int cols, int mode)
    {
        switch (width)
        {
            case 512 when rows == 1:
                Kernel512Row1(kPairs, a, b, c, cols, mode);
                break;
            case 512:
                Kernel512(kPairs, a, b, c, ldc, rows, cols, mode);
                break;
            case 256:
                Kernel256(kPairs, a, b, c, ldc, rows, cols, mode);
                break;
            case 128:
                Kernel128(kPairs, a, b, c, ldc, rows, cols, mode);
                break;
            default:
                KernelScalar(kPairs, a, b, c, ldc, rows, cols, mode);
                break;
        }
    }

    private static void StorePartial(int* tmp, int nr, int* c, int ldc, int rows, int cols, int mode)
    {
        for (int r = 0; r < rows; r++)
        {
            int* src = tmp + (r * nr);
            int* dst = c + ((long)r * ldc);
            for (int j = 0; j < cols; j++)
            {
                dst[j] = mode == ModeAdd ? dst[j] + src[j] : src[j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(int* p, Vector512<int> v, int mode)
        => Vector512.Store(mode == ModeAdd ? v + Vector512.Load(p) : v, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(int* p, Vector256<int> v, int mode)
        => Vector256.Store(mode == ModeAdd ? v + Vector256.Load(p) : v, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(int* p, Vector128<int> v, int mode)
        => Vector128.Store(mode == ModeAdd ? v + Vector128.Load(p) : v, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot512(Vector512<short> b, int* a, Vector512<int> acc)
        => acc + Avx512BW.MultiplyAddAdjacent(b, Vector512.Create(*a).AsInt16());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot256(Vector256<short> b, int* a, Vector256<int> acc)
        => acc + Avx2.MultiplyAddAdjacent(b, Vector256.Create(*a).AsInt16());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot128(Vector128<short> b, int* a, Vector128<int> acc)
        => acc + Sse2.MultiplyAddAdjacent(b, Vector128.Create(*a).AsInt16());

    // A single valid row: k pairs unrolled by 2 into independent accumulators instead of 7 padding rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512Row1(int kPairs, short* a, short* b, int* c, int cols, int mode)
    {
        Vector512<int> s0 = default, s1 = default, t0 = default, t1 = default;
        int* ap = (int*)a;
        int k = 0;
        for (; k + 2 <= kPairs; k += 2, ap += 16, b += 128)
        {
            s0 = Dot512(Vector512.Load(b), ap, s0);
            s1 = Dot512(Vector512.Load(b + 32), ap, s1);
            t0 = Dot512(Vector512.Load(b + 64), ap + 8, t0);
            t1 = Dot512(Vector512.Load(b + 96), ap + 8, t1);
        }

        for (; k < kPairs; k++, ap += 8, b += 64)
        {
            s0 = Dot512(Vector512.Load(b), ap, s0);
            s1 = Dot512(Vector512.Load(b + 32), ap, s1);
        }

        s0 += t0;
        s1 += t1;
        if (cols == 32)
        {
            Store512(c, s0, mode);
            Store512(c + 16, s1, mode);
            return;
        }

        int* tmp = stackalloc int[32];
        Vector512.Store(s0, tmp);
        Vector512.Store(s1, tmp + 16);
        StorePartial(tmp, 32, c, 0, 1, cols, mode);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(int kPairs, short* a, short* b, int* c, int ldc, int rows, int cols, int mode)
    {
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        int* ap = (int*)a;
        for (int k = 0; k < kPairs; k++)
        {
            Vector512<short> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 32);
            c00 = Dot512(b0, ap, c00); c01 = Dot512(b1, ap, c01);
            c10 = Dot512(b0, ap + 1, c10); c11 = Dot512(b1, ap + 1, c11);
            c20 = Dot512(b0, ap + 2, c20); c21 = Dot512(b1, ap + 2, c21);
            c30 = Dot512(b0, ap + 3, c30); c31 = Dot512(b1, ap + 3, c31);
            c40 = Dot512(b0, ap + 4, c40); c41 = Dot512(b1, ap + 4, c41);
            c50 = Dot512(b0, ap + 5, c50); c51 = Dot512(b1, ap + 5, c51);
            c60 = Dot512(b0, ap + 6, c60); c61 = Dot512(b1, ap + 6, c61);
            c70 = Dot512(b0, ap + 7, c70); c71 = Dot512(b1, ap + 7, c71);
            ap += 8;
            b += 64;
        }

        if (rows == 8 && cols == 32)
        {
            Store512(c, c00, mode); Store512(c + 16, c01, mode); c += ldc;
            Store512(c, c10, mode); Store512(c + 16, c11, mode); c += ldc;
            Store512(c, c20, mode); Store512(c + 16, c21, mode); c += ldc;
            Store512(c, c30, mode); Store512(c + 16, c31, mode); c += ldc;
            Store512(c, c40, mode); Store512(c + 16, c41, mode); c += ldc;
            Store512(c, c50, mode); Store512(c + 16, c51, mode); c += ldc;
            Store512(c, c60, mode); Store512(c + 16, c61, mode); c += ldc;
            Store512(c, c70, mode); Store512(c + 16, c71, mode);
            return;
        }

        int* tmp = stackalloc int[8 * 32];
        Vector512.Store(c00, tmp); Vector512.Store(c01, tmp + 16);
        Vector512.Store(c10, tmp + 32); Vector512.Store(c11, tmp + 48);
        Vector512.Store(c20, tmp + 64); Vector512.Store(c21, tmp + 80);
        Vector512.Store(c30, tmp + 96); Vector512.Store(c31, tmp + 112);
        Vector512.Store(c40, tmp + 128); Vector512.Store(c41, tmp + 144);
        Vector512.Store(c50, tmp + 160); Vector512.Store(c51, tmp + 176);
        Vector512.Store(c60, tmp + 192); Vector512.Store(c61, tmp + 208);
        Vector512.Store(c70, tmp + 224); Vector512.Store(c71, tmp + 240);
        StorePartial(tmp, 32, c, ldc, rows, cols, mode);
    }

    /// <summary>
    /// A full-height 8 x 32 tile (the first <paramref name="cols"/> columns valid, the packed panels zero-padded) over
    /// all of K with the requantization fused into the store: row r of the tile (output row m + r) becomes
    /// <paramref name="cols"/> bytes at dst + r * o.Ldcq, exactly as <see cref="RequantizeRow"/> (bias and scale per
    /// row or one for all; no column bias or column scales). <paramref name="vbmi"/>: narrow by one byte permute where
    /// AVX512-VBMI is supported (false: vpmovdb, see <see cref="Int8KernelPaths.VbmiNarrowing"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel512Requant(int kPairs, short* a, short* b, in Output o, int m, byte* dst, int cols = 32, bool vbmi = true)
    {
        // The accumulators start at the row bias: (bias + sum) wraps exactly as (sum + bias).
        int* br = o.BiasRow;
        Vector512<int> c00 = br != null ? Vector512.Create(br[m]) : default, c01 = c00;
        Vector512<int> c10 = br != null ? Vector512.Create(br[m + 1]) : default, c11 = c10;
        Vector512<int> c20 = br != null ? Vector512.Create(br[m + 2]) : default, c21 = c20;
        Vector512<int> c30 = br != null ? Vector512.Create(br[m + 3]) : default, c31 = c30;
        Vector512<int> c40 = br != null ? Vector512.Create(br[m + 4]) : default, c41 = c40;
        Vector512<int> c50 = br != null ? Vector512.Create(br[m + 5]) : default, c51 = c50;
        Vector512<int> c60 = br != null ? Vector512.Create(br[m + 6]) : default, c61 = c60;
        Vector512<int> c70 = br != null ? Vector512.Create(br[m + 7]) : default, c71 = c70;
        int* ap = (int*)a;
        for (int k = 0; k < kPairs; k++)
        {
            Vector512<short> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 32);
            c00 = Dot512(b0, ap, c00); c01 = Dot512(b1, ap, c01);
            c10 = Dot512(b0, ap + 1, c10); c11 = Dot512(b1, ap + 1, c11);
            c20 = Dot512(b0, ap + 2, c20); c21 = Dot512(b1, ap + 2, c21);
            c30 = Dot512(b0, ap + 3, c30); c31 = Dot512(b1, ap + 3, c31);
            c40 = Dot512(b0, ap + 4, c40); c41 = Dot512(b1, ap + 4, c41);
            c50 = Dot512(b0, ap + 5, c50); c51 = Dot512(b1, ap + 5, c51);
            c60 = Dot512(b0, ap + 6, c60); c61 = Dot512(b1, ap + 6, c61);
            c70 = Dot512(b0, ap + 7, c70); c71 = Dot512(b1, ap + 7, c71);
            ap += 8;
            b += 64;
        }

        var lo = Vector512.Create((float)(o.Min - o.ZeroPoint));
        var hi = Vector512.Create((float)(o.Max - o.ZeroPoint));
        var zp = Vector512.Create((byte)o.ZeroPoint);
        int ld = o.Ldcq;
        float* sc = o.Scales;
        int ds = o.ScalePerRow ? 1 : 0;
        sc += ds * m;
        if (cols == 32)
        {
            StoreRow32(c00, c01, sc[0], dst, lo, hi, zp, vbmi); dst += ld; sc += ds;
            StoreRow32(c10, c11, sc[0], dst, lo, hi, zp, vbmi); dst += ld; sc += ds;
            StoreRow32(c20, c21, sc[0], dst, lo, hi, zp, vbmi); dst += ld; sc += ds;
            StoreRow32(c30, c31, sc[0], dst, lo, hi, zp, vbmi); dst += ld; sc += ds;
            StoreRow32(c40, c41, sc[0], dst, lo, hi, zp, vbmi); dst += ld; sc += ds;
            StoreRow32(c50, c51, sc[0], dst, lo, hi, zp, vbmi); dst += ld; sc += ds;
            StoreRow32(c60, c61, sc[0], dst, lo, hi, zp, vbmi); dst += ld; sc += ds;
            StoreRow32(c70, c71, sc[0], dst, lo, hi, zp, vbmi);
            return;
        }

        Vector512<byte> mask = Vector512.LessThan(Vector512<byte>.Indices, Vector512.Create((byte)cols));
        StoreRowMasked(c00, c01, sc[0], dst, lo, hi, zp, mask, vbmi); dst += ld; sc += ds;
        StoreRowMasked(c10, c11, sc[0], dst, lo, hi, zp, mask, vbmi); dst += ld; sc += ds;
        StoreRowMasked(c20, c21, sc[0], dst, lo, hi, zp, mask, vbmi); dst += ld; sc += ds;
        StoreRowMasked(c30, c31, sc[0], dst, lo, hi, zp, mask, vbmi); dst += ld; sc += ds;
        StoreRowMasked(c40, c41, sc[0], dst, lo, hi, zp, mask, vbmi); dst += ld; sc += ds;
        StoreRowMasked(c50, c51, sc[0], dst, lo, hi, zp, mask, vbmi); dst += ld; sc += ds;
        StoreRowMasked(c60, c61, sc[0], dst, lo, hi, zp, mask, vbmi); dst += ld; sc += ds;
        StoreRowMasked(c70, c71, sc[0], dst, lo, hi, zp, mask, vbmi);
    }

    /// <summary>
    /// As <see cref="Kernel512Requant"/> for an 8-column slice of a 32-column panel (<paramref name="b"/> points at the
    /// slice's first column; the panel's k-pair stride stays 64 values): 8 x 8 in 256-bit vectors, the first
    /// <paramref name="cols"/> columns stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel512Requant8(int kPairs, short* a, short* b, in Output o, int m, byte* dst, int cols)
    {
        int* br = o.BiasRow;
        Vector256<int> c0 = br != null ? Vector256.Create(br[m]) : default;
        Vector256<int> c1 = br != null ? Vector256.Create(br[m + 1]) : default;
        Vector256<int> c2 = br != null ? Vector256.Create(br[m + 2]) : default;
        Vector256<int> c3 = br != null ? Vector256.Create(br[m + 3]) : default;
        Vector256<int> c4 = br != null ? Vector256.Create(br[m + 4]) : default;
        Vector256<int> c5 = br != null ? Vector256.Create(br[m + 5]) : default;
        Vector256<int> c6 = br != null ? Vector256.Create(br[m + 6]) : default;
        Vector256<int> c7 = br != null ? Vector256.Create(br[m + 7]) : default;
        int* ap = (int*)a;
        for (int k = 0; k < kPairs; k++)
        {
            Vector256<short> bv = Vector256.Load(b);
            c0 = Dot256(bv, ap, c0); c1 = Dot256(bv, ap + 1, c1);
            c2 = Dot256(bv, ap + 2, c2); c3 = Dot256(bv, ap + 3, c3);
            c4 = Dot256(bv, ap + 4, c4); c5 = Dot256(bv, ap + 5, c5);
            c6 = Dot256(bv, ap + 6, c6); c7 = Dot256(bv, ap + 7, c7);
            ap += 8;
            b += 64;
        }

        var lo = Vector256.Create((float)(o.Min - o.ZeroPoint));
        var hi = Vector256.Create((float)(o.Max - o.ZeroPoint));
        var zp = Vector128.Create((byte)o.ZeroPoint);
        int ld = o.Ldcq;
        float* sc = o.Scales;
        int ds = o.ScalePerRow ? 1 : 0;
        sc += ds * m;
        StoreRow8(c0, sc[0], dst, lo, hi, zp, cols); dst += ld; sc += ds;
        StoreRow8(c1, sc[0], dst, lo, hi, zp, cols); dst += ld; sc += ds;
        StoreRow8(c2, sc[0], dst, lo, hi, zp, cols); dst += ld; sc += ds;
        StoreRow8(c3, sc[0], dst, lo, hi, zp, cols); dst += ld; sc += ds;
        StoreRow8(c4, sc[0], dst, lo, hi, zp, cols); dst += ld; sc += ds;
        StoreRow8(c5, sc[0], dst, lo, hi, zp, cols); dst += ld; sc += ds;
        StoreRow8(c6, sc[0], dst, lo, hi, zp, cols); dst += ld; sc += ds;
        StoreRow8(c7, sc[0], dst, lo, hi, zp, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow8(Vector256<int> x, float scale, byte* dst, Vector256<float> lo, Vector256<float> hi, Vector128<byte> zp, int cols)
    {
        Vector256<float> f = Avx.Min(Avx.Max(Avx.ConvertToVector256Single(x) * Vector256.Create(scale), lo), hi);
        Vector128<byte> q = Avx512F.VL.ConvertToVector128Byte(Avx.ConvertToVector256Int32(f)) + zp; // 8 low bytes
        if (cols == 8)
        {
            *(ulong*)dst = q.AsUInt64().ToScalar();
            return;
        }

        ulong bits = q.AsUInt64().ToScalar();
        for (int c = 0; c < cols; c++, bits >>= 8)
        {
            dst[c] = (byte)bits;
        }
    }

    // 32 accumulators (bias included) -> 32 requantized bytes in the low half: clamp(acc * scale) to [lo, hi] (vmaxps/
    // vminps: the products are never NaN), rounded half to even by the conversion (MXCSR, which .NET leaves at
    // round-to-nearest-even), low bytes gathered, + zero point in bytes (the sum's low byte is the same).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> RequantRow32(Vector512<int> x0, Vector512<int> x1, float scale,
                                                Vector512<float> lo, Vector512<float> hi, Vector512<byte> zp, bool vbmi)
    {
        var s = Vector512.Create(scale);
        Vector512<float> f0 = Avx512F.Min(Avx512F.Max(Avx512F.ConvertToVector512Single(x0) * s, lo), hi);
        Vector512<float> f1 = Avx512F.Min(Avx512F.Max(Avx512F.ConvertToVector512Single(x1) * s, lo), hi);
        Vector512<int> q0 = Avx512F.ConvertToVector512Int32(f0), q1 = Avx512F.ConvertToVector512Int32(f1);
        if (Avx512Vbmi.IsSupported && vbmi)
        {
            // Byte j < 16: the low byte of lane j of q0; byte 16 + j: of q1 (table index 64 + 4j).
            Vector512<byte> lowBytes = Vector512.Create(
                (byte)0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60,
                64, 68, 72, 76, 80, 84, 88, 92, 96, 100, 104, 108, 112, 116, 120, 124,
                0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60,
                64, 68, 72, 76, 80, 84, 88, 92, 96, 100, 104, 108, 112, 116, 120, 124);
            return Avx512Vbmi.PermuteVar64x8x2(q0.AsByte(), lowBytes, q1.AsByte()) + zp;
        }

        return Vector512.Create(Vector256.Create(Avx512F.ConvertToVector128Byte(q0), Avx512F.ConvertToVector128Byte(q1)), default) + zp;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow32(Vector512<int> x0, Vector512<int> x1, float scale, byte* dst,
                                   Vector512<float> lo, Vector512<float> hi, Vector512<byte> zp, bool vbmi)
        => Vector256.Store(RequantRow32(x0, x1, scale, lo, hi, zp, vbmi).GetLower(), dst);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowMasked(Vector512<int> x0, Vector512<int> x1, float scale, byte* dst,
                                       Vector512<float> lo, Vector512<float> hi, Vector512<byte> zp, Vector512<byte> mask, bool vbmi)
        => Avx512BW.MaskStore(dst, mask, RequantRow32(x0, x1, scale, lo, hi, zp, vbmi));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int kPairs, short* a, short* b, int* c, int ldc, int rows, int cols, int mode)
    {
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int* ap = (int*)a;
        for (int k = 0; k < kPairs; k++)
        {
            Vector256<short> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 16);
            c00 = Dot256(b0, ap, c00); c01 = Dot256(b1, ap, c01);
            c10 = Dot256(b0, ap + 1, c10); c11 = Dot256(b1, ap + 1, c11);
            c20 = Dot256(b0, ap + 2, c20); c21 = Dot256(b1, ap + 2, c21);
            c30 = Dot256(b0, ap + 3, c30); c31 = Dot256(b1, ap + 3, c31);
            c40 = Dot256(b0, ap + 4, c40); c41 = Dot256(b1, ap + 4, c41);
            c50 = Dot256(b0, ap + 5, c50); c51 = Dot256(b1, ap + 5, c51);
            ap += 6;
            b += 32;
        }

        if (rows == 6 && cols == 16)
        {
            Store256(c, c00, mode); Store256(c + 8, c01, mode); c += ldc;
            Store256(c, c10, mode); Store256(c + 8, c11, mode); c += ldc;
            Store256(c, c20, mode); Store256(c + 8, c21, mode); c += ldc;
            Store256(c, c30, mode); Store256(c + 8, c31, mode); c += ldc;
            Store256(c, c40, mode); Store256(c + 8, c41, mode); c += ldc;
            Store256(c, c50, mode); Store256(c + 8, c51, mode);
            return;
        }

        int* tmp = stackalloc int[6 * 16];
        Vector256.Store(c00, tmp); Vector256.Store(c01, tmp + 8);
        Vector256.Store(c10, tmp + 16); Vector256.Store(c11, tmp + 24);
        Vector256.Store(c20, tmp + 32); Vector256.Store(c21, tmp + 40);
        Vector256.Store(c30, tmp + 48); Vector256.Store(c31, tmp + 56);
        Vector256.Store(c40, tmp + 64); Vector256.Store(c41, tmp + 72);
        Vector256.Store(c50, tmp + 80); Vector256.Store(c51, tmp + 88);
        StorePartial(tmp, 16, c, ldc, rows, cols, mode);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel128(int kPairs, short* a, short* b, int* c, int ldc, int rows, int cols, int mode)
    {
        Vector128<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int* ap = (int*)a;
        for (int k = 0; k < kPairs; k++)
        {
            Vector128<short> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 8);
            c00 = Dot128(b0, ap, c00); c01 = Dot128(b1, ap, c01);
            c10 = Dot128(b0, ap + 1, c10); c11 = Dot128(b1, ap + 1, c11);
            c20 = Dot128(b0, ap + 2, c20); c21 = Dot128(b1, ap + 2, c21);
            c30 = Dot128(b0, ap + 3, c30); c31 = Dot128(b1, ap + 3, c31);
            c40 = Dot128(b0, ap + 4, c40); c41 = Dot128(b1, ap + 4, c41);
            c50 = Dot128(b0, ap + 5, c50); c51 = Dot128(b1, ap + 5, c51);
            ap += 6;
            b += 16;
        }

        if (rows == 6 && cols == 8)
        {
            Store128(c, c00, mode); Store128(c + 4, c01, mode); c += ldc;
            Store128(c, c10, mode); Store128(c + 4, c11, mode); c += ldc;
            Store128(c, c20, mode); Store128(c + 4, c21, mode); c += ldc;
            Store128(c, c30, mode); Store128(c + 4, c31, mode); c += ldc;
            Store128(c, c40, mode); Store128(c + 4, c41, mode); c += ldc;
            Store128(c, c50, mode); Store128(c + 4, c51, mode);
            return;
        }

        int* tmp = stackalloc int[6 * 8];
        Vector128.Store(c00, tmp); Vector128.Store(c01, tmp + 4);
        Vector128.Store(c10, tmp + 8); Vector128.Store(c11, tmp + 12);
        Vector128.Store(c20, tmp + 16); Vector128.Store(c21, tmp + 20);
        Vector128.Store(c30, tmp + 24); Vector128.Store(c31, tmp + 28);
        Vector128.Store(c40, tmp + 32); Vector128.Store(c41, tmp + 36);
        Vector128.Store(c50, tmp + 40); Vector128.Store(c51, tmp + 44);
        StorePartial(tmp, 8, c, ldc, rows, cols, mode);
    }

    private static void KernelScalar(int kPairs, short* a, short* b, int* c, int ldc, int rows, int cols, int mode)
    {
        int* tmp = stackalloc int[16];
        for (int i = 0; i < 16; i++)
        {
            tmp[i] = 0;
        }

        for (int k = 0; k < kPairs; k++)
        {
            for (int r = 0; r < 4; r++)
            {
                int a0 = a[r * 2], a1 = a[(r * 2) + 1];
                int* t = tmp + (r * 4);
                for (int j = 0; j < 4; j++)
                {
                    t[j] += (a0 * b[j * 2]) + (a1 * b[(j * 2) + 1]);
                }
            }

            a += 8;
            b += 8;
        }

        StorePartial(tmp, 4, c, ldc, rows, cols, mode);
    }
}
