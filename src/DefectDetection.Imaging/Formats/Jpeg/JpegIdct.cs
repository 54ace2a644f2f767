using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// The accurate integer inverse DCT of libjpeg ("islow", jidctint.c: 13-bit constants, 2 extra bits after the
/// first pass), bit-exact with it for coefficients from real encoders. <see cref="Transform"/> runs the Vector256
/// version (both passes on eight columns at once, with two 8x8 transposes) when AVX2 is present; elsewhere (ARM64, x86 without AVX2) a cross-platform Vector128 version (four columns
/// per vector, 4x4 transposes built from 64-bit halves) and, without any SIMD, the scalar reference.
/// </summary>
internal static unsafe class JpegIdct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;
    private const int Fix0298631336 = 2446;
    private const int Fix0390180644 = 3196;
    private const int Fix0541196100 = 4433;
    private const int Fix0765366865 = 6270;
    private const int Fix0899976223 = 7373;
    private const int Fix1175875602 = 9633;
    private const int Fix1501321110 = 12299;
    private const int Fix1847759065 = 15137;
    private const int Fix1961570560 = 16069;
    private const int Fix2053119869 = 16819;
    private const int Fix2562915447 = 20995;
    private const int Fix3072711026 = 25172;

    /// <summary>True when a vector path is used.</summary>
    public static bool IsVectorized => Avx2.IsSupported || Vector128.IsHardwareAccelerated;

    /// <summary>Dequantises and transforms one block (natural order) into 8x8 samples at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transform(short* coefs, int* quant, byte* dst, int stride)
    {
        if (Avx2.IsSupported)
        {
            TransformAvx2(coefs, quant, dst, stride);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            TransformVector128(coefs, quant, dst, stride);
        }
        else
        {
            TransformScalar(coefs, quant, dst, stride);
        }
    }

    /// <summary>Fills the block with its DC value when all AC coefficients are zero (the same result as the full transform).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void TransformDcOnly(short* coefs, int* quant, byte* dst, int stride)
    {
        int dc = coefs[0] * quant[0];
        int v = ((dc << Pass1Bits) + (1 << (Pass1Bits + 2))) >> (Pass1Bits + 3);
        byte b = (byte)Math.Clamp(v + 128, 0, 255);
        ulong fill = b * 0x0101010101010101UL;
        for (int y = 0; y < 8; y++)
        {
            *(ulong*)(dst + (y * stride)) = fill;
        }
    }

    /// <summary>The plain scalar reference (jpeg_idct_islow).</summary>
    public static void TransformScalar(short* coefs, int* quant, byte* dst, int stride)
    {
        int* ws = stackalloc int[64];
        for (int c = 0; c < 8; c++)
        {
            short* inp = coefs + c;
            int* q = quant + c;
            int* w = ws + c;
            if (inp[8] == 0 && inp[16] == 0 && inp[24] == 0 && inp[32] == 0 && inp[40] == 0 && inp[48] == 0 && inp[56] == 0)
            {
                int dcval = inp[0] * q[0] << Pass1Bits;
                for (int k = 0; k < 8; k++)
                {
                    w[k * 8] = dcval;
                }

                continue;
            }

            Kernel(
                inp[0] * q[0], inp[8] * q[8], inp[16] * q[16], inp[24] * q[24],
                inp[32] * q[32], inp[40] * q[40], inp[48] * q[48], inp[56] * q[56],
                out int o0, out int o1, out int o2, out int o3, out int o4, out int o5, out int o6, out int o7);
            const int shift = ConstBits - Pass1Bits;
            const int round = 1 << (shift - 1);
            w[0] = (o0 + round) >> shift;
            w[8] = (o1 + round) >> shift;
            w[16] = (o2 + round) >> shift;
            w[24] = (o3 + round) >> shift;
            w[32] = (o4 + round) >> shift;
            w[40] = (o5 + round) >> shift;
            w[48] = (o6 + round) >> shift;
            w[56] = (o7 + round) >> shift;
        }

        for (int r = 0; r < 8; r++)
        {
            int* w = ws + (r * 8);
            byte* o = dst + (r * stride);
            Kernel(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7],
                out int o0, out int o1, out int o2, out int o3, out int o4, out int o5, out int o6, out int o7);
            const int shift = ConstBits + Pass1Bits + 3;
            const int round = 1 << (shift - 1);
            o[0] = Clamp(((o0 + round) >> shift) + 128);
            o[1] = Clamp(((o1 + round) >> shift) + 128);
            o[2] = Clamp(((o2 + round) >> shift) + 128);
            o[3] = Clamp(((o3 + round) >> shift) + 128);
            o[4] = Clamp(((o4 + round) >> shift) + 128);
            o[5] = Clamp(((o5 + round) >> shift) + 128);
            o[6] = Clamp(((o6 + round) >> shift) + 128);
            o[7] = Clamp(((o7 + round) >> shift) + 128);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);

    /// <summary>One 8-point pass; outputs are before descaling (scaled by 2^13).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(int i0, int i1, int i2, int i3, int i4, int i5, int i6, int i7,
        out int o0, out int o1, out int o2, out int o3, out int o4, out int o5, out int o6, out int o7)
    {
        int z1 = (i2 + i6) * Fix0541196100;
        int tmp2 = z1 + (i6 * -Fix1847759065);
        int tmp3 = z1 + (i2 * Fix0765366865);
        int tmp0 = (i0 + i4) << ConstBits;
        int tmp1 = (i0 - i4) << ConstBits;
        int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

        tmp0 = i7;
        tmp1 = i5;
        tmp2 = i3;
        tmp3 = i1;
        z1 = tmp0 + tmp3;
        int z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3;
        int z5 = (z3 + z4) * Fix1175875602;
        tmp0 *= Fix0298631336;
        tmp1 *= Fix2053119869;
        tmp2 *= Fix3072711026;
        tmp3 *= Fix1501321110;
        z1 *= -Fix0899976223;
        z2 *= -Fix2562915447;
        z3 *= -Fix1961570560;
        z4 *= -Fix0390180644;
        z3 += z5;
        z4 += z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;

        o0 = tmp10 + tmp3;
        o7 = tmp10 - tmp3;
        o1 = tmp11 + tmp2;
        o6 = tmp11 - tmp2;
        o2 = tmp12 + tmp1;
        o5 = tmp12 - tmp1;
        o3 = tmp13 + tmp0;
        o4 = tmp13 - tmp0;
    }

    private static void TransformAvx2(short* coefs, int* quant, byte* dst, int stride)
    {
        Vector256<int> r0 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefs), Avx.LoadVector256(quant));
        Vector256<int> r1 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefs + 8), Avx.LoadVector256(quant + 8));
        Vector256<int> r2 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefs + 16), Avx.LoadVector256(quant + 16));
        Vector256<int> r3 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefs + 24), Avx.LoadVector256(quant + 24));
        Vector256<int> r4 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefs + 32), Avx.LoadVector256(quant + 32));
        Vector256<int> r5 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefs + 40), Avx.LoadVector256(quant + 40));
        Vector256<int> r6 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefs + 48), Avx.LoadVector256(quant + 48));
        Vector256<int> r7 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefs + 56), Avx.LoadVector256(quant + 56));

        // Pass 1 on columns: lane c of row vector k is coefficient (k, c). The DC-only shortcut of the scalar
        // code gives the same result as the full pass, so it is not needed here.
        KernelVec(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Vector256<int> round1 = Vector256.Create(1 << (ConstBits - Pass1Bits - 1));
        r0 = Avx2.ShiftRightArithmetic(r0 + round1, ConstBits - Pass1Bits);
        r1 = Avx2.ShiftRightArithmetic(r1 + round1, ConstBits - Pass1Bits);
        r2 = Avx2.ShiftRightArithmetic(r2 + round1, ConstBits - Pass1Bits);
        r3 = Avx2.ShiftRightArithmetic(r3 + round1, ConstBits - Pass1Bits);
        r4 = Avx2.ShiftRightArithmetic(r4 + round1, ConstBits - Pass1Bits);
        r5 = Avx2.ShiftRightArithmetic(r5 + round1, ConstBits - Pass1Bits);
        r6 = Avx2.ShiftRightArithmetic(r6 + round1, ConstBits - Pass1Bits);
        r7 = Avx2.ShiftRightArithmetic(r7 + round1, ConstBits - Pass1Bits);

        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        KernelVec(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);

        Vector256<int> round2 = Vector256.Create((1 << (ConstBits + Pass1Bits + 2)) + (128 << (ConstBits + Pass1Bits + 3)));
        const int shift = ConstBits + Pass1Bits + 3;
        Vector256<short> p01 = Avx2.PackSignedSaturate(Avx2.ShiftRightArithmetic(r0 + round2, shift), Avx2.ShiftRightArithmetic(r1 + round2, shift));
        Vector256<short> p23 = Avx2.PackSignedSaturate(Avx2.ShiftRightArithmetic(r2 + round2, shift), Avx2.ShiftRightArithmetic(r3 + round2, shift));
        Vector256<short> p45 = Avx2.PackSignedSaturate(Avx2.ShiftRightArithmetic(r4 + round2, shift), Avx2.ShiftRightArithmetic(r5 + round2, shift));
        Vector256<short> p67 = Avx2.PackSignedSaturate(Avx2.ShiftRightArithmetic(r6 + round2, shift), Avx2.ShiftRightArithmetic(r7 + round2, shift));

        // Per 128-bit lane, PackSignedSaturate interleaves: p01 = [r0 lo4, r1 lo4 | r0 hi4, r1 hi4].
        // PackUnsignedSaturate(p01, p23) per lane: [r0 lo4, r1 lo4, r2 lo4, r3 lo4 | r0 hi4, r1 hi4, r2 hi4, r3 hi4].
        Vector256<byte> b0123 = Avx2.PackUnsignedSaturate(p01, p23);
        Vector256<byte> b4567 = Avx2.PackUnsignedSaturate(p45, p67);

        // Gather each row's 8 bytes: row r = lo-lane dword r and hi-lane dword r.
        Vector256<int> rows0123 = Avx2.PermuteVar8x32(b0123.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7));
        Vector256<int> rows4567 = Avx2.PermuteVar8x32(b4567.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7));
        Vector256<ulong> q0 = rows0123.AsUInt64();
        Vector256<ulong> q1 = rows4567.AsUInt64();
        *(ulong*)dst = q0.GetElement(0);
        *(ulong*)(dst + stride) = q0.GetElement(1);
        *(ulong*)(dst + (2 * stride)) = q0.GetElement(2);
        *(ulong*)(dst + (3 * stride)) = q0.GetElement(3);
        *(ulong*)(dst + (4 * stride)) = q1.GetElement(0);
        *(ulong*)(dst + (5 * stride)) = q1.GetElement(1);
        *(ulong*)(dst + (6 * stride)) = q1.GetElement(2);
        *(ulong*)(dst + (7 * stride)) = q1.GetElement(3);
    }

    /// <summary>The cross-platform Vector128 version: rows held as (columns 0-3, columns 4-7) pairs.</summary>
    public static void TransformVector128(short* coefs, int* quant, byte* dst, int stride)
    {
        Vector128<int>* lo = stackalloc Vector128<int>[8];
        Vector128<int>* hi = stackalloc Vector128<int>[8];
        for (int r = 0; r < 8; r++)
        {
            (Vector128<int> l, Vector128<int> h) = Vector128.Widen(Vector128.Load(coefs + (r * 8)));
            lo[r] = l * Vector128.Load(quant + (r * 8));
            hi[r] = h * Vector128.Load(quant + (r * 8) + 4);
        }

        Vector128<int> round1 = Vector128.Create(1 << (ConstBits - Pass1Bits - 1));
        Kernel128(lo);
        Kernel128(hi);
        for (int r = 0; r < 8; r++)
        {
            lo[r] = Vector128.ShiftRightArithmetic(lo[r] + round1, ConstBits - Pass1Bits);
            hi[r] = Vector128.ShiftRightArithmetic(hi[r] + round1, ConstBits - Pass1Bits);
        }

        Transpose8x8(lo, hi);
        Kernel128(lo);
        Kernel128(hi);
        Transpose8x8(lo, hi);

        Vector128<int> round2 = Vector128.Create((1 << (ConstBits + Pass1Bits + 2)) + (128 << (ConstBits + Pass1Bits + 3)));
        Vector128<int> zero = Vector128<int>.Zero, max = Vector128.Create(255);
        for (int r = 0; r < 8; r++)
        {
            Vector128<int> l = Vector128.Min(Vector128.Max(Vector128.ShiftRightArithmetic(lo[r] + round2, ConstBits + Pass1Bits + 3), zero), max);
            Vector128<int> h = Vector128.Min(Vector128.Max(Vector128.ShiftRightArithmetic(hi[r] + round2, ConstBits + Pass1Bits + 3), zero), max);
            Vector128<ushort> s16 = Vector128.Narrow(l.AsUInt32(), h.AsUInt32());
            *(ulong*)(dst + (r * stride)) = Vector128.Narrow(s16, s16).AsUInt64().ToScalar();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel128(Vector128<int>* v)
    {
        Vector128<int> i0 = v[0], i1 = v[1], i2 = v[2], i3 = v[3], i4 = v[4], i5 = v[5], i6 = v[6], i7 = v[7];
        Vector128<int> z1 = (i2 + i6) * Fix0541196100;
        Vector128<int> tmp2 = z1 + (i6 * -Fix1847759065);
        Vector128<int> tmp3 = z1 + (i2 * Fix0765366865);
        Vector128<int> tmp0 = Vector128.ShiftLeft(i0 + i4, ConstBits);
        Vector128<int> tmp1 = Vector128.ShiftLeft(i0 - i4, ConstBits);
        Vector128<int> tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

        Vector128<int> z3 = i7 + i3, z4 = i5 + i1;
        Vector128<int> z5 = (z3 + z4) * Fix1175875602;
        Vector128<int> z1b = (i7 + i1) * -Fix0899976223;
        Vector128<int> z2b = (i5 + i3) * -Fix2562915447;
        z3 = (z3 * -Fix1961570560) + z5;
        z4 = (z4 * -Fix0390180644) + z5;
        Vector128<int> t0 = (i7 * Fix0298631336) + z1b + z3;
        Vector128<int> t1 = (i5 * Fix2053119869) + z2b + z4;
        Vector128<int> t2 = (i3 * Fix3072711026) + z2b + z3;
        Vector128<int> t3 = (i1 * Fix1501321110) + z1b + z4;

        v[0] = tmp10 + t3;
        v[7] = tmp10 - t3;
        v[1] = tmp11 + t2;
        v[6] = tmp11 - t2;
        v[2] = tmp12 + t1;
        v[5] = tmp12 - t1;
        v[3] = tmp13 + t0;
        v[4] = tmp13 - t0;
    }

    /// <summary>Transposes the 8x8 matrix held as row halves (lo = columns 0-3, hi = columns 4-7).</summary>
    private static void Transpose8x8(Vector128<int>* lo, Vector128<int>* hi)
    {
        Transpose4x4(lo[0], lo[1], lo[2], lo[3], out Vector128<int> a0, out Vector128<int> a1, out Vector128<int> a2, out Vector128<int> a3);
        Transpose4x4(hi[0], hi[1], hi[2], hi[3], out Vector128<int> b0, out Vector128<int> b1, out Vector128<int> b2, out Vector128<int> b3);
        Transpose4x4(lo[4], lo[5], lo[6], lo[7], out Vector128<int> c0, out Vector128<int> c1, out Vector128<int> c2, out Vector128<int> c3);
        Transpose4x4(hi[4], hi[5], hi[6], hi[7], out Vector128<int> d0, out Vector128<int> d1, out Vector128<int> d2, out Vector128<int> d3);

        // New row c < 4: (old rows 0-3 of column c, old rows 4-7 of column c) = (a_c, c_c); row 4 + c = (b_c, d_c).
        lo[0] = a0; hi[0] = c0;
        lo[1] = a1; hi[1] = c1;
        lo[2] = a2; hi[2] = c2;
        lo[3] = a3; hi[3] = c3;
        lo[4] = b0; hi[4] = d0;
        lo[5] = b1; hi[5] = d1;
        lo[6] = b2; hi[6] = d2;
        lo[7] = b3; hi[7] = d3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d,
        out Vector128<int> r0, out Vector128<int> r1, out Vector128<int> r2, out Vector128<int> r3)
    {
        Vector128<int> order = Vector128.Create(0, 2, 1, 3);
        Vector128<int> t0 = Vector128.Shuffle(Vector128.Create(a.GetLower(), b.GetLower()), order); // a0 b0 a1 b1
        Vector128<int> t1 = Vector128.Shuffle(Vector128.Create(c.GetLower(), d.GetLower()), order); // c0 d0 c1 d1
        Vector128<int> t2 = Vector128.Shuffle(Vector128.Create(a.GetUpper(), b.GetUpper()), order); // a2 b2 a3 b3
        Vector128<int> t3 = Vector128.Shuffle(Vector128.Create(c.GetUpper(), d.GetUpper()), order); // c2 d2 c3 d3
        r0 = Vector128.Create(t0.GetLower(), t1.GetLower());
        r1 = Vector128.Create(t0.GetUpper(), t1.GetUpper());
        r2 = Vector128.Create(t2.GetLower(), t3.GetLower());
        r3 = Vector128.Create(t2.GetUpper(), t3.GetUpper());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KernelVec(ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3,
        ref Vector256<int> i4, ref Vector256<int> i5, ref Vector256<int> i6, ref Vector256<int> i7)
    {
        Vector256<int> z1 = Avx2.MultiplyLow(i2 + i6, Vector256.Create(Fix0541196100));
        Vector256<int> tmp2 = z1 + Avx2.MultiplyLow(i6, Vector256.Create(-Fix1847759065));
        Vector256<int> tmp3 = z1 + Avx2.MultiplyLow(i2, Vector256.Create(Fix0765366865));
        Vector256<int> tmp0 = Avx2.ShiftLeftLogical(i0 + i4, ConstBits);
        Vector256<int> tmp1 = Avx2.ShiftLeftLogical(i0 - i4, ConstBits);
        Vector256<int> tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

        Vector256<int> t0 = i7, t1 = i5, t2 = i3, t3 = i1;
        Vector256<int> z3 = t0 + t2, z4 = t1 + t3;
        Vector256<int> z5 = Avx2.MultiplyLow(z3 + z4, Vector256.Create(Fix1175875602));
        Vector256<int> z1b = Avx2.MultiplyLow(t0 + t3, Vector256.Create(-Fix0899976223));
        Vector256<int> z2b = Avx2.MultiplyLow(t1 + t2, Vector256.Create(-Fix2562915447));
        z3 = Avx2.MultiplyLow(z3, Vector256.Create(-Fix1961570560)) + z5;
        z4 = Avx2.MultiplyLow(z4, Vector256.Create(-Fix0390180644)) + z5;
        t0 = Avx2.MultiplyLow(t0, Vector256.Create(Fix0298631336)) + z1b + z3;
        t1 = Avx2.MultiplyLow(t1, Vector256.Create(Fix2053119869)) + z2b + z4;
        t2 = Avx2.MultiplyLow(t2, Vector256.Create(Fix3072711026)) + z2b + z3;
        t3 = Avx2.MultiplyLow(t3, Vector256.Create(Fix1501321110)) + z1b + z4;

        i0 = tmp10 + t3;
        i7 = tmp10 - t3;
        i1 = tmp11 + t2;
        i6 = tmp11 - t2;
        i2 = tmp12 + t1;
        i5 = tmp12 - t1;
        i3 = tmp13 + t0;
        i4 = tmp13 - t0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector256<int> r0, ref Vector256<int> r1, ref Vector256<int> r2, ref Vector256<int> r3,
        ref Vector256<int> r4, ref Vector256<int> r5, ref Vector256<int> r6, ref Vector256<int> r7)
    {
        Vector256<int> t0 = Avx2.UnpackLow(r0, r1);
        Vector256<int> t1 = Avx2.UnpackHigh(r0, r1);
        Vector256<int> t2 = Avx2.UnpackLow(r2, r3);
        Vector256<int> t3 = Avx2.UnpackHigh(r2, r3);
        Vector256<int> t4 = Avx2.UnpackLow(r4, r5);
        Vector256<int> t5 = Avx2.UnpackHigh(r4, r5);
        Vector256<int> t6 = Avx2.UnpackLow(r6, r7);
        Vector256<int> t7 = Avx2.UnpackHigh(r6, r7);

        Vector256<int> u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32();
        Vector256<int> u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
        Vector256<int> u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32();
        Vector256<int> u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
        Vector256<int> u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()).AsInt32();
        Vector256<int> u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64()).AsInt32();
        Vector256<int> u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()).AsInt32();
        Vector256<int> u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64()).AsInt32();

        r0 = Avx2.Permute2x128(u0, u4, 0x20);
        r1 = Avx2.Permute2x128(u1, u5, 0x20);
        r2 = Avx2.Permute2x128(u2, u6, 0x20);
        r3 = Avx2.Permute2x128(u3, u7, 0x20);
        r4 = Avx2.Permute2x128(u0, u4, 0x31);
        r5 = Avx2.Permute2x128(u1, u5, 0x31);
        r6 = Avx2.Permute2x128(u2, u6, 0x31);
        r7 = Avx2.Permute2x128(u3, u7, 0x31);
    }
}
