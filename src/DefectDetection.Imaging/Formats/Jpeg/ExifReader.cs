namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>Reads the orientation tag (0x0112) from the TIFF structure of an EXIF APP1 segment.</summary>
internal static class ExifReader
{
    /// <summary>The orientation in IFD0 of <paramref name="tiff"/> (starting at the byte-order mark), or Unknown.</summary>
    public static ExifOrientation ReadOrientation(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
        {
            return ExifOrientation.Unknown;
        }

        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I')
        {
            little = true;
        }
        else if (tiff[0] == 'M' && tiff[1] == 'M')
        {
            little = false;
        }
        else
        {
            return ExifOrientation.Unknown;
        }

        if (Read16(tiff, 2, little) != 42)
        {
            return ExifOrientation.Unknown;
        }

        long ifd = Read32(tiff, 4, little);
        if (ifd < 8 || ifd + 2 > tiff.Length)
        {
            return ExifOrientation.Unknown;
        }

        int count = Read16(tiff, (int)ifd, little);
        for (int i = 0; i < count; i++)
        {
            long entry = ifd + 2 + (12L * i);
            if (entry + 12 > tiff.Length)
            {
                break;
            }

            int e = (int)entry;
            if (Read16(tiff, e, little) != 0x0112)
            {
                continue;
            }

            int type = Read16(tiff, e + 2, little);
            int value = type switch
            {
                3 => Read16(tiff, e + 8, little), // SHORT, stored in the value field
                4 or 9 => (int)Read32(tiff, e + 8, little),
                _ => 0,
            };
            return value is >= 1 and <= 8 ? (ExifOrientation)value : ExifOrientation.Unknown;
        }

        return ExifOrientation.Unknown;
    }

    private static int Read16(ReadOnlySpan<byte> d, int p, bool little) =>
        little ? d[p] | (d[p + 1] << 8) : (d[p] << 8) | d[p + 1];

    private static long Read32(ReadOnlySpan<byte> d, int p, bool little) =>
        little
            ? (uint)(d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24))
            : (uint)((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]);
}
