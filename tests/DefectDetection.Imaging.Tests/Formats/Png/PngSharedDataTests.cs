using System.Collections.Concurrent;
using System.Diagnostics;
using DefectDetection.Imaging.Formats.Png;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Imaging.Tests.Formats.Png;

/// <summary>Every PNG of the shared datasets against libpng (through Netpbm's pngtopam), and fuzzed copies of them.</summary>
public sealed class PngSharedDataTests(ITestOutputHelper output)
{
    private static string[] AllPngs() =>
        Directory.GetFiles(SharedData.PathOf("datasets"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    [SharedNetpbmFact]
    public void EverySharedPngDecodesExactlyLikePngtopam()
    {
        string[] files = AllPngs();
        Assert.True(files.Length >= 1000, $"expected the shared PNGs, found {files.Length}");
        ConcurrentBag<string> failures = [];
        int palette = 0;
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, file =>
        {
            try
            {
                byte[] data = File.ReadAllBytes(file);
                PamImage reference = Netpbm.ParsePam(Netpbm.Run("pngtopam", $"-alphapam \"{file}\""));
                using Image image = new PngDecoder().Decode(data);
                ImageInfo info = new PngDecoder().Identify(data);
                if ((image.Width, image.Height) != (reference.Width, reference.Height) || info.PixelFormat != image.PixelFormat)
                {
                    failures.Add($"{file}: size or format differs");
                    return;
                }

                // Colour type from IHDR, read here independently: the output format must follow the documented rule.
                int colorType = data[25];
                PixelFormat expected = colorType switch
                {
                    0 => PixelFormat.Gray8,
                    2 or 3 => PixelFormat.Rgb24,
                    _ => PixelFormat.Rgba32,
                };
                if (colorType is 0 or 2 or 3 && info.Details!.Contains("tRNS"))
                {
                    expected = PixelFormat.Rgba32;
                }

                if (colorType == 3)
                {
                    Interlocked.Increment(ref palette);
                }

                if (image.PixelFormat != expected)
                {
                    failures.Add($"{file}: format {image.PixelFormat}, expected {expected}");
                }

                byte[] ours = Pixels.ToRgba(image);
                byte[] theirs = reference.ToRgba();
                if (!ours.AsSpan().SequenceEqual(theirs))
                {
                    int i = ours.AsSpan().CommonPrefixLength(theirs);
                    failures.Add($"{file}: pixel {i / 4} channel {i % 4}: ours {ours[i]}, pngtopam {theirs[i]}");
                }
            }
            catch (Exception ex)
            {
                failures.Add($"{file}: {ex.GetType().Name}: {ex.Message}");
            }
        });

        Assert.True(failures.IsEmpty, $"{failures.Count} of {files.Length} differ:\n{string.Join("\n", failures.Take(10))}");
        Assert.True(palette >= 29, $"expected the palette masks of the cookie set, saw {palette}");
    }

    [SharedFact]
    public void CookieMasksHoldOnlyTheDocumentedCrackColourAndBlack()
    {
        // The dataset documents the crack as #23A436 on black.
        string[] masks = Directory.GetFiles(SharedData.PathOf("datasets", "lfv-cookies", "dataset-files", "mask-images"), "*.png");
        Assert.Equal(32, masks.Length);
        foreach (string file in masks)
        {
            using Image image = ImageCodecs.Load(file);
            Assert.Equal((576, 768), (image.Width, image.Height));
            byte[] rgba = Pixels.ToRgba(image);
            int crack = 0;
            for (int i = 0; i < rgba.Length; i += 4)
            {
                (byte r, byte g, byte b) = (rgba[i], rgba[i + 1], rgba[i + 2]);
                if ((r, g, b) == (0x23, 0xA4, 0x36))
                {
                    crack++;
                }
                else if ((r, g, b) != (0, 0, 0))
                {
                    Assert.Fail($"{file}: pixel {i / 4} is ({r}, {g}, {b})");
                }
            }

            Assert.True(crack > 0, $"{file}: no crack pixels");
        }
    }

    [SharedFact]
    public void TruncatedAndBitFlippedSharedPngsDecodeOrFailCleanly()
    {
        string[] all = AllPngs();
        string[] sample = all.Where((f, i) => i % 4 == 0 || f.Contains("lfv-cookies", StringComparison.Ordinal)).ToArray();
        Assert.True(sample.Length >= 300, $"sample of {sample.Length}");
        Random rng = new(12345);
        int decoded = 0, rejected = 0;
        long worstTicks = 0;
        string worst = string.Empty;
        foreach (string file in sample)
        {
            byte[] original = File.ReadAllBytes(file);
            List<(int Offset, int Length, string Name)> chunks = PngChunks.List(original);
            List<(string Label, byte[] Data)> variants = [];
            foreach (double f in new[] { 0.0, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999 })
            {
                int cut = (int)(original.Length * f);
                variants.Add(($"truncated at {cut}", original[..cut]));
            }

            variants.Add(("without IEND", original[..^12]));
            for (int k = 0; k < 4; k++)
            {
                byte[] flipped = (byte[])original.Clone();
                int at = rng.Next(flipped.Length);
                flipped[at] ^= (byte)(1 << rng.Next(8));
                variants.Add(($"bit flip at {at}", flipped));
            }

            // Flips inside chunk data with the CRC repaired, so that they reach the header, inflate and filter code.
            for (int k = 0; k < 6; k++)
            {
                (int offset, int length, string name) = chunks[rng.Next(chunks.Count)];
                if (length == 0)
                {
                    continue;
                }

                byte[] flipped = (byte[])original.Clone();
                int at = offset + 8 + rng.Next(length);
                flipped[at] ^= (byte)(1 << rng.Next(8));
                PngChunks.FixCrc(flipped, offset, length);
                variants.Add(($"{name} flip at {at} (CRC repaired)", flipped));
            }

            foreach ((string label, byte[] data) in variants)
            {
                Stopwatch sw = Stopwatch.StartNew();
                try
                {
                    using Image image = new PngDecoder().Decode(data);
                    decoded++;
                }
                catch (InvalidImageContentException ex)
                {
                    Assert.Equal(ImageFormat.Png, ex.Format);
                    rejected++;
                }
                catch (Exception ex)
                {
                    Assert.Fail($"{file}, {label}: {ex.GetType().Name}: {ex.Message}");
                }

                if (sw.ElapsedTicks > worstTicks)
                {
                    (worstTicks, worst) = (sw.ElapsedTicks, $"{file}, {label}");
                }
            }
        }

        double worstMs = worstTicks * 1000.0 / Stopwatch.Frequency;
        output.WriteLine($"{sample.Length} files: {decoded} variants decoded, {rejected} rejected; slowest {worstMs:F1} ms ({worst})");
        Assert.True(worstMs < 1000, $"slowest case took {worstMs:F0} ms: {worst}");
        Assert.True(rejected > 0 && decoded > 0, $"decoded {decoded}, rejected {rejected}");
    }
}
