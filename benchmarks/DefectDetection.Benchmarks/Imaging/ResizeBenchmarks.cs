using BenchmarkDotNet.Attributes;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Benchmarks.Imaging;

/// <summary>
/// Resizing a 16-megapixel camera frame to a quarter of its side, and turning 500 small crops into one
/// classifier batch tensor.
/// </summary>
[MemoryDiagnoser]
public class ResizeBenchmarks
{
    private Image _frame = null!;
    private Image _destination = null!;
    private Image _cropSource = null!;
    private ImageView[] _crops = null!;
    private float[] _tensor = null!;
    private TensorLayoutOptions _options = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        byte[] pixels = new byte[4608 * 3456 * 3];
        // Smooth content with noise, like a photo (the cost does not depend on it).
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)((i / 3 % 4608 / 20) + rng.Next(16));
        }

        _frame = Image.FromPixels(4608, 3456, PixelFormat.Rgb24, pixels);
        _destination = Image.Create(1152, 864, PixelFormat.Rgb24);

        // 500 crops of 56 to 72 pixels a side from a 2000x2000 image.
        _cropSource = Image.FromPixels(2000, 2000, PixelFormat.Rgb24, pixels.AsSpan(0, 2000 * 2000 * 3));
        _crops = new ImageView[500];
        for (int i = 0; i < _crops.Length; i++)
        {
            int w = 56 + rng.Next(17), h = 56 + rng.Next(17);
            _crops[i] = _cropSource.View(new Rectangle(rng.Next(2000 - w), rng.Next(2000 - h), w, h));
        }

        _options = new TensorLayoutOptions
        {
            Width = 64,
            Height = 64,
            Mean = [0.485f, 0.456f, 0.406f],
            Std = [0.229f, 0.224f, 0.225f],
        };
        _tensor = new float[500 * _options.ElementsPerImage];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _frame.Dispose();
        _destination.Dispose();
        _cropSource.Dispose();
    }

    [Benchmark]
    public void ResizeArea4608x3456To1152x864() => ImageResizer.Resize(_frame, _destination, ResizeMode.Area);

    [Benchmark]
    public void ResizeBilinear4608x3456To1152x864() => ImageResizer.Resize(_frame, _destination, ResizeMode.Bilinear);

    [Benchmark]
    public void Crops500ToTensor64() => TensorConversion.ToNchw(_crops, _options, _tensor);
}
