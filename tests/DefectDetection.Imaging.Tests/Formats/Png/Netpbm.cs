using System.Diagnostics;
using System.Text;
using DefectDetection.Testing;

namespace DefectDetection.Imaging.Tests.Formats;

/// <summary>
/// Runs Netpbm command-line tools (pngtopam, pnmtopng, bmptopnm, ppmtobmp, ...) as independent reference
/// codecs, and parses their PNM/PAM output. CI installs the Debian package <c>netpbm</c>.
/// </summary>
internal static class Netpbm
{
    private static readonly Lazy<string?> DirectoryLazy = new(Find);

    /// <summary>True when the Netpbm tools are on the PATH.</summary>
    public static bool Available => DirectoryLazy.Value is not null;

    /// <summary>The skip reason when Netpbm is missing (null when present, or when CI requires it).</summary>
    public static string? SkipReason() =>
        Available || SharedData.Required ? null : "needs the Netpbm tools (apt-get install netpbm)";

    /// <summary>Runs <paramref name="tool"/> with <paramref name="input"/> on stdin and returns stdout.</summary>
    public static byte[] Run(string tool, string arguments, byte[]? input = null)
    {
        string path = Path.Combine(DirectoryLazy.Value ?? throw new InvalidOperationException("Netpbm is not installed (apt-get install netpbm)."), tool);
        ProcessStartInfo psi = new(path, arguments)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process process = Process.Start(psi)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using MemoryStream stdout = new();
        Task copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        if (input is not null)
        {
            process.StandardInput.BaseStream.Write(input);
            process.StandardInput.Close();
        }

        copy.Wait();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {arguments} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.ToArray();
    }

    /// <summary>Parses a raw PGM/PPM (P5, P6) or PAM (P7) image.</summary>
    public static PamImage ParsePam(byte[] data)
    {
        int pos = 0;
        string magic = Encoding.ASCII.GetString(data, 0, 2);
        pos = 2;
        int width = 0, height = 0, depth = 0, maxval = 0;
        string tupleType = string.Empty;
        if (magic == "P7")
        {
            while (true)
            {
                int end = Array.IndexOf(data, (byte)'\n', pos);
                string line = Encoding.ASCII.GetString(data, pos, end - pos).Trim();
                pos = end + 1;
                if (line == "ENDHDR")
                {
                    break;
                }

                string[] parts = line.Split(' ', 2);
                switch (parts[0])
                {
                    case "WIDTH": width = int.Parse(parts[1]); break;
                    case "HEIGHT": height = int.Parse(parts[1]); break;
                    case "DEPTH": depth = int.Parse(parts[1]); break;
                    case "MAXVAL": maxval = int.Parse(parts[1]); break;
                    case "TUPLTYPE": tupleType = parts[1]; break;
                }
            }
        }
        else if (magic is "P5" or "P6")
        {
            depth = magic == "P5" ? 1 : 3;
            tupleType = magic == "P5" ? "GRAYSCALE" : "RGB";
            width = NextInt(data, ref pos);
            height = NextInt(data, ref pos);
            maxval = NextInt(data, ref pos);
            pos++;
        }
        else
        {
            throw new InvalidDataException($"Unexpected Netpbm output '{magic}'.");
        }

        int count = width * height * depth;
        ushort[] samples = new ushort[count];
        for (int i = 0; i < count; i++)
        {
            samples[i] = maxval > 255 ? (ushort)((data[pos + (2 * i)] << 8) | data[pos + (2 * i) + 1]) : data[pos + i];
        }

        return new PamImage(width, height, depth, maxval, tupleType, samples);
    }

    private static int NextInt(byte[] data, ref int pos)
    {
        while (data[pos] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' || data[pos] == (byte)'#')
        {
            if (data[pos] == (byte)'#')
            {
                while (data[pos] != (byte)'\n')
                {
                    pos++;
                }
            }

            pos++;
        }

        int v = 0;
        while (data[pos] is >= (byte)'0' and <= (byte)'9')
        {
            v = (v * 10) + (data[pos++] - '0');
        }

        return v;
    }

    private static string? Find()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "pngtopam")))
            {
                return dir;
            }
        }

        return null;
    }
}

/// <summary>A Netpbm image: <see cref="Depth"/> interleaved samples per pixel up to <see cref="MaxVal"/>.</summary>
internal sealed record PamImage(int Width, int Height, int Depth, int MaxVal, string TupleType, ushort[] Samples)
{
    /// <summary>
    /// The pixels as 8-bit RGBA: gray is replicated, missing alpha is 255, maxval 65535 keeps the high byte (as the
    /// PNG decoder documents) and other maxvals scale as round(v x 255 / maxval) (exact for 1, 3, 15 and 255).
    /// </summary>
    public byte[] ToRgba()
    {
        byte[] rgba = new byte[Width * Height * 4];
        bool alpha = Depth is 2 or 4;
        int colour = alpha ? Depth - 1 : Depth;
        for (int i = 0; i < Width * Height; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                rgba[(4 * i) + c] = Scale(Samples[(i * Depth) + (colour == 1 ? 0 : c)]);
            }

            rgba[(4 * i) + 3] = alpha ? Scale(Samples[(i * Depth) + Depth - 1]) : (byte)255;
        }

        return rgba;
    }

    private byte Scale(int v) => MaxVal == 65535 ? (byte)(v >> 8) : (byte)(((v * 255) + (MaxVal / 2)) / MaxVal);
}

/// <summary>Helpers to compare decoded images.</summary>
internal static class Pixels
{
    /// <summary>Any image as 8-bit RGBA.</summary>
    public static byte[] ToRgba(Image image)
    {
        byte[] rgba = new byte[image.Width * image.Height * 4];
        ReadOnlySpan<byte> p = image.Pixels;
        int ch = image.Channels;
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            rgba[4 * i] = p[i * ch];
            rgba[(4 * i) + 1] = p[(i * ch) + (ch == 1 ? 0 : 1)];
            rgba[(4 * i) + 2] = p[(i * ch) + (ch == 1 ? 0 : 2)];
            rgba[(4 * i) + 3] = ch == 4 ? p[(i * ch) + 3] : (byte)255;
        }

        return rgba;
    }

    /// <summary>Asserts equal RGBA buffers, naming the first differing pixel.</summary>
    public static void AssertEqualRgba(byte[] expected, byte[] actual, int width, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int first = expected.AsSpan().CommonPrefixLength(actual);
        if (first < expected.Length)
        {
            int px = first / 4;
            Assert.Fail($"{what}: first difference at pixel ({px % width}, {px / width}) channel {first % 4}: expected {expected[first]}, got {actual[first]}");
        }
    }
}

/// <summary>A fact that needs the Netpbm tools (skipped without them unless DEFECT_REQUIRE_SHARED=1).</summary>
public sealed class NetpbmFactAttribute : FactAttribute
{
    public NetpbmFactAttribute() => Skip = Netpbm.SkipReason();
}

/// <summary>A theory that needs the Netpbm tools (skipped without them unless DEFECT_REQUIRE_SHARED=1).</summary>
public sealed class NetpbmTheoryAttribute : TheoryAttribute
{
    public NetpbmTheoryAttribute() => Skip = Netpbm.SkipReason();
}

/// <summary>A fact that needs both ../shared and the Netpbm tools.</summary>
public sealed class SharedNetpbmFactAttribute : FactAttribute
{
    public SharedNetpbmFactAttribute() => Skip = SharedData.SkipReason() ?? Netpbm.SkipReason();
}
