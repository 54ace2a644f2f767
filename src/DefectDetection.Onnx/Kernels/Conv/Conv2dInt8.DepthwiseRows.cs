using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Onnx.Kernels.Conv;

// Depthwise int8 3x3 (stride 1 pad 1, or stride 2 pad top/left 1) straight from the u8 rows: no padded copy of the
// plane. Each 16-output chunk widens 16 (stride 1) or 32 (stride 2, split into even and odd columns) input bytes to
// float in registers. The padding is the input zero point itself (masked loads merge it past the row end, rows
// outside the plane read a row of zx), so the filter runs on raw x and the accumulator starts at
// bias - zx * sum(w - wz): acc = bias + sum (x - zx) * (w - wz). Every partial sum is an integer below 2^24 in
// magnitude, so the float sum is the exact accumulator; it is requantized as QGemm.RequantizeFloatRow does and
// stored as bytes in the same pass. Two output rows per pass share the input rows they read. The taps of the left
// (and for stride 1 the right) kernel column are summed over the three rows unshifted, and only that sum is shifted
// by one lane (valignd with the neighbouring chunk's sum): out[x] = L[x - 1] + M[x] + R[x + 1].
internal sealed unsafe partial class Conv2dInt8
{
    // |bias - zx * sum w'| + 9 * 255 * 255 stays below 2^24: the float accumulator is exact.
    private const long RowInitLimit = 16_000_000;

    [ThreadStatic]
    private static float[]? t_rowPad;

    // Built on first use (a cache: every thread computes the same values): per channel bias - zx * sum(w - wz), or an
    // empty array when one of them is too large for the row kernels.
    private float[]? _rowInit;

    /// <summary>True when the row kernel handles the shape (AVX-512BW, 3x3, stride 1 pad 1, or stride 2 pad 1 / 0..1).</summary>
    internal static bool UsesRowDepthwise(in Conv2dShape s, int width)
        => width >= 512 && Avx512BW.VL.IsSupported && Avx512F.VL.IsSupported
           && s.KernelH == 3 && s.KernelW == 3 && s.DilationH == 1 && s.DilationW == 1 && s.PadTop == 1 && s.PadLeft == 1
           && ((s.StrideH == 1 && s.StrideW == 1 && s.PadBottom == 1 && s.PadRight == 1)
               || (s.StrideH == 2 && s.StrideW == 2 && s.PadBottom <= 1 && s.PadRight <= 1));

    /// <summary>The per-channel accumulator start values, or null when one of them is too large for exact float sums.</summary>
    private float[]? RowInit()
    {
        float[]? init = _rowInit;
        if (init is null)
        {
            float[] w = _depthwise!;
            int m = _shape.OutChannels, taps = _shape.KernelH * _shape.KernelW;
            init = new float[m];
            for (int c = 0; c < m; c++)
            {
                long sum = 0;
                for (int t = 0; t < taps; t++)
                {
                    sum += (long)w[(c * taps) + t];
                }

                long v = (_bias.Length > 0 ? _bias[c] : 0) - (_inputZeroPoint * sum);
                if (Math.Abs(v) > RowInitLimit)
                {
                    init = [];
                    break;
                }

                init[c] = v;
            }

            _rowInit = init;
        }

        return init.Length == 0 ? null : init;
    }

    // Stride-1 input rows wider than 16 are widened once into a float ring (RowDepthwisePlane1Ring; a few per cent
    // faster there, slower on one-chunk rows) unless the kernel was created without Int8KernelPaths.RowRing.

    [ThreadStatic]
    private static float[]? t_rowRing;

    /// <summary>The float ring of <see cref="RowDepthwisePlane1Ring"/>: five rows of <paramref name="ld"/> floats, the last all zx.</summary>
    private static float* RowRing(int ld, byte zx)
    {
        float* ring = AlignedScratch.Get(ref t_rowRing, 5L * ld);
        new Span<float>(ring + (4L * ld), ld).Fill(zx);
        return ring;
    }

    /// <summary>A row of <paramref name="length"/> bytes of <paramref name="zx"/> (thread-local scratch).</summary>
    private static byte* PadRow(int length, byte zx)
    {
        byte* row = (byte*)AlignedScratch.Get(ref t_rowPad, (length / 4) + 1);
        new Span<byte>(row, length).Fill(zx);
        return row;
    }

    /// <summary>Constants of one plane: weights, accumulator start and requantization.</summary>
    private readonly struct RowQuant(float* w, float init, float scale, int zeroPoint, int min, int max, byte zx)
    {
        private readonly float* _w = w;
        private readonly float _init = init, _scale = scale, _lo = min - zeroPoint, _hi = max - zeroPoint, _pad = zx;
        private readonly int _zero = zeroPoint;

        public Vector512<float> K0 => Vector512.Create(_w[0]);

        public Vector512<float> K1 => Vector512.Create(_w[1]);

        public Vector512<float> K2 => Vector512.Create(_w[2]);

        public Vector512<float> K3 => Vector512.Create(_w[3]);

        public Vector512<float> K4 => Vector512.Create(_w[4]);

        public Vector512<float> K5 => Vector512.Create(_w[5]);

        public Vector512<float> K6 => Vector512.Create(_w[6]);

        public Vector512<float> K7 => Vector512.Create(_w[7]);

        public Vector512<float> K8 => Vector512.Create(_w[8]);

        public Vector512<float> Init => Vector512.Create(_init);

        public Vector512<float> Scale => Vector512.Create(_scale);

        public Vector512<float> Lo => Vector512.Create(_lo);

        public Vector512<float> Hi => Vector512.Create(_hi);

        public Vector512<float> Pad => Vector512.Create(_pad);

        public Vector512<int> Zero => Vector512.Create(_zero);
    }

    // As QGemm.RequantizeFloatRow: the exact sum scaled, clamped, rounded half to even (vcvtps2dq), plus the zero point.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Requantize(Vector512<float> scale, Vector512<float> lo, Vector512<float> hi, Vector512<int> zero, Vector512<float> acc)
        => Avx512F.ConvertToVector128Byte(Avx512F.ConvertToVector512Int32(Avx512F.Min(Avx512F.Max(acc * scale, lo), hi)) + zero);

    // x[-1 .. 14] of a chunk from its predecessor's last lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Left(Vector512<float> cur, Vector512<float> prev)
        => Avx512F.AlignRight32(cur.AsInt32(), prev.AsInt32(), 15).AsSingle();

    // x[1 .. 16] of a chunk from its successor's first lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Right(Vector512<float> next, Vector512<float> cur)
        => Avx512F.AlignRight32(next.AsInt32(), cur.AsInt32(), 1).AsSingle();

    // 16 bytes of a row as float; the bytes outside the mask (past the row end) are the padding zx, never read.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen16(byte* p, Vector128<byte> mask, Vector128<byte> zx)
        => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Avx512BW.VL.MaskLoad(p, mask, zx)));

    // 16 bytes of a row as float.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen16(byte* p)
        => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(p)));

    // The lanes below n (0..16 or 32) of a byte mask.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Valid16(int n) => Vector128.GreaterThan(Vector128.Create((byte)Math.Clamp(n, 0, 16)), Vector128<byte>.Indices);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Valid32(int n) => Vector256.GreaterThan(Vector256.Create((byte)Math.Clamp(n, 0, 32)), Vector256<byte>.Indices);

    /// <summary>
    /// Stride 1, pad 1: one plane from u8 <paramref name="src"/> [h, w] to u8/s8 <paramref name="dst"/> [h, w].
    /// <paramref name="padRow"/> holds at least w bytes of zx (the rows above and below the plane).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowDepthwisePlane1(byte* src, int h, int w, in RowQuant q, byte zx, byte* padRow, byte* dst)
    {
        int chunks = (w + 15) / 16;
        Vector128<byte> lastMask = Valid16(w - (16 * (chunks - 1))), firstMask = Valid16(w);
        var zxBytes = Vector128.Create(zx);
        Vector512<float> k0 = q.K0, k1 = q.K1, k2 = q.K2, k3 = q.K3, k4 = q.K4, k5 = q.K5, k6 = q.K6, k7 = q.K7, k8 = q.K8;
        Vector512<float> init = q.Init, scale = q.Scale, pad = q.Pad;
        Vector512<float> leftPad = pad * (k0 + k3 + k6), rightPad = pad * (k2 + k5 + k8);
        Vector512<float> lo = q.Lo, hi = q.Hi;
        Vector512<int> zero = q.Zero;
        for (int oy = 0; oy < h; oy += 2)
        {
            // Input rows oy - 1 .. oy + 2 feed output rows oy (A) and oy + 1 (B, dropped past the last row). Per output
            // row the left, middle and right kernel columns are summed unshifted (L, M, R); out[x] = L[x-1] + M[x] + R[x+1],
            // so the sums of chunk c + 1 are made before chunk c is finished.
            byte* r1 = src + ((long)oy * w);
            byte* r0 = oy >= 1 ? r1 - w : padRow;
            byte* r2 = oy + 1 < h ? r1 + w : padRow;
            byte* r3 = oy + 2 < h ? r1 + (2 * w) : padRow;
            bool second = oy + 1 < h;
            byte* d0 = dst + ((long)oy * w), d1 = d0 + w;
            Vector512<float> lpA = leftPad, lpB = leftPad;
            Vector512<float> lA, mA, rA, lB, mB, rB;
            if (w >= 16)
            {
                Sums1(Widen16(r0), Widen16(r1), Widen16(r2), Widen16(r3), k0, k1, k2, k3, k4, k5, k6, k7, k8, init,
                      out lA, out mA, out rA, out lB, out mB, out rB);
            }
            else
            {
                Sums1(Widen16(r0, firstMask, zxBytes), Widen16(r1, firstMask, zxBytes), Widen16(r2, firstMask, zxBytes), Widen16(r3, firstMask, zxBytes),
                      k0, k1, k2, k3, k4, k5, k6, k7, k8, init, out lA, out mA, out rA, out lB, out mB, out rB);
            }

            for (int c = 0; c < chunks; c++)
            {
                int x = 16 * (c + 1);
                Vector512<float> lnA, mnA, rnA, lnB, mnB, rnB;
                if (x + 16 <= w)
                {
                    Sums1(Widen16(r0 + x), Widen16(r1 + x), Widen16(r2 + x), Widen16(r3 + x), k0, k1, k2, k3, k4, k5, k6, k7, k8, init,
                          out lnA, out mnA, out rnA, out lnB, out mnB, out rnB);
                }
                else if (x < w)
                {
                    Vector128<byte> m = Valid16(w - x); // chunk c + 1 is partial
                    Sums1(Widen16(r0 + x, m, zxBytes), Widen16(r1 + x, m, zxBytes), Widen16(r2 + x, m, zxBytes), Widen16(r3 + x, m, zxBytes),
                          k0, k1, k2, k3, k4, k5, k6, k7, k8, init, out lnA, out mnA, out rnA, out lnB, out mnB, out rnB);
                }
                else
                {
                    // Past the row: only the right sums are read, and they are the padding's.
                    lnA = mnA = lnB = mnB = rightPad;
                    rnA = rnB = rightPad;
                }

                StorePair(mA + Left(lA, lpA) + Right(rnA, rA), mB + Left(lB, lpB) + Right(rnB, rB), scale, lo, hi, zero,
                          d0 + (16 * c), d1 + (16 * c), second, c == chunks - 1, lastMask);

                lpA = lA;
                lpB = lB;
                lA = lnA;
                lB = lnB;
                mA = mnA;
                mB = mnB;
                rA = rnA;
                rB = rnB;
            }
        }
    }

    /// <summary>
    /// Stride 1, pad 1, as <see cref="RowDepthwisePlane1"/>, but every input row is widened to float once, into a ring of
    /// four rows (<paramref name="ring"/>: 5 x <paramref name="ld"/> floats, the fifth row all zx), and read back by the
    /// two row pairs that use it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowDepthwisePlane1Ring(byte* src, int h, int w, in RowQuant q, byte zx, float* ring, int ld, byte* dst)
    {
        int chunks = (w + 15) / 16;
        Vector128<byte> lastMask = Valid16(w - (16 * (chunks - 1)));
        var zxBytes = Vector128.Create(zx);
        Vector512<float> k0 = q.K0, k1 = q.K1, k2 = q.K2, k3 = q.K3, k4 = q.K4, k5 = q.K5, k6 = q.K6, k7 = q.K7, k8 = q.K8;
        Vector512<float> init = q.Init, scale = q.Scale, pad = q.Pad;
        Vector512<float> leftPad = pad * (k0 + k3 + k6), rightPad = pad * (k2 + k5 + k8);
        Vector512<float> lo = q.Lo, hi = q.Hi;
        Vector512<int> zero = q.Zero;
        float* padF = ring + (4L * ld);
        WidenRow(src, w, chunks, zxBytes, ring);
        for (int oy = 0; oy < h; oy += 2)
        {
            // Rows oy - 1 and oy were widened for the previous pair (or are the padding); widen oy + 1 and oy + 2.
            bool second = oy + 1 < h;
            if (second)
            {
                WidenRow(src + ((long)(oy + 1) * w), w, chunks, zxBytes, ring + ((long)((oy + 1) & 3) * ld));
            }

            if (oy + 2 < h)
            {
                WidenRow(src + ((long)(oy + 2) * w), w, chunks, zxBytes, ring + ((long)((oy + 2) & 3) * ld));
            }

            float* f0 = oy >= 1 ? ring + ((long)((oy - 1) & 3) * ld) : padF;
            float* f1 = ring + ((long)(oy & 3) * ld);
            float* f2 = second ? ring + ((long)((oy + 1) & 3) * ld) : padF;
            float* f3 = oy + 2 < h ? ring + ((long)((oy + 2) & 3) * ld) : padF;
            byte* d0 = dst + ((long)oy * w), d1 = d0 + w;
            Vector512<float> lpA = leftPad, lpB = leftPad;
            Sums1(Vector512.Load(f0), Vector512.Load(f1), Vector512.Load(f2), Vector512.Load(f3), k0, k1, k2, k3, k4, k5, k6, k7, k8, init,
                  out Vector512<float> lA, out Vector512<float> mA, out Vector512<float> rA, out Vector512<float> lB, out Vector512<float> mB, out Vector512<float> rB);
            for (int c = 0; c < chunks; c++)
            {
                int x = 16 * (c + 1);
                Vector512<float> lnA, mnA, rnA, lnB, mnB, rnB;
                if (c + 1 < chunks)
                {
                    Sums1(Vector512.Load(f0 + x), Vector512.Load(f1 + x), Vector512.Load(f2 + x), Vector512.Load(f3 + x), k0, k1, k2, k3, k4, k5, k6, k7, k8, init,
                          out lnA, out mnA, out rnA, out lnB, out mnB, out rnB);
                }
                else
                {
                    // Past the row: only the right sums are read, and they are the padding's.
                    lnA = mnA = lnB = mnB = rightPad;
                    rnA = rnB = rightPad;
                }

                StorePair(mA + Left(lA, lpA) + Right(rnA, rA), mB + Left(lB, lpB) + Right(rnB, rB), scale, lo, hi, zero,
                          d0 + (16 * c), d1 + (16 * c), second, c == chunks - 1, lastMask);

                lpA = lA;
                lpB = lB;
                lA = lnA;
                lB = lnB;
                mA = mnA;
                mB = mnB;
                rA = rnA;
                rB = rnB;
            }
        }
    }

    // Requantises one 16-wide chunk of both output rows and stores it (the row's last chunk under lastMask; the second
    // row only when there is one).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair(Vector512<float> a, Vector512<float> b, Vector512<float> scale, Vector512<float> lo, Vector512<float> hi, Vector512<int> zero,
        byte* d0, byte* d1, bool second, bool last, Vector128<byte> lastMask)
    {
        Vector128<byte> y0 = Requantize(scale, lo, hi, zero, a), y1 = Requantize(scale, lo, hi, zero, b);
        if (!last)
        {
            Vector128.Store(y0, d0);
            if (second)
            {
                Vector128.Store(y1, d1);
            }
        }
        else
        {
            Avx512BW.VL.MaskStore(d0, lastMask, y0);
            if (second)
            {
                Avx512BW.VL.MaskStore(d1, lastMask, y1);
            }
        }
    }

    // A u8 row widened to float chunks; the lanes past the row end are zx.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WidenRow(byte* row, int w, int chunks, Vector128<byte> zx, float* to)
    {
        int k = 0;
        for (; k < chunks - 1; k++)
        {
            Vector512.Store(Widen16(row + (16 * k)), to + (16 * k));
        }

        Vector512.Store(Widen16(row + (16 * k), Valid16(w - (16 * k)), zx), to + (16 * k));
    }

    // The left, middle (with the accumulator start) and right column sums of output rows A (rows 0..2) and B (rows 1..3).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sums1(Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3,
                              Vector512<float> k0, Vector512<float> k1, Vector512<float> k2, Vector512<float> k3, Vector512<float> k4,
                              Vector512<float> k5, Vector512<float> k6, Vector512<float> k7, Vector512<float> k8, Vector512<float> init,
                              out Vector512<float> lA, out Vector512<float> mA, out Vector512<float> rA,
                              out Vector512<float> lB, out Vector512<float> mB, out Vector512<float> rB)
    {
        lA = Vector512.FusedMultiplyAdd(k6, x2, Vector512.FusedMultiplyAdd(k3, x1, k0 * x0));
        lB = Vector512.FusedMultiplyAdd(k6, x3, Vector512.FusedMultiplyAdd(k3, x2, k0 * x1));
        mA = Vector512.FusedMultiplyAdd(k7, x2, Vector512.FusedMultiplyAdd(k4, x1, Vector512.FusedMultiplyAdd(k1, x0, init)));
        mB = Vector512.FusedMultiplyAdd(k7, x3, Vector512.FusedMultiplyAdd(k4, x2, Vector512.FusedMultiplyAdd(k1, x1, init)));
        rA = Vector512.FusedMultiplyAdd(k8, x2, Vector512.FusedMultiplyAdd(k5, x1, k2 * x0));
        rB = Vector512.FusedMultiplyAdd(k8, x3, Vector512.FusedMultiplyAdd(k5, x2, k2 * x1));
    }

    // 32 input columns as even and odd columns in float.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen32(Vector256<byte> bytes, out Vector512<float> even, out Vector512<float> odd)
    {
        Vector512<int> pairs = Avx512F.ConvertToVector512Int32(bytes.AsUInt16());
        even = Avx512F.ConvertToVector512Single(pairs & Vector512.Create(0xFF));
        odd = Avx512F.ConvertToVector512Single(Vector512.ShiftRightLogical(pairs, 8));
    }

    /// <summary>
    /// Stride 2, pad top/left 1: one plane from u8 <paramref name="src"/> [inH, inW] to <paramref name="dst"/> [outH, outW].
    /// <paramref name="padRow"/> holds at least inW bytes of zx.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowDepthwisePlane2(byte* src, int inH, int inW, int outH, int outW, in RowQuant q, byte zx, byte* padRow, byte* dst)
    {
        int chunks = (outW + 15) / 16;
        Vector128<byte> outMask = Valid16(outW - (16 * (chunks - 1)));
        var zxBytes = Vector256.Create(zx);
        Vector512<float> k0 = q.K0, k1 = q.K1, k2 = q.K2, k3 = q.K3, k4 = q.K4, k5 = q.K5, k6 = q.K6, k7 = q.K7, k8 = q.K8;
        Vector512<float> init = q.Init, scale = q.Scale, lo = q.Lo, hi = q.Hi, pad = q.Pad;
        Vector512<int> zero = q.Zero;
        for (int oy = 0; oy < outH; oy += 2)
        {
            // Input rows 2oy - 1 .. 2oy + 3 feed output rows oy (rows 0..2) and oy + 1 (rows 2..4; dropped past the last).
            int iy = (2 * oy) - 1;
            byte* r0 = iy >= 0 ? src + ((long)iy * inW) : padRow;
            byte* r1 = iy + 1 < inH ? src + ((long)(iy + 1) * inW) : padRow;
            byte* r2 = iy + 2 < inH ? src + ((long)(iy + 2) * inW) : padRow;
            byte* r3 = iy + 3 < inH ? src + ((long)(iy + 3) * inW) : padRow;
            byte* r4 = iy + 4 < inH ? src + ((long)(iy + 4) * inW) : padRow;
            bool second = oy + 1 < outH;
            byte* d0 = dst + ((long)oy * outW), d1 = d0 + outW;

            // The left taps (column 2j - 1: odd column j - 1) are summed per output row unshifted, then shifted once.
            Vector512<float> s0 = pad * (k0 + k3 + k6), s1 = s0; // the previous chunk's left sums: padding
            for (int c = 0; c < chunks; c++)
            {
                int x = 32 * c;
                Vector512<float> e0, o0, e1, o1, e2, o2, e3, o3, e4, o4;
                if (x + 32 <= inW)
                {
                    Widen32(Vector256.Load(r0 + x), out e0, out o0);
                    Widen32(Vector256.Load(r1 + x), out e1, out o1);
                    Widen32(Vector256.Load(r2 + x), out e2, out o2);
                    Widen32(Vector256.Load(r3 + x), out e3, out o3);
                    Widen32(Vector256.Load(r4 + x), out e4, out o4);
                }
                else
                {
                    Vector256<byte> m = Valid32(inW - x);
                    Widen32(Avx512BW.VL.MaskLoad(r0 + x, m, zxBytes), out e0, out o0);
                    Widen32(Avx512BW.VL.MaskLoad(r1 + x, m, zxBytes), out e1, out o1);
                    Widen32(Avx512BW.VL.MaskLoad(r2 + x, m, zxBytes), out e2, out o2);
                    Widen32(Avx512BW.VL.MaskLoad(r3 + x, m, zxBytes), out e3, out o3);
                    Widen32(Avx512BW.VL.MaskLoad(r4 + x, m, zxBytes), out e4, out o4);
                }

                Vector512<float> l0 = Vector512.FusedMultiplyAdd(k6, o2, Vector512.FusedMultiplyAdd(k3, o1, k0 * o0));
                Vector512<float> l1 = Vector512.FusedMultiplyAdd(k6, o4, Vector512.FusedMultiplyAdd(k3, o3, k0 * o2));
                Vector512<float> a = Vector512.FusedMultiplyAdd(k1, e0, init);
                Vector512<float> b = Vector512.FusedMultiplyAdd(k1, e2, init);
                a = Vector512.FusedMultiplyAdd(k2, o0, a);
                b = Vector512.FusedMultiplyAdd(k2, o2, b);
                a = Vector512.FusedMultiplyAdd(k4, e1, a);
                b = Vector512.FusedMultiplyAdd(k4, e3, b);
                a = Vector512.FusedMultiplyAdd(k5, o1, a);
                b = Vector512.FusedMultiplyAdd(k5, o3, b);
                a = Vector512.FusedMultiplyAdd(k7, e2, a);
                b = Vector512.FusedMultiplyAdd(k7, e4, b);
                a = Vector512.FusedMultiplyAdd(k8, o2, a);
                b = Vector512.FusedMultiplyAdd(k8, o4, b);
                StorePair(a + Left(l0, s0), b + Left(l1, s1), scale, lo, hi, zero, d0 + (16 * c), d1 + (16 * c), second, c == chunks - 1, outMask);

                s0 = l0;
                s1 = l1;
            }
        }
    }
}
