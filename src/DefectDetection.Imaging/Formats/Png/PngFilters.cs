using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DefectDetection.Imaging.Formats.Png;

/// <summary>The five PNG scanline filter types (PNG specification, section 9).</summary>
internal enum PngFilterType : byte
{
    None = 0,
    Sub = 1,
    Up = 2,
    Average = 3,
    Paeth = 4,
}

/// <summary>
/// PNG scanline filters: undoing them when decoding and applying them when encoding. <c>bpp</c> is the filter's
/// byte step: bytes per complete pixel, at least 1. Decoding Sub, Average and Paeth carries a dependency from
/// pixel to pixel, so for 3- and 4-byte pixels one whole pixel is processed per <see cref="Vector128"/>
/// operation; Up is element-wise. Encoding has no dependency and is vectorised over whole rows.
/// </summary>
internal static class PngFilters
{
    /// <summary>Reverses <paramref name="filter"/> in place on <paramref name="row"/> given the previous reconstructed row.</summary>
    /// <param name="filter">The filter type byte (0..4; the caller validates it).</param>
    /// <param name="row">The filtered bytes of the row, replaced by the reconstructed bytes.</param>
    /// <param name="prev">The previous reconstructed row (all zero for a pass's first row), same length.</param>
    /// <param name="bpp">Filter byte step.</param>
    public static void Unfilter(PngFilterType filter, Span<byte> row, ReadOnlySpan<byte> prev, int bpp)
    {
        switch (filter)
        {
            case PngFilterType.None:
                break;
            case PngFilterType.Sub:
                UnfilterSub(row, bpp);
                break;
            case PngFilterType.Up:
                TensorPrimitives.Add(row, prev[..row.Length], row);
                break;
            case PngFilterType.Average:
                UnfilterAverage(row, prev, bpp);
                break;
            default:
                UnfilterPaeth(row, prev, bpp);
                break;
        }
    }

    /// <summary>Undoes Sub: Recon(x) = Filt(x) + Recon(a).</summary>
    internal static void UnfilterSub(Span<byte> row, int bpp)
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        int n = row.Length;
        if (bpp == 4 && n % 4 == 0)
        {
            // Four bytes at once as packed bytes: add without carries crossing byte lanes.
            uint left = 0;
            for (int i = 0; i < n; i += 4)
            {
                uint cur = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref r, i));
                left = AddBytes(cur, left);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref r, i), left);
            }

            return;
        }

        int x = bpp;
        if (bpp == 3 && n >= 7)
        {
            // Three bytes at once in a packed word; the fourth byte read belongs to the next pixel and is not stored.
            uint left = Unsafe.ReadUnaligned<uint>(ref r) & 0x00FFFFFFu;
            for (; x + 4 <= n; x += 3)
            {
                uint cur = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref r, x)) & 0x00FFFFFFu;
                left = AddBytes(cur, left) & 0x00FFFFFFu;
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref r, x), (ushort)left);
                Unsafe.Add(ref r, x + 2) = (byte)(left >> 16);
            }
        }

        for (; x < n; x++)
        {
            Unsafe.Add(ref r, x) += Unsafe.Add(ref r, x - bpp);
        }
    }

    /// <summary>Undoes Average: Recon(x) = Filt(x) + floor((Recon(a) + Recon(b)) / 2).</summary>
    internal static void UnfilterAverage(Span<byte> row, ReadOnlySpan<byte> prev, int bpp)
    {
        int n = row.Length;
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref byte p = ref MemoryMarshal.GetReference(prev);
        int first = Math.Min(bpp, n);
        for (int i = 0; i < first; i++)
        {
            Unsafe.Add(ref r, i) += (byte)(Unsafe.Add(ref p, i) >> 1);
        }

        int x = bpp;
        if ((bpp == 3 || bpp == 4) && n >= bpp + 4 && Vector128.IsHardwareAccelerated)
        {
            // One pixel per step: a = previous reconstructed pixel, b = pixel above; both in 16-bit lanes.
            Vector128<ushort> a = LoadPixel(ref r, 0, bpp);
            for (; x + 4 <= n; x += bpp)
            {
                Vector128<ushort> b = LoadPixel(ref p, x, bpp);
                Vector128<ushort> f = LoadPixel(ref r, x, bpp);
                a = (f + ((a + b) >>> 1)) & Vector128.Create((ushort)0xFF);
                StorePixel(ref r, x, bpp, a);
            }
        }

        for (; x < n; x++)
        {
            Unsafe.Add(ref r, x) += (byte)((Unsafe.Add(ref r, x - bpp) + Unsafe.Add(ref p, x)) >> 1);
        }
    }

    /// <summary>Undoes Paeth: Recon(x) = Filt(x) + PaethPredictor(Recon(a), Recon(b), Recon(c)).</summary>
    internal static void UnfilterPaeth(Span<byte> row, ReadOnlySpan<byte> prev, int bpp)
    {
        int n = row.Length;
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref byte p = ref MemoryMarshal.GetReference(prev);
        int first = Math.Min(bpp, n);
        for (int i = 0; i < first; i++)
        {
            // a = c = 0, so the predictor is b.
            Unsafe.Add(ref r, i) += Unsafe.Add(ref p, i);
        }

        int x = bpp;
        if ((bpp == 3 || bpp == 4) && n >= bpp + 4 && Vector128.IsHardwareAccelerated)
        {
            Vector128<short> a = LoadPixel(ref r, 0, bpp).AsInt16();
            Vector128<short> c = LoadPixel(ref p, 0, bpp).AsInt16();
            for (; x + 4 <= n; x += bpp)
            {
                Vector128<short> b = LoadPixel(ref p, x, bpp).AsInt16();
                Vector128<short> f = LoadPixel(ref r, x, bpp).AsInt16();
                a = (f + PaethPredictor(a, b, c)) & Vector128.Create((short)0xFF);
                StorePixel(ref r, x, bpp, a.AsUInt16());
                c = b;
            }
        }

        for (; x < n; x++)
        {
            Unsafe.Add(ref r, x) += PaethPredictor(Unsafe.Add(ref r, x - bpp), Unsafe.Add(ref p, x), Unsafe.Add(ref p, x - bpp));
        }
    }

    /// <summary>
    /// Applies <paramref name="filter"/> to one row for encoding: <paramref name="output"/> receives the filtered
    /// bytes (same length as <paramref name="row"/>).
    /// </summary>
    public static void Filter(PngFilterType filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prev, int bpp, Span<byte> output)
    {
        int n = row.Length;
        int first = Math.Min(bpp, n);
        switch (filter)
        {
            case PngFilterType.None:
                row.CopyTo(output);
                break;
            case PngFilterType.Sub:
                row[..first].CopyTo(output);
                TensorPrimitives.Subtract(row[first..], row[..(n - first)], output[first..n]);
                break;
            case PngFilterType.Up:
                TensorPrimitives.Subtract(row, prev[..n], output[..n]);
                break;
            case PngFilterType.Average:
                FilterAverage(row, prev, bpp, output);
                break;
            default:
                FilterPaeth(row, prev, bpp, output);
                break;
        }
    }

    internal static void FilterAverage(ReadOnlySpan<byte> row, ReadOnlySpan<byte> prev, int bpp, Span<byte> output)
    {
        int n = row.Length;
        int first = Math.Min(bpp, n);
        for (int i = 0; i < first; i++)
        {
            output[i] = (byte)(row[i] - (prev[i] >> 1));
        }

        int x = bpp;
        if (Vector128.IsHardwareAccelerated)
        {
            ref byte r = ref MemoryMarshal.GetReference(row);
            ref byte p = ref MemoryMarshal.GetReference(prev);
            ref byte o = ref MemoryMarshal.GetReference(output);
            for (; x + 16 <= n; x += 16)
            {
                Vector128<byte> cur = Vector128.LoadUnsafe(ref r, (nuint)x);
                Vector128<byte> a = Vector128.LoadUnsafe(ref r, (nuint)(x - bpp));
                Vector128<byte> b = Vector128.LoadUnsafe(ref p, (nuint)x);

                // floor((a + b) / 2) without overflow: (a & b) + ((a ^ b) >> 1).
                Vector128<byte> avg = (a & b) + ((a ^ b) >>> 1);
                (cur - avg).StoreUnsafe(ref o, (nuint)x);
            }
        }

        for (; x < n; x++)
        {
            output[x] = (byte)(row[x] - ((row[x - bpp] + prev[x]) >> 1));
        }
    }

    internal static void FilterPaeth(ReadOnlySpan<byte> row, ReadOnlySpan<byte> prev, int bpp, Span<byte> output)
    {
        int n = row.Length;
        int first = Math.Min(bpp, n);
        for (int i = 0; i < first; i++)
        {
            output[i] = (byte)(row[i] - prev[i]);
        }

        int x = bpp;
        if (Vector128.IsHardwareAccelerated)
        {
            ref byte r = ref MemoryMarshal.GetReference(row);
            ref byte p = ref MemoryMarshal.GetReference(prev);
            ref byte o = ref MemoryMarshal.GetReference(output);
            for (; x + 16 <= n; x += 16)
            {
                (Vector128<ushort> curLo, Vector128<ushort> curHi) = Vector128.Widen(Vector128.LoadUnsafe(ref r, (nuint)x));
                (Vector128<ushort> aLo, Vector128<ushort> aHi) = Vector128.Widen(Vector128.LoadUnsafe(ref r, (nuint)(x - bpp)));
                (Vector128<ushort> bLo, Vector128<ushort> bHi) = Vector128.Widen(Vector128.LoadUnsafe(ref p, (nuint)x));
                (Vector128<ushort> cLo, Vector128<ushort> cHi) = Vector128.Widen(Vector128.LoadUnsafe(ref p, (nuint)(x - bpp)));
                Vector128<short> lo = curLo.AsInt16() - PaethPredictor(aLo.AsInt16(), bLo.AsInt16(), cLo.AsInt16());
                Vector128<short> hi = curHi.AsInt16() - PaethPredictor(aHi.AsInt16(), bHi.AsInt16(), cHi.AsInt16());
                Vector128.Narrow(lo & Vector128.Create((short)0xFF), hi & Vector128.Create((short)0xFF)).AsByte().StoreUnsafe(ref o, (nuint)x);
            }
        }

        for (; x < n; x++)
        {
            output[x] = (byte)(row[x] - PaethPredictor(row[x - bpp], prev[x], prev[x - bpp]));
        }
    }

    /// <summary>
    /// The sum of the filtered bytes taken as signed values, |(sbyte)v|: the "minimum sum of absolute differences"
    /// heuristic of the PNG specification for choosing a row's filter.
    /// </summary>
    public static long SumOfAbsoluteSigned(ReadOnlySpan<byte> data)
    {
        long sum = 0;
        int i = 0;
        if (Vector128.IsHardwareAccelerated && data.Length >= 16)
        {
            ref byte d = ref MemoryMarshal.GetReference(data);
            Vector128<uint> acc = Vector128<uint>.Zero;
            int blocks = 0;
            for (; i + 16 <= data.Length; i += 16)
            {
                Vector128<byte> v = Vector128.LoadUnsafe(ref d, (nuint)i);

                // |(sbyte)v| as unsigned: min(v, -v) (0x80 gives 128).
                Vector128<byte> abs = Vector128.Min(v, Vector128<byte>.Zero - v);
                (Vector128<ushort> lo, Vector128<ushort> hi) = Vector128.Widen(abs);
                (Vector128<uint> l0, Vector128<uint> l1) = Vector128.Widen(lo + hi);
                acc += l0 + l1;
                if (++blocks == 1 << 20)
                {
                    sum += Vector128.Sum(acc);
                    acc = Vector128<uint>.Zero;
                    blocks = 0;
                }
            }

            sum += Vector128.Sum(acc);
        }

        for (; i < data.Length; i++)
        {
            sum += Math.Abs((int)(sbyte)data[i]);
        }

        return sum;
    }

    /// <summary>The scalar Paeth predictor of the PNG specification.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte PaethPredictor(byte a, byte b, byte c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a);
        int pb = Math.Abs(p - b);
        int pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc)
        {
            return a;
        }

        return pb <= pc ? b : c;
    }

    /// <summary>The Paeth predictor on 16-bit lanes holding byte values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> PaethPredictor(Vector128<short> a, Vector128<short> b, Vector128<short> c)
    {
        // pa = |p - a| = |b - c|, pb = |p - b| = |a - c|, pc = |p - c| = |a + b - 2c|.
        Vector128<short> pa = Vector128.Abs(b - c);
        Vector128<short> pb = Vector128.Abs(a - c);
        Vector128<short> pc = Vector128.Abs(a + b - c - c);
        Vector128<short> useA = Vector128.LessThanOrEqual(pa, pb) & Vector128.LessThanOrEqual(pa, pc);
        Vector128<short> useB = Vector128.LessThanOrEqual(pb, pc);
        return Vector128.ConditionalSelect(useA, a, Vector128.ConditionalSelect(useB, b, c));
    }

    /// <summary>Loads 4 bytes at <paramref name="offset"/> widened to 16-bit lanes; lanes at and above <paramref name="bpp"/> are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> LoadPixel(ref byte src, int offset, int bpp)
    {
        uint v = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref src, offset));
        if (bpp == 3)
        {
            v &= 0x00FFFFFF;
        }

        return Vector128.WidenLower(Vector128.CreateScalar(v).AsByte());
    }

    /// <summary>Stores the low <paramref name="bpp"/> lanes (3 or 4) of a 16-bit pixel vector as bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePixel(ref byte dst, int offset, int bpp, Vector128<ushort> pixel)
    {
        uint v = Vector128.Narrow(pixel, pixel).AsUInt32().ToScalar();
        ref byte d = ref Unsafe.Add(ref dst, offset);
        if (bpp == 4)
        {
            Unsafe.WriteUnaligned(ref d, v);
        }
        else
        {
            Unsafe.WriteUnaligned(ref d, (ushort)v);
            Unsafe.Add(ref d, 2) = (byte)(v >> 16);
        }
    }

    /// <summary>Adds four packed bytes lane by lane, modulo 256.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AddBytes(uint x, uint y) => ((x & 0x7F7F7F7Fu) + (y & 0x7F7F7F7Fu)) ^ ((x ^ y) & 0x80808080u);
}
