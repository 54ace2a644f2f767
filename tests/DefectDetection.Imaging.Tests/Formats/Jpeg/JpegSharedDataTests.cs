using System.Collections.Concurrent;
using System.Diagnostics;
using DefectDetection.Imaging.Formats.Jpeg;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Imaging.Tests.Formats.Jpeg;

/// <summary>Every JPEG under ../shared against libjpeg-turbo's djpeg (default settings, orientation off).</summary>
public sealed class JpegSharedDataTests(ITestOutputHelper output)
{
    private static readonly DecoderOptions NoOrientation = new() { ApplyExifOrientation = false };

    internal static string[] AllSharedJpegs() =>
        Directory.EnumerateFiles(SharedData.PathOf(), "*.*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToArray();

    [SharedLibjpegFact]
    public void EverySharedJpegMatchesDjpeg()
    {
        if (!LibjpegTools.Available())
        {
            return;
        }

        string[] files = AllSharedJpegs();
        Assert.True(files.Length > 2000, $"expected the shared datasets' JPEGs, found {files.Length}");
        var decoder = new JpegDecoder();
        var failures = new ConcurrentBag<string>();
        var results = new ConcurrentBag<(string File, PixelDiff Diff)>();
        var watch = Stopwatch.StartNew();
        int oriented = 0;
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, file =>
        {
            try
            {
                (int w, int h, int ch, byte[] expected) = LibjpegTools.DecodeWithDjpeg(file);
                byte[] bytes = File.ReadAllBytes(file);
                ImageInfo info = decoder.Identify(bytes);
                if ((info.Width, info.Height, info.PixelFormat.ChannelCount()) != (w, h, ch))
                {
                    failures.Add($"{file}: Identify says {info.Width}x{info.Height} {info.PixelFormat}, djpeg {w}x{h}x{ch}");
                }

                if (info.Orientation is not (ExifOrientation.Unknown or ExifOrientation.TopLeft))
                {
                    Interlocked.Increment(ref oriented);
                }

                using Image image = decoder.Decode(bytes, NoOrientation);
                if (image.Width != w || image.Height != h || image.Channels != ch)
                {
                    failures.Add($"{file}: {image.Width}x{image.Height}x{image.Channels}, djpeg {w}x{h}x{ch}");
                    return;
                }

                PixelDiff diff = PixelDiff.Compute(image.Pixels, expected, ch);
                results.Add((file, diff));
                if (!diff.Within())
                {
                    failures.Add($"{file}: max {diff.MaxAbs}, mean {diff.WorstChannelMean:F3}");
                }
            }
            catch (Exception ex)
            {
                failures.Add($"{file}: {ex.GetType().Name}: {ex.Message}");
            }
        });

        (string File, PixelDiff Diff) worst = results.OrderByDescending(r => r.Diff.MaxAbs).ThenByDescending(r => r.Diff.WorstChannelMean).FirstOrDefault();
        (string File, PixelDiff Diff) worstMean = results.OrderByDescending(r => r.Diff.WorstChannelMean).FirstOrDefault();
        output.WriteLine($"{files.Length} files ({oriented} with a rotating EXIF orientation) in {watch.Elapsed.TotalSeconds:F1} s; worst max: {worst.File} {worst.Diff}; worst mean: {worstMean.File} {worstMean.Diff}");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {files.Length} files differ from djpeg:\n" + string.Join("\n", failures.Take(20)));
    }
}
