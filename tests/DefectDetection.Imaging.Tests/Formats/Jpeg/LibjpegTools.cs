using System.Diagnostics;
using DefectDetection.Testing;

namespace DefectDetection.Imaging.Tests.Formats.Jpeg;

/// <summary>
/// libjpeg-turbo's command-line tools as the independent reference: djpeg (decode to PNM with default settings)
/// and cjpeg (to generate fixtures at test time). Tests skip when they are missing, unless
/// DEFECT_REQUIRE_SHARED=1 (as in CI), where they fail.
/// </summary>
internal static class LibjpegTools
{
    private static readonly Lazy<string?> DjpegPath = new(() => Find("djpeg"));
    private static readonly Lazy<string?> CjpegPath = new(() => Find("cjpeg"));

    public static string? Djpeg => DjpegPath.Value;

    public static string? Cjpeg => CjpegPath.Value;

    /// <summary>Why a test needing the tools is skipped, or null (present, or required by DEFECT_REQUIRE_SHARED=1).</summary>
    public static string? SkipReason() =>
        Djpeg is not null && Cjpeg is not null || SharedData.Required
            ? null
            : "needs djpeg and cjpeg (apt-get install libjpeg-turbo-progs); set DEFECT_REQUIRE_SHARED=1 to make this a failure";

    /// <summary>True when both tools are present; otherwise fails the test under DEFECT_REQUIRE_SHARED=1.</summary>
    public static bool Available()
    {
        if (Djpeg is not null && Cjpeg is not null)
        {
            return true;
        }

        Assert.False(SharedData.Required, "djpeg/cjpeg (libjpeg-turbo-progs) are required when DEFECT_REQUIRE_SHARED=1");
        return false;
    }

    /// <summary>Decodes with djpeg (islow, fancy upsampling) and parses the PNM: (width, height, channels, pixels).</summary>
    /// <param name="jpegPath">The file.</param>
    /// <param name="allowWarnings">Accept djpeg's exit code 2 (corrupt-data warnings; the image is still written).</param>
    public static (int Width, int Height, int Channels, byte[] Pixels) DecodeWithDjpeg(string jpegPath, bool allowWarnings = false)
    {
        byte[] pnm = Run(Djpeg!, ["-pnm", jpegPath], null, allowWarnings);
        return ParsePnm(pnm);
    }

    public static byte[] EncodeWithCjpeg(byte[] pnmInput, params string[] args) => Run(CjpegPath.Value!, args, pnmInput, false);

    public static (int Width, int Height, int Channels, byte[] Pixels) ParsePnm(byte[] data)
    {
        int pos = 0;
        string magic = Token(data, ref pos);
        int channels = magic switch
        {
            "P5" => 1,
            "P6" => 3,
            _ => throw new InvalidDataException($"unexpected PNM magic {magic}"),
        };
        int width = int.Parse(Token(data, ref pos));
        int height = int.Parse(Token(data, ref pos));
        int max = int.Parse(Token(data, ref pos));
        Assert.Equal(255, max);
        pos++; // the single whitespace after maxval
        byte[] pixels = data.AsSpan(pos, width * height * channels).ToArray();
        return (width, height, channels, pixels);
    }

    public static byte[] ToPnm(int width, int height, int channels, ReadOnlySpan<byte> pixels)
    {
        byte[] header = System.Text.Encoding.ASCII.GetBytes($"{(channels == 1 ? "P5" : "P6")}\n{width} {height}\n255\n");
        byte[] result = new byte[header.Length + pixels.Length];
        header.CopyTo(result, 0);
        pixels.CopyTo(result.AsSpan(header.Length));
        return result;
    }

    private static string Token(byte[] data, ref int pos)
    {
        while (pos < data.Length && (char.IsWhiteSpace((char)data[pos]) || data[pos] == '#'))
        {
            if (data[pos] == '#')
            {
                while (pos < data.Length && data[pos] != '\n')
                {
                    pos++;
                }
            }
            else
            {
                pos++;
            }
        }

        int start = pos;
        while (pos < data.Length && !char.IsWhiteSpace((char)data[pos]))
        {
            pos++;
        }

        return System.Text.Encoding.ASCII.GetString(data, start, pos - start);
    }

    private static byte[] Run(string exe, string[] args, byte[]? stdin, bool allowWarnings)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        Task writer = Task.CompletedTask;
        if (stdin is not null)
        {
            writer = Task.Run(() =>
            {
                p.StandardInput.BaseStream.Write(stdin);
                p.StandardInput.Close();
            });
        }

        using var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        writer.Wait();
        p.WaitForExit();
        if (p.ExitCode != 0 && !(allowWarnings && p.ExitCode == 2))
        {
            throw new InvalidOperationException($"{Path.GetFileName(exe)} {string.Join(' ', args)} failed ({p.ExitCode}): {err.Result}");
        }

        return ms.ToArray();
    }

    private static string? Find(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, name);
            if (!string.IsNullOrEmpty(dir) && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>Tolerant pixel comparison: a per-sample bound and an image-wide mean bound per channel.</summary>
internal readonly record struct PixelDiff(int MaxAbs, double WorstChannelMean)
{
    public static PixelDiff Compute(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> expected, int channels)
    {
        Assert.Equal(expected.Length, actual.Length);
        int max = 0;
        Span<long> sums = stackalloc long[4];
        for (int i = 0; i < actual.Length; i++)
        {
            int d = Math.Abs(actual[i] - expected[i]);
            max = Math.Max(max, d);
            sums[i % channels] += d;
        }

        double worst = 0;
        long perChannel = Math.Max(1, actual.Length / channels);
        for (int c = 0; c < channels; c++)
        {
            worst = Math.Max(worst, sums[c] / (double)perChannel);
        }

        return new PixelDiff(max, worst);
    }

    public bool Within(int maxAbs = 4, double mean = 0.5) => MaxAbs <= maxAbs && WorstChannelMean <= mean;
}

/// <summary>A fact that needs djpeg/cjpeg: skipped when they are missing, failed instead under DEFECT_REQUIRE_SHARED=1.</summary>
public sealed class LibjpegFactAttribute : FactAttribute
{
    public LibjpegFactAttribute() => Skip = LibjpegTools.SkipReason();
}

/// <summary>A theory that needs djpeg/cjpeg; see <see cref="LibjpegFactAttribute"/>.</summary>
public sealed class LibjpegTheoryAttribute : TheoryAttribute
{
    public LibjpegTheoryAttribute() => Skip = LibjpegTools.SkipReason();
}

/// <summary>A fact that needs both ../shared and djpeg/cjpeg.</summary>
public sealed class SharedLibjpegFactAttribute : FactAttribute
{
    public SharedLibjpegFactAttribute() => Skip = DefectDetection.Testing.SharedData.SkipReason() ?? LibjpegTools.SkipReason();
}
