using System.Diagnostics;

namespace DefectDetection.Benchmarks.Imaging;

/// <summary>
/// The JPEG benchmark inputs: a cookie photo from ../shared, and 4608x3456 baseline (quality 90, 4:2:0) and
/// progressive files that cjpeg writes from a mosaic of the cookie photos (decoded with djpeg).
/// </summary>
public static class JpegBenchmarkFiles
{
    public const int BigWidth = 4608;
    public const int BigHeight = 3456;

    /// <summary>The shared folder (DEFECT_SHARED_DIR or ../shared beside the repository root).</summary>
    public static string SharedRoot()
    {
        string? env = Environment.GetEnvironmentVariable("DEFECT_SHARED_DIR");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
        {
            return env;
        }

        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "DefectDetection.Core.sln")))
            {
                return Path.GetFullPath(Path.Combine(dir, "..", "shared"));
            }
        }

        throw new DirectoryNotFoundException("../shared not found beside the repository root (set DEFECT_SHARED_DIR)");
    }

    public static string CookieFolder => Path.Combine(SharedRoot(), "datasets", "lfv-cookies", "dataset-files", "training-images");

    public static string CookieFile => Path.Combine(CookieFolder, "normal-1.jpg");

    /// <summary>Writes big-baseline.jpg and big-progressive.jpg into <paramref name="folder"/> (reused when present).</summary>
    public static (string Baseline, string Progressive) Generate(string folder)
    {
        Directory.CreateDirectory(folder);
        string baseline = Path.Combine(folder, "big-baseline.jpg");
        string progressive = Path.Combine(folder, "big-progressive.jpg");
        if (File.Exists(baseline) && File.Exists(progressive))
        {
            return (baseline, progressive);
        }

        string[] cookies = Directory.GetFiles(CookieFolder, "*.jpg").Order(StringComparer.Ordinal).ToArray();
        byte[] mosaic = new byte[BigWidth * BigHeight * 3];
        int tileIndex = 0;
        for (int ty = 0; ty < BigHeight; ty += 768)
        {
            for (int tx = 0; tx < BigWidth;)
            {
                (int w, int h, byte[] rgb) = ReadPpm(Run("djpeg", ["-pnm", cookies[tileIndex++ % cookies.Length]], null));
                int copyW = Math.Min(w, BigWidth - tx);
                for (int y = 0; y < h && ty + y < BigHeight; y++)
                {
                    rgb.AsSpan(y * w * 3, copyW * 3).CopyTo(mosaic.AsSpan((((ty + y) * BigWidth) + tx) * 3));
                }

                tx += w;
            }
        }

        byte[] header = System.Text.Encoding.ASCII.GetBytes($"P6\n{BigWidth} {BigHeight}\n255\n");
        byte[] ppm = [.. header, .. mosaic];
        File.WriteAllBytes(baseline, Run("cjpeg", ["-quality", "90"], ppm));
        File.WriteAllBytes(progressive, Run("cjpeg", ["-quality", "90", "-progressive"], ppm));
        return (baseline, progressive);
    }

    private static (int W, int H, byte[] Rgb) ReadPpm(byte[] data)
    {
        int pos = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)data[pos]))
            {
                pos++;
            }

            int start = pos;
            while (!char.IsWhiteSpace((char)data[pos]))
            {
                pos++;
            }

            return System.Text.Encoding.ASCII.GetString(data, start, pos - start);
        }

        if (Token() != "P6")
        {
            throw new InvalidDataException("djpeg did not write a PPM");
        }

        int w = int.Parse(Token()), h = int.Parse(Token());
        _ = Token();
        pos++;
        return (w, h, data.AsSpan(pos, w * h * 3).ToArray());
    }

    private static byte[] Run(string exe, string[] args, byte[]? stdin)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardInput = stdin is not null, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe} (install libjpeg-turbo-progs)");
        Task writer = stdin is null ? Task.CompletedTask : Task.Run(() =>
        {
            p.StandardInput.BaseStream.Write(stdin);
            p.StandardInput.Close();
        });
        using var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        writer.Wait();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed with exit code {p.ExitCode}");
        }

        return ms.ToArray();
    }
}
