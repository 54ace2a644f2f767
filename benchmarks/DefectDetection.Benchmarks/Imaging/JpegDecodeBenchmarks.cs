using BenchmarkDotNet.Attributes;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Formats.Jpeg;

namespace DefectDetection.Benchmarks.Imaging;

/// <summary>
/// JPEG decoding: a 576x768 cookie photo (4:4:4 with EXIF), and 4608x3456 baseline 4:2:0 and progressive files
/// generated with cjpeg in <see cref="GlobalSetup"/>. Compare with libjpeg-turbo using benchmarks/scripts/jpeg-compare.sh.
/// </summary>
[MemoryDiagnoser]
public class JpegDecodeBenchmarks
{
    private static readonly DecoderOptions Options = new() { ApplyExifOrientation = false };
    private readonly JpegDecoder _decoder = new();
    private byte[] _cookie = [];
    private byte[] _baseline = [];
    private byte[] _progressive = [];

    [GlobalSetup]
    public void GlobalSetup()
    {
        _cookie = File.ReadAllBytes(JpegBenchmarkFiles.CookieFile);
        (string baseline, string progressive) = JpegBenchmarkFiles.Generate(Path.Combine(Path.GetTempPath(), "defectdetection-jpeg-bench"));
        _baseline = File.ReadAllBytes(baseline);
        _progressive = File.ReadAllBytes(progressive);
    }

    [Benchmark]
    public int Cookie576x768()
    {
        using Image image = _decoder.Decode(_cookie, Options);
        return image.Width;
    }

    [Benchmark]
    public int Baseline4608x3456()
    {
        using Image image = _decoder.Decode(_baseline, Options);
        return image.Width;
    }

    [Benchmark]
    public int Progressive4608x3456()
    {
        using Image image = _decoder.Decode(_progressive, Options);
        return image.Width;
    }
}
