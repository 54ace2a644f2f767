using DefectDetection.Imaging.Formats.Png;

namespace DefectDetection.Imaging.Tests.Formats.Png;

/// <summary>The filter and CRC kernels against plain scalar references written from the PNG specification.</summary>
public sealed class PngKernelTests
{
    public static TheoryData<int> Bpps() => [1, 2, 3, 4, 6, 8];

    [Theory]
    [MemberData(nameof(Bpps))]
    public void UnfilterMatchesTheScalarReferenceForAllLengths(int bpp)
    {
        Random rng = new(bpp);
        for (int length = 0; length <= 257; length++)
        {
            byte[] prev = new byte[length];
            byte[] filtered = new byte[length];
            rng.NextBytes(prev);
            rng.NextBytes(filtered);
            for (int f = 0; f <= 4; f++)
            {
                byte[] expected = ReferenceUnfilter(f, filtered, prev, bpp);
                byte[] actual = (byte[])filtered.Clone();
                PngFilters.Unfilter((PngFilterType)f, actual, prev, bpp);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"filter {f}, bpp {bpp}, length {length}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Bpps))]
    public void FilterMatchesTheScalarReferenceAndInverts(int bpp)
    {
        Random rng = new(100 + bpp);
        for (int length = 0; length <= 257; length++)
        {
            byte[] prev = new byte[length];
            byte[] row = new byte[length];
            rng.NextBytes(prev);
            rng.NextBytes(row);
            for (int f = 0; f <= 4; f++)
            {
                byte[] expected = ReferenceFilter(f, row, prev, bpp);
                byte[] actual = new byte[length];
                PngFilters.Filter((PngFilterType)f, row, prev, bpp, actual);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"filter {f}, bpp {bpp}, length {length}");
                PngFilters.Unfilter((PngFilterType)f, actual, prev, bpp);
                Assert.True(row.AsSpan().SequenceEqual(actual), $"round trip of filter {f}, bpp {bpp}, length {length}");
            }
        }
    }

    [Fact]
    public void SumOfAbsoluteSignedMatchesTheScalarReference()
    {
        Random rng = new(7);
        for (int length = 0; length <= 300; length++)
        {
            byte[] data = new byte[length];
            rng.NextBytes(data);
            data.AsSpan(rng.Next(length + 1)).Fill(length % 2 == 0 ? (byte)0x80 : (byte)0x7F);
            long expected = data.Sum(b => (long)Math.Abs((int)(sbyte)b));
            Assert.Equal(expected, PngFilters.SumOfAbsoluteSigned(data));
        }
    }

    [Fact]
    public void Crc32MatchesTheCheckValueAndTheBitwiseDefinition()
    {
        Assert.Equal(0xCBF43926u, PngCrc32.Compute("123456789"u8));
        Random rng = new(3);
        for (int length = 0; length <= 100; length++)
        {
            byte[] data = new byte[length];
            rng.NextBytes(data);
            Assert.Equal(PngTestWriter.BitwiseCrc(data), PngCrc32.Compute(data));
            int split = length / 3;
            Assert.Equal(PngTestWriter.BitwiseCrc(data), PngCrc32.Update(PngCrc32.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }

    private static byte[] ReferenceUnfilter(int filter, byte[] filtered, byte[] prev, int bpp)
    {
        byte[] r = new byte[filtered.Length];
        for (int i = 0; i < r.Length; i++)
        {
            int a = i >= bpp ? r[i - bpp] : 0;
            int c = i >= bpp ? prev[i - bpp] : 0;
            r[i] = (byte)(filtered[i] + Predict(filter, a, prev[i], c));
        }

        return r;
    }

    private static byte[] ReferenceFilter(int filter, byte[] row, byte[] prev, int bpp)
    {
        byte[] f = new byte[row.Length];
        for (int i = 0; i < f.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0;
            int c = i >= bpp ? prev[i - bpp] : 0;
            f[i] = (byte)(row[i] - Predict(filter, a, prev[i], c));
        }

        return f;
    }

    private static int Predict(int filter, int a, int b, int c)
    {
        switch (filter)
        {
            case 0: return 0;
            case 1: return a;
            case 2: return b;
            case 3: return (a + b) / 2;
            default:
                int p = a + b - c;
                int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
    }
}
