using System.Buffers.Binary;

namespace DefectDetection.Imaging.Formats.Png;

/// <summary>Reads the Orientation tag (0x0112) from the TIFF-structured EXIF block of a PNG eXIf chunk.</summary>
internal static class ExifReader
{
    /// <summary>The orientation, or <see cref="ExifOrientation.Unknown"/> when absent or malformed (never throws).</summary>
    public static ExifOrientation ReadOrientation(ReadOnlySpan<byte> exif)
    {
        if (exif.Length < 8)
        {
            return ExifOrientation.Unknown;
        }

        bool little;
        if (exif[0] == (byte)'I' && exif[1] == (byte)'I')
        {
            little = true;
        }
        else if (exif[0] == (byte)'M' && exif[1] == (byte)'M')
        {
            little = false;
        }
        else
        {
            return ExifOrientation.Unknown;
        }

        if (U16(exif[2..], little) != 42)
        {
            return ExifOrientation.Unknown;
        }

        uint ifd = U32(exif[4..], little);
        if (ifd > (uint)exif.Length - 2)
        {
            return ExifOrientation.Unknown;
        }

        int count = U16(exif[(int)ifd..], little);
        for (int i = 0; i < count; i++)
        {
            long entry = ifd + 2 + (12L * i);
            if (entry + 12 > exif.Length)
            {
                break;
            }

            ReadOnlySpan<byte> e = exif.Slice((int)entry, 12);
            if (U16(e, little) == 0x0112 && U16(e[2..], little) == 3 && U32(e[4..], little) >= 1)
            {
                int value = U16(e[8..], little);
                return value is >= 1 and <= 8 ? (ExifOrientation)value : ExifOrientation.Unknown;
            }
        }

        return ExifOrientation.Unknown;
    }

    private static ushort U16(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);

    private static uint U32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
}
