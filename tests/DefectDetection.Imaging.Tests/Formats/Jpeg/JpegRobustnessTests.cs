using System.Collections.Concurrent;
using System.Diagnostics;
using DefectDetection.Imaging.Formats.Jpeg;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Imaging.Tests.Formats.Jpeg;

/// <summary>
/// Truncated and bit-flipped versions of real files: each decode either succeeds or throws
/// <see cref="InvalidImageContentException"/>, within a second; never another exception or a hang.
/// </summary>
public sealed class JpegRobustnessTests(ITestOutputHelper output)
{
    private static readonly JpegDecoder Decoder = new();

    /// <summary>A deterministic sample of at least 300 shared JPEGs plus every cookie and model sample.</summary>
    private static string[] Sample()
    {
        string[] all = JpegSharedDataTests.AllSharedJpegs();
        int step = Math.Max(1, all.Length / 320);
        return all.Where((p, i) => i % step == 0 || p.Contains("lfv-cookies") || p.Contains("models"))
            .Distinct()
            .ToArray();
    }

    [SharedFact]
    public void TruncatedAndBitFlippedFilesFailCleanly()
    {
        string[] files = Sample();
        Assert.True(files.Length >= 300, $"only {files.Length} files");
        var failures = new ConcurrentBag<string>();
        int decodes = 0, succeeded = 0;
        long slowestTicks = 0;
        var watch = Stopwatch.StartNew();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, file =>
        {
            byte[] data = File.ReadAllBytes(file);
            var rng = new Random(StringComparer.Ordinal.GetHashCode(Path.GetFileName(file)) & 0x7FFFFFFF);
            int sos = Math.Max(4, IndexOfScan(data));
            void Check(ReadOnlySpan<byte> input, string what)
            {
                var sw = Stopwatch.StartNew();
                try
                {
                    using Image image = Decoder.Decode(input);
                    Interlocked.Increment(ref succeeded);
                }
                catch (InvalidImageContentException ex)
                {
                    if (ex.Format != ImageFormat.Jpeg || ex.Offset > input.Length)
                    {
                        failures.Add($"{file} {what}: bad exception fields {ex.Format} {ex.Offset}");
                    }
                }
                catch (Exception ex)
                {
                    failures.Add($"{file} {what}: {ex.GetType().Name}: {ex.Message}");
                }

                Interlocked.Increment(ref decodes);
                long ticks = sw.ElapsedTicks;
                InterlockedMax(ref slowestTicks, ticks);
                if (sw.Elapsed > TimeSpan.FromSeconds(1))
                {
                    failures.Add($"{file} {what}: took {sw.Elapsed.TotalMilliseconds:F0} ms");
                }
            }

            // Truncations: in the headers, and spread over the entropy-coded data (these must throw).
            foreach (int cut in new[] { 3, rng.Next(4, sos + 1), sos + 2 })
            {
                Check(data.AsSpan(0, Math.Min(cut, data.Length)), $"cut {cut}");
            }

            for (int i = 0; i < 5; i++)
            {
                int cut = sos + 4 + rng.Next(Math.Max(1, (int)((data.Length - sos) * 0.95) - 4));
                Check(data.AsSpan(0, cut), $"cut {cut}");
                try
                {
                    Decoder.Decode(data.AsSpan(0, cut)).Dispose();
                    failures.Add($"{file}: truncated at {cut} of {data.Length} decoded as if complete");
                }
                catch (InvalidImageContentException)
                {
                }
            }

            // Bit flips: a few in the headers, more in the scan data.
            for (int i = 0; i < 6; i++)
            {
                byte[] copy = (byte[])data.Clone();
                int flips = 1 + rng.Next(3);
                for (int f = 0; f < flips; f++)
                {
                    int pos = i < 2 ? 2 + rng.Next(sos) : sos + rng.Next(data.Length - sos);
                    copy[pos] ^= (byte)(1 << rng.Next(8));
                }

                Check(copy, $"flip set {i}");
            }
        });

        output.WriteLine($"{files.Length} files, {decodes} corrupt decodes ({succeeded} decoded anyway) in {watch.Elapsed.TotalSeconds:F1} s; slowest {slowestTicks * 1000.0 / Stopwatch.Frequency:F0} ms");
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(20)));
    }

    private static int IndexOfScan(byte[] data)
    {
        for (int i = 2; i + 1 < data.Length; i++)
        {
            if (data[i] == 0xFF && data[i + 1] == 0xDA)
            {
                return i;
            }
        }

        return data.Length / 2;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
