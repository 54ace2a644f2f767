using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>
/// Colour conversion to interleaved RGB with libjpeg's integer arithmetic (jdcolor.c: 16-bit fixed-point
/// constants, round half up, clamp), so results equal libjpeg's exactly. YCbCr has AVX-512, Vector256 and
/// Vector128 paths; <see cref="YCbCrToRgbScalar"/> is the reference.
/// </summary>
internal static unsafe class JpegColor
{
    private const int CrR = 91881;   // FIX(1.40200)
    private const int CbG = -22554;  // -FIX(0.34414)
    private const int CrG = -46802;  // -FIX(0.71414)
    private const int CbB = 116130;  // FIX(1.77200)
    private const int Half = 1 << 15;

    /// <summary>Converts <paramref name="width"/> pixels of Y, Cb, Cr rows to RGB.</summary>
    public static void YCbCrToRgb(byte* y, byte* cb, byte* cr, byte* rgb, int width)
    {
        int x = 0;
        if (Avx512F.IsSupported)
        {
            for (; x + 16 <= width; x += 16)
            {
                Convert16Avx512(y + x, cb + x, cr + x, rgb + (3 * x));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; x + 16 <= width; x += 16)
            {
                Convert16(y + x, cb + x, cr + x, rgb + (3 * x));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; x + 16 <= width; x += 16)
            {
                Convert16Vector128(y + x, cb + x, cr + x, rgb + (3 * x));
            }
        }

        YCbCrToRgbScalar(y, cb, cr, rgb, width, x);
    }

    /// <summary>The scalar reference of <see cref="YCbCrToRgb"/> (from pixel <paramref name="from"/>).</summary>
    public static void YCbCrToRgbScalar(byte* y, byte* cb, byte* cr, byte* rgb, int width, int from = 0)
    {
        for (int x = from; x < width; x++)
        {
            int l = y[x], b = cb[x] - 128, r = cr[x] - 128;
            byte* o = rgb + (3 * x);
            o[0] = Clamp(l + (((CrR * r) + Half) >> 16));
            o[1] = Clamp(l + (((CbG * b) + (CrG * r) + Half) >> 16));
            o[2] = Clamp(l + (((CbB * b) + Half) >> 16));
        }
    }

    /// <summary>16 pixels with AVX-512: one vector of 16 int lanes per channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Convert16Avx512(byte* py, byte* pcb, byte* pcr, byte* dst)
    {
        Vector512<int> l = Avx512F.ConvertToVector512Int32(Vector128.Load(py));
        Vector512<int> b = Avx512F.ConvertToVector512Int32(Vector128.Load(pcb)) - Vector512.Create(128);
        Vector512<int> r = Avx512F.ConvertToVector512Int32(Vector128.Load(pcr)) - Vector512.Create(128);
        Vector512<int> half = Vector512.Create(Half), zero = Vector512<int>.Zero;
        Vector512<int> rv = l + Vector512.ShiftRightArithmetic((r * CrR) + half, 16);
        Vector512<int> gv = l + Vector512.ShiftRightArithmetic((b * CbG) + (r * CrG) + half, 16);
        Vector512<int> bv = l + Vector512.ShiftRightArithmetic((b * CbB) + half, 16);
        StoreRgb(
            Avx512F.ConvertToVector128ByteWithSaturation(Vector512.Max(rv, zero).AsUInt32()),
            Avx512F.ConvertToVector128ByteWithSaturation(Vector512.Max(gv, zero).AsUInt32()),
            Avx512F.ConvertToVector128ByteWithSaturation(Vector512.Max(bv, zero).AsUInt32()),
            dst);
    }

    /// <summary>16 pixels with Vector256: two vectors of 8 int lanes per channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Convert16(byte* py, byte* pcb, byte* pcr, byte* dst)
    {
        Vector128<byte> yv = Vector128.Load(py), cbv = Vector128.Load(pcb), crv = Vector128.Load(pcr);
        Vector256<short> y16 = Vector256.WidenLower(Vector256.Create(yv, yv)).AsInt16();
        Vector256<short> cb16 = Vector256.WidenLower(Vector256.Create(cbv, cbv)).AsInt16() - Vector256.Create((short)128);
        Vector256<short> cr16 = Vector256.WidenLower(Vector256.Create(crv, crv)).AsInt16() - Vector256.Create((short)128);
        (Vector256<int> yl, Vector256<int> yh) = Vector256.Widen(y16);
        (Vector256<int> bl, Vector256<int> bh) = Vector256.Widen(cb16);
        (Vector256<int> rl, Vector256<int> rh) = Vector256.Widen(cr16);
        Vector256<int> half = Vector256.Create(Half);
        Vector256<int> rL = yl + Vector256.ShiftRightArithmetic((rl * CrR) + half, 16);
        Vector256<int> rH = yh + Vector256.ShiftRightArithmetic((rh * CrR) + half, 16);
        Vector256<int> gL = yl + Vector256.ShiftRightArithmetic((bl * CbG) + (rl * CrG) + half, 16);
        Vector256<int> gH = yh + Vector256.ShiftRightArithmetic((bh * CbG) + (rh * CrG) + half, 16);
        Vector256<int> bL = yl + Vector256.ShiftRightArithmetic((bl * CbB) + half, 16);
        Vector256<int> bH = yh + Vector256.ShiftRightArithmetic((bh * CbB) + half, 16);
        Vector128<byte> r8 = ToBytes(rL, rH), g8 = ToBytes(gL, gH), b8 = ToBytes(bL, bH);
        StoreRgb(r8, g8, b8, dst);
    }

    /// <summary>The Vector128 version of <see cref="Convert16"/> (four int lanes per step).</summary>
    internal static void Convert16Vector128(byte* py, byte* pcb, byte* pcr, byte* dst)
    {
        (Vector128<ushort> y0, Vector128<ushort> y1) = Vector128.Widen(Vector128.Load(py));
        (Vector128<ushort> b0, Vector128<ushort> b1) = Vector128.Widen(Vector128.Load(pcb));
        (Vector128<ushort> r0, Vector128<ushort> r1) = Vector128.Widen(Vector128.Load(pcr));
        Vector128<byte> r8 = Vector128.Narrow(Channel(y0, r0, r0, 0), Channel(y1, r1, r1, 0));
        Vector128<byte> g8 = Vector128.Narrow(Channel(y0, b0, r0, 1), Channel(y1, b1, r1, 1));
        Vector128<byte> b8 = Vector128.Narrow(Channel(y0, b0, b0, 2), Channel(y1, b1, b1, 2));
        StoreRgb(r8, g8, b8, dst);
    }

    /// <summary>Eight pixels of one output channel (0 = R from Cr, 1 = G from Cb and Cr, 2 = B from Cb), clamped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Channel(Vector128<ushort> y, Vector128<ushort> c1, Vector128<ushort> c2, int which)
    {
        (Vector128<int> yl, Vector128<int> yh) = Vector128.Widen(y.AsInt16());
        (Vector128<int> al, Vector128<int> ah) = Vector128.Widen(c1.AsInt16() - Vector128.Create((short)128));
        (Vector128<int> bl, Vector128<int> bh) = Vector128.Widen(c2.AsInt16() - Vector128.Create((short)128));
        Vector128<int> half = Vector128.Create(Half);
        Vector128<int> lo, hi;
        if (which == 0)
        {
            lo = yl + Vector128.ShiftRightArithmetic((al * CrR) + half, 16);
            hi = yh + Vector128.ShiftRightArithmetic((ah * CrR) + half, 16);
        }
        else if (which == 1)
        {
            lo = yl + Vector128.ShiftRightArithmetic((al * CbG) + (bl * CrG) + half, 16);
            hi = yh + Vector128.ShiftRightArithmetic((ah * CbG) + (bh * CrG) + half, 16);
        }
        else
        {
            lo = yl + Vector128.ShiftRightArithmetic((al * CbB) + half, 16);
            hi = yh + Vector128.ShiftRightArithmetic((ah * CbB) + half, 16);
        }

        Vector128<int> zero = Vector128<int>.Zero, max = Vector128.Create(255);
        lo = Vector128.Min(Vector128.Max(lo, zero), max);
        hi = Vector128.Min(Vector128.Max(hi, zero), max);
        return Vector128.Narrow(lo.AsUInt32(), hi.AsUInt32());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> ToBytes(Vector256<int> lo, Vector256<int> hi)
    {
        Vector256<int> zero = Vector256<int>.Zero, max = Vector256.Create(255);
        lo = Vector256.Min(Vector256.Max(lo, zero), max);
        hi = Vector256.Min(Vector256.Max(hi, zero), max);
        Vector256<ushort> s = Vector256.Narrow(lo.AsUInt32(), hi.AsUInt32());
        return Vector128.Narrow(s.GetLower(), s.GetUpper());
    }

    /// <summary>Interleaves 16 R, G, B bytes into 48 bytes of RGB.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreRgb(Vector128<byte> r, Vector128<byte> g, Vector128<byte> b, byte* dst)
    {
        // Indices >= 16 select zero in Vector128.Shuffle.
        const byte Z = 0x80;
        Vector128<byte> o0 = Vector128.Shuffle(r, Vector128.Create(0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z, Z, 5))
            | Vector128.Shuffle(g, Vector128.Create(Z, 0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z, Z))
            | Vector128.Shuffle(b, Vector128.Create(Z, Z, 0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z));
        Vector128<byte> o1 = Vector128.Shuffle(r, Vector128.Create(Z, Z, 6, Z, Z, 7, Z, Z, 8, Z, Z, 9, Z, Z, 10, Z))
            | Vector128.Shuffle(g, Vector128.Create(5, Z, Z, 6, Z, Z, 7, Z, Z, 8, Z, Z, 9, Z, Z, 10))
            | Vector128.Shuffle(b, Vector128.Create(Z, 5, Z, Z, 6, Z, Z, 7, Z, Z, 8, Z, Z, 9, Z, Z));
        Vector128<byte> o2 = Vector128.Shuffle(r, Vector128.Create(Z, 11, Z, Z, 12, Z, Z, 13, Z, Z, 14, Z, Z, 15, Z, Z))
            | Vector128.Shuffle(g, Vector128.Create(Z, Z, 11, Z, Z, 12, Z, Z, 13, Z, Z, 14, Z, Z, 15, Z))
            | Vector128.Shuffle(b, Vector128.Create(10, Z, Z, 11, Z, Z, 12, Z, Z, 13, Z, Z, 14, Z, Z, 15));
        o0.Store(dst);
        o1.Store(dst + 16);
        o2.Store(dst + 32);
    }

    /// <summary>Interleaves three full-resolution planes (RGB JPEG).</summary>
    public static void PlanarToRgb(byte* r, byte* g, byte* b, byte* rgb, int width)
    {
        int x = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; x + 16 <= width; x += 16)
            {
                StoreRgb(Vector128.Load(r + x), Vector128.Load(g + x), Vector128.Load(b + x), rgb + (3 * x));
            }
        }

        for (; x < width; x++)
        {
            rgb[3 * x] = r[x];
            rgb[(3 * x) + 1] = g[x];
            rgb[(3 * x) + 2] = b[x];
        }
    }

    /// <summary>
    /// Adobe (inverted) CMYK to RGB as libjpeg-turbo's djpeg writes it: R = C*K/255 rounded, where C..K are the
    /// stored sample values.
    /// </summary>
    public static void CmykToRgb(byte* c, byte* m, byte* y, byte* k, byte* rgb, int width)
    {
        for (int x = 0; x < width; x++)
        {
            int kk = k[x];
            rgb[3 * x] = (byte)(((2 * c[x] * kk) + 255) / 510);
            rgb[(3 * x) + 1] = (byte)(((2 * m[x] * kk) + 255) / 510);
            rgb[(3 * x) + 2] = (byte)(((2 * y[x] * kk) + 255) / 510);
        }
    }

    /// <summary>YCCK to CMYK (libjpeg's ycck_cmyk_convert), then to RGB as <see cref="CmykToRgb"/>.</summary>
    public static void YcckToRgb(byte* y, byte* cb, byte* cr, byte* k, byte* rgb, int width)
    {
        for (int x = 0; x < width; x++)
        {
            int l = y[x], b = cb[x] - 128, r = cr[x] - 128, kk = k[x];
            int c = 255 - Clamp(l + (((CrR * r) + Half) >> 16));
            int mm = 255 - Clamp(l + (((CbG * b) + (CrG * r) + Half) >> 16));
            int yy = 255 - Clamp(l + (((CbB * b) + Half) >> 16));
            rgb[3 * x] = (byte)(((2 * c * kk) + 255) / 510);
            rgb[(3 * x) + 1] = (byte)(((2 * mm * kk) + 255) / 510);
            rgb[(3 * x) + 2] = (byte)(((2 * yy * kk) + 255) / 510);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
}
