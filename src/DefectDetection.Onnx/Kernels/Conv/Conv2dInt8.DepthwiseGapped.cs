using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Onnx.Kernels.Conv;

// Depthwise int8 3x3, stride 1, pad 1 on narrow planes (the 7x7 and 14x14 layers of mobile networks): the plane is
// widened to float rows of stride W + 1, the extra column and the rows above and below holding the input zero point
// zx (the padding). Output position p = y * (W + 1) + x then sums the nine floats at p + dy * (W + 1) + dx with no
// masks: the gap column is the right neighbour of one row and the left neighbour of the next. All 16 lanes of a
// vector are useful except the gap positions; the taps are plain loads (folded into the FMAs), so the vector
// pipes only do the nine FMAs and the requantization. 64 positions are packed to bytes at a time and the gap
// positions squeezed out (vpcompressb). As in the row kernel, the accumulator starts at bias - zx * sum(w - wz).
internal sealed unsafe partial class Conv2dInt8
{
    [ThreadStatic]
    private static float[]? t_gapPlane;
    [ThreadStatic]
    private static float[]? t_gapMasks;

    // The widest plane the gapped kernel takes (wider ones take the row kernel).
    private const int GappedDepthwiseMaxWidth = 7;

    /// <summary>True when the gapped kernel handles the plane (the row kernel's stride-1 case, AVX-512 VBMI2, narrow).</summary>
    private static bool UsesGappedDepthwise(in Conv2dShape s, int inW)
        => s.StrideW == 1 && inW <= GappedDepthwiseMaxWidth && Avx512Vbmi2.IsSupported;

    /// <summary>Per-call state on one thread: the zx-filled gapped plane and the byte masks of the image positions.</summary>
    private readonly struct GappedPlane
    {
        public readonly float* Plane;   // position 0 of the plane (guard rows of zx before and after)
        public readonly byte* Masks;    // per 64-position block: 0xFF at image positions
        public readonly int* Counts;    // per block: the number of image positions
        public readonly int H, W, Stride, Blocks;

        public GappedPlane(int h, int w, byte zx)
        {
            H = h;
            W = w;
            Stride = w + 1;
            int positions = h * Stride;
            Blocks = (positions + 63) / 64;
            int guard = (Stride + 1 + 15) & ~15;
            long floats = guard + ((long)Blocks * 64) + Stride + 32;
            float* buffer = AlignedScratch.Get(ref t_gapPlane, floats);
            new Span<float>(buffer, (int)floats).Fill(zx);
            Plane = buffer + guard;
            float* masks = AlignedScratch.Get(ref t_gapMasks, (Blocks * 16) + Blocks);
            Masks = (byte*)masks;
            Counts = (int*)(masks + (Blocks * 16));
            for (int b = 0; b < Blocks; b++)
            {
                int count = 0;
                for (int i = 0; i < 64; i++)
                {
                    int p = (b * 64) + i;
                    bool image = p < positions && (p % Stride) < w;
                    Masks[(b * 64) + i] = image ? (byte)0xFF : (byte)0;
                    count += image ? 1 : 0;
                }

                Counts[b] = count;
            }
        }
    }

    private static readonly Vector512<int> PackOrder = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);

    /// <summary>One plane (stride 1, pad 1) from u8 <paramref name="src"/> [H, W] to u8/s8 <paramref name="dst"/> [H, W].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GappedDepthwisePlane(in GappedPlane g, byte* src, in RowQuant q, byte zx, bool signedOut, byte* dst)
    {
        int w = g.W, ld = g.Stride;
        float* f = g.Plane;
        var zxBytes = Vector128.Create(zx);
        Vector128<byte> tailMask = Valid16(w - (16 * ((w - 1) / 16)));
        for (int y = 0; y < g.H; y++)
        {
            // Lanes past the row end are zx: they land on the gap column (and on the next row, rewritten after).
            byte* row = src + ((long)y * w);
            float* to = f + ((long)y * ld);
            int x = 0;
            for (; x + 16 < w; x += 16)
            {
                Vector512.Store(Widen16(row + x), to + x);
            }

            Vector512.Store(Widen16(row + x, tailMask, zxBytes), to + x);
        }

        Vector512<float> k0 = q.K0, k1 = q.K1, k2 = q.K2, k3 = q.K3, k4 = q.K4, k5 = q.K5, k6 = q.K6, k7 = q.K7, k8 = q.K8;
        Vector512<float> init = q.Init, scale = q.Scale, lo = q.Lo, hi = q.Hi;
        Vector512<int> zero = q.Zero;
        byte* d = dst;
        for (int b = 0; b < g.Blocks; b++)
        {
            float* p = f + (b * 64);
            Vector512<int> y0 = Tap9(p, ld, k0, k1, k2, k3, k4, k5, k6, k7, k8, init, scale, lo, hi, zero);
            Vector512<int> y1 = Tap9(p + 16, ld, k0, k1, k2, k3, k4, k5, k6, k7, k8, init, scale, lo, hi, zero);
            Vector512<int> y2 = Tap9(p + 32, ld, k0, k1, k2, k3, k4, k5, k6, k7, k8, init, scale, lo, hi, zero);
            Vector512<int> y3 = Tap9(p + 48, ld, k0, k1, k2, k3, k4, k5, k6, k7, k8, init, scale, lo, hi, zero);

            // The values lie in the output range: the saturating packs are exact; one dword permute restores the order.
            Vector512<short> w01 = Avx512BW.PackSignedSaturate(y0, y1), w23 = Avx512BW.PackSignedSaturate(y2, y3);
            Vector512<byte> bytes = signedOut ? Avx512BW.PackSignedSaturate(w01, w23).AsByte() : Avx512BW.PackUnsignedSaturate(w01, w23);
            bytes = Avx512F.PermuteVar16x32(bytes.AsInt32(), PackOrder).AsByte();
            bytes = Avx512Vbmi2.Compress(Vector512<byte>.Zero, Vector512.Load(g.Masks + (b * 64)), bytes);
            int count = g.Counts[b];
            Avx512BW.MaskStore(d, Vector512.GreaterThan(Vector512.Create((byte)count), Vector512<byte>.Indices), bytes);
            d += count;
        }
    }

    // Requantized (not yet packed) outputs of the 16 positions at p.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Tap9(float* p, int ld, Vector512<float> k0, Vector512<float> k1, Vector512<float> k2, Vector512<float> k3,
                                       Vector512<float> k4, Vector512<float> k5, Vector512<float> k6, Vector512<float> k7, Vector512<float> k8,
                                       Vector512<float> init, Vector512<float> scale, Vector512<float> lo, Vector512<float> hi, Vector512<int> zero)
    {
        float* a = p - ld, c = p + ld;
        Vector512<float> acc = Vector512.FusedMultiplyAdd(k0, Vector512.Load(a - 1), init);
        acc = Vector512.FusedMultiplyAdd(k1, Vector512.Load(a), acc);
        acc = Vector512.FusedMultiplyAdd(k2, Vector512.Load(a + 1), acc);
        acc = Vector512.FusedMultiplyAdd(k3, Vector512.Load(p - 1), acc);
        acc = Vector512.FusedMultiplyAdd(k4, Vector512.Load(p), acc);
        acc = Vector512.FusedMultiplyAdd(k5, Vector512.Load(p + 1), acc);
        acc = Vector512.FusedMultiplyAdd(k6, Vector512.Load(c - 1), acc);
        acc = Vector512.FusedMultiplyAdd(k7, Vector512.Load(c), acc);
        acc = Vector512.FusedMultiplyAdd(k8, Vector512.Load(c + 1), acc);
        return Avx512F.ConvertToVector512Int32(Avx512F.Min(Avx512F.Max(acc * scale, lo), hi)) + zero;
    }

    /// <summary>True when the register form takes the plane: width 7 (rows of stride 8), at most 8 rows (64 positions).</summary>
    private static bool UsesGapped7(int inH, int inW) => inW == 7 && inH <= 8 && Avx512Vbmi2.IsSupported;

    // Gap layout masks: 0xFF at image positions of a width-7 plane (p % 8 < 7).
    private static readonly Vector512<byte> Gap7 = Vector512.Create(0x00FF_FFFF_FFFF_FFFFUL).AsByte();

    /// <summary>
    /// A width-7 plane (h &lt;= 8) in registers: the bytes expanded to the stride-8 layout (vpexpandb, the gap and the
    /// rows below as zx), widened to four float vectors; the taps are lane shifts (valignd) of neighbouring vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gapped7Plane(byte* src, int h, in RowQuant q, byte zx, bool signedOut, byte* dst)
    {
        int n = h * 7;
        Vector512<byte> zxBytes = Vector512.Create(zx);
        Vector512<byte> valid = Vector512.GreaterThan(Vector512.Create((byte)n), Vector512<byte>.Indices);
        Vector512<byte> image = Gap7 & Vector512.GreaterThan(Vector512.Create((byte)(h * 8)), Vector512<byte>.Indices);
        Vector512<byte> raw = Avx512BW.MaskLoad(src, valid, zxBytes);
        Vector512<byte> gapped = Avx512Vbmi2.Expand(zxBytes, image, raw);
        Vector512<float> k0 = q.K0, k1 = q.K1, k2 = q.K2, k3 = q.K3, k4 = q.K4, k5 = q.K5, k6 = q.K6, k7 = q.K7, k8 = q.K8;
        Vector512<float> init = q.Init, scale = q.Scale, lo = q.Lo, hi = q.Hi, pad = q.Pad;
        Vector512<int> zero = q.Zero;
        Vector512<float> v0 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(gapped.GetLower().GetLower()));
        Vector512<float> v1 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(gapped.GetLower().GetUpper()));
        Vector512<float> v2 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(gapped.GetUpper().GetLower()));
        Vector512<float> v3 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(gapped.GetUpper().GetUpper()));
        Vector512<int> y0 = Taps8(pad, v0, v1, k0, k1, k2, k3, k4, k5, k6, k7, k8, init, scale, lo, hi, zero);
        Vector512<int> y1 = Taps8(v0, v1, v2, k0, k1, k2, k3, k4, k5, k6, k7, k8, init, scale, lo, hi, zero);
        Vector512<int> y2 = Taps8(v1, v2, v3, k0, k1, k2, k3, k4, k5, k6, k7, k8, init, scale, lo, hi, zero);
        Vector512<int> y3 = Taps8(v2, v3, pad, k0, k1, k2, k3, k4, k5, k6, k7, k8, init, scale, lo, hi, zero);
        Vector512<short> w01 = Avx512BW.PackSignedSaturate(y0, y1), w23 = Avx512BW.PackSignedSaturate(y2, y3);
        Vector512<byte> bytes = signedOut ? Avx512BW.PackSignedSaturate(w01, w23).AsByte() : Avx512BW.PackUnsignedSaturate(w01, w23);
        bytes = Avx512F.PermuteVar16x32(bytes.AsInt32(), PackOrder).AsByte();
        Avx512BW.MaskStore(dst, valid, Avx512Vbmi2.Compress(Vector512<byte>.Zero, image, bytes));
    }

    // Requantized outputs of the 16 positions of v (row stride 8: the taps at -9 .. +9 reach into prev and next only).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Taps8(Vector512<float> prev, Vector512<float> v, Vector512<float> next,
                                        Vector512<float> k0, Vector512<float> k1, Vector512<float> k2, Vector512<float> k3, Vector512<float> k4,
                                        Vector512<float> k5, Vector512<float> k6, Vector512<float> k7, Vector512<float> k8,
                                        Vector512<float> init, Vector512<float> scale, Vector512<float> lo, Vector512<float> hi, Vector512<int> zero)
    {
        Vector512<int> p = prev.AsInt32(), c = v.AsInt32(), n = next.AsInt32();
        Vector512<float> acc = Vector512.FusedMultiplyAdd(k0, Avx512F.AlignRight32(c, p, 7).AsSingle(), init);
        acc = Vector512.FusedMultiplyAdd(k1, Avx512F.AlignRight32(c, p, 8).AsSingle(), acc);
        acc = Vector512.FusedMultiplyAdd(k2, Avx512F.AlignRight32(c, p, 9).AsSingle(), acc);
        acc = Vector512.FusedMultiplyAdd(k3, Avx512F.AlignRight32(c, p, 15).AsSingle(), acc);
        acc = Vector512.FusedMultiplyAdd(k4, v, acc);
        acc = Vector512.FusedMultiplyAdd(k5, Avx512F.AlignRight32(n, c, 1).AsSingle(), acc);
        acc = Vector512.FusedMultiplyAdd(k6, Avx512F.AlignRight32(n, c, 7).AsSingle(), acc);
        acc = Vector512.FusedMultiplyAdd(k7, Avx512F.AlignRight32(n, c, 8).AsSingle(), acc);
        acc = Vector512.FusedMultiplyAdd(k8, Avx512F.AlignRight32(n, c, 9).AsSingle(), acc);
        return Avx512F.ConvertToVector512Int32(Avx512F.Min(Avx512F.Max(acc * scale, lo), hi)) + zero;
    }
}
