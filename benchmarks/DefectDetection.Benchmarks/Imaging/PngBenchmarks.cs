using BenchmarkDotNet.Attributes;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Formats.Png;

namespace DefectDetection.Benchmarks.Imaging;

/// <summary>
/// PNG decode and encode of a cookie-set crack mask (576x768 palette PNG with tRNS, from ../shared) and of a
/// generated 1600x1000 RGB image (1.6 MP: smooth gradients with noise, like a photo of a product).
/// </summary>
[MemoryDiagnoser]
public class PngBenchmarks
{
    private readonly PngDecoder _decoder = new();
    private readonly PngEncoder _encoder = new();
    private readonly PngEncoder _fastEncoder = new(new PngEncoderOptions { CompressionLevel = 1 });
    private byte[] _maskPng = [];
    private byte[] _rgbPng = [];
    private Image? _mask;
    private Image? _rgb;
    private MemoryStream _output = new();

    [GlobalSetup]
    public void Setup()
    {
        string? shared = FindShared();
        string maskPath = shared is null ? string.Empty : Path.Combine(shared, "datasets", "lfv-cookies", "dataset-files", "mask-images", "anomaly-1.png");
        if (File.Exists(maskPath))
        {
            _maskPng = File.ReadAllBytes(maskPath);
            _mask = _decoder.Decode(_maskPng);
        }
        else
        {
            // Stand-in when ../shared is absent: a mask-like image of the same size.
            _mask = Image.Create(576, 768, PixelFormat.Rgba32);
            for (int y = 300; y < 320; y++)
            {
                _mask.GetRow(y).Slice(100 * 4, 300 * 4).Fill(0x80);
            }

            _maskPng = Encode(_encoder, _mask);
        }

        _rgb = Image.Create(1600, 1000, PixelFormat.Rgb24);
        Random rng = new(1);
        for (int y = 0; y < _rgb.Height; y++)
        {
            Span<byte> row = _rgb.GetRow(y);
            for (int x = 0; x < _rgb.Width; x++)
            {
                row[3 * x] = (byte)((x / 7) + rng.Next(8));
                row[(3 * x) + 1] = (byte)((y / 5) + rng.Next(8));
                row[(3 * x) + 2] = (byte)(((x + y) / 11) + rng.Next(8));
            }
        }

        _rgbPng = Encode(_encoder, _rgb);
        _output = new MemoryStream(_rgbPng.Length * 2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _mask?.Dispose();
        _rgb?.Dispose();
    }

    [Benchmark]
    public int DecodeCookieMask()
    {
        using Image image = _decoder.Decode(_maskPng);
        return image.Width;
    }

    [Benchmark]
    public int DecodeRgb1600x1000()
    {
        using Image image = _decoder.Decode(_rgbPng);
        return image.Width;
    }

    [Benchmark]
    public long EncodeCookieMask()
    {
        _output.SetLength(0);
        _encoder.Encode(_mask!, _output);
        return _output.Length;
    }

    [Benchmark]
    public long EncodeRgb1600x1000()
    {
        _output.SetLength(0);
        _encoder.Encode(_rgb!, _output);
        return _output.Length;
    }

    [Benchmark]
    public long EncodeRgb1600x1000Level1()
    {
        _output.SetLength(0);
        _fastEncoder.Encode(_rgb!, _output);
        return _output.Length;
    }

    private static byte[] Encode(PngEncoder encoder, Image image)
    {
        using MemoryStream s = new();
        encoder.Encode(image, s);
        return s.ToArray();
    }

    private static string? FindShared()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "DefectDetection.Core.sln")))
            {
                string shared = Path.Combine(dir, "..", "shared");
                return Directory.Exists(shared) ? Path.GetFullPath(shared) : null;
            }
        }

        return null;
    }
}
