using System.Diagnostics;
using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Formats.Jpeg;

namespace DefectDetection.Benchmarks.Imaging;

/// <summary>
/// The <c>jpeg-compare</c> mode used by benchmarks/scripts/jpeg-compare.sh:
/// <c>jpeg-compare --generate DIR</c> writes the benchmark files and prints their paths;
/// <c>jpeg-compare [--iterations N] FILE...</c> decodes each file N times after a warm-up of 1.5 s and prints
/// one line per decode: "FILE MILLISECONDS MEGAPIXELS".
/// </summary>
public static class JpegCompare
{
    public static int Run(string[] args)
    {
        if (args.Length == 2 && args[0] == "--generate")
        {
            (string baseline, string progressive) = JpegBenchmarkFiles.Generate(args[1]);
            Console.WriteLine(baseline);
            Console.WriteLine(progressive);
            Console.WriteLine(JpegBenchmarkFiles.CookieFile);
            return 0;
        }

        int iterations = 5;
        var files = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--iterations" && i + 1 < args.Length)
            {
                iterations = int.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else
            {
                files.Add(args[i]);
            }
        }

        if (files.Count == 0)
        {
            Console.Error.WriteLine("usage: jpeg-compare [--iterations N] FILE... | jpeg-compare --generate DIR");
            return 2;
        }

        var decoder = new JpegDecoder();
        var options = new DecoderOptions { ApplyExifOrientation = false };
        foreach (string file in files)
        {
            byte[] data = File.ReadAllBytes(file);
            // Warm up until the JIT has produced optimised code (at least 1.5 s and 3 decodes).
            long warmStart = Stopwatch.GetTimestamp();
            for (int i = 0; i < 3 || Stopwatch.GetElapsedTime(warmStart).TotalSeconds < 1.5; i++)
            {
                decoder.Decode(data, options).Dispose();
            }

            for (int i = 0; i < iterations; i++)
            {
                long start = Stopwatch.GetTimestamp();
                using Image image = decoder.Decode(data, options);
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file} {ms:F3} {image.Width * (double)image.Height / 1e6:F3}"));
            }
        }

        return 0;
    }
}
