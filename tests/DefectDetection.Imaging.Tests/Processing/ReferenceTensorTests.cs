using System.Runtime.InteropServices;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Imaging.Tests.Processing;

/// <summary>
/// Our tensors against the exact input tensors the reference models were run with. These decode JPEGs, so they
/// need the JPEG decoder (they fail while it is a placeholder).
/// </summary>
[Trait("Needs", "JpegDecoder")]
public sealed class ReferenceTensorTests(ITestOutputHelper output)
{
    [SharedTheory]
    [InlineData("goldfish")]
    [InlineData("macaw")]
    [InlineData("tabby_cat")]
    [InlineData("samoyed")]
    public void MobileNetInputMatchesReferenceTensor(string name)
    {
        using Image image = ImageCodecs.Load(SharedData.PathOf("models", "mobilenetv2-int8", "samples", name + ".jpg"));
        float[] expected = ReadFloats(SharedData.PathOf("models", "mobilenetv2-int8", "samples", name + ".input.f32"));
        float[] actual = new float[TensorLayoutOptions.ImageNet.ElementsPerImage];
        TensorConversion.ToNchw(image, TensorLayoutOptions.ImageNet, actual);
        (double max, double mean) = Compare(expected, actual);
        output.WriteLine($"{name}: {image.Width}x{image.Height}, max |diff| {max:F4}, mean |diff| {mean:F5} (normalised units)");

        // Measured with libjpeg-turbo's djpeg output as the decoded image: max 0.04-0.05 (goldfish, 4:2:0: 0.19),
        // mean 0.007-0.011 (about 0.5 level of 255); the residue is decoder rounding. A PIL-style antialiased
        // bilinear resize gives max ~1 and mean ~0.025 instead.
        Assert.True(mean < 0.02, $"mean |diff| {mean}");
        Assert.True(max < 0.6, $"max |diff| {max}"); // room for another decoder's chroma upsampling
    }

    [SharedFact]
    public void YoloxLetterboxMatchesReferenceTensor()
    {
        using Image image = ImageCodecs.Load(SharedData.PathOf("models", "yolox-nano", "samples", "coco-000000000285.jpg"));
        float[] expected = ReadFloats(SharedData.PathOf("models", "yolox-nano", "samples", "coco-000000000285.input.f32"));
        var options = TensorLayoutOptions.Yolox();
        float[] actual = new float[options.ElementsPerImage];
        LetterboxTransform t = TensorConversion.Letterbox(image, options, actual);
        (double max, double mean) = Compare(expected, actual);
        output.WriteLine($"bear: {image.Width}x{image.Height} -> {t}, max |diff| {max:F3}, mean |diff| {mean:F4} (0-255 units)");
        Assert.Equal((380, 416), (t.ResizedWidth, t.ResizedHeight));

        // Measured with djpeg output as the decoded image: max 2.9, mean 0.42. Sampling with rw / w instead of
        // 1 / scale gives max ~150.
        Assert.True(mean < 1.0, $"mean |diff| {mean}");
        Assert.True(max < 8, $"max |diff| {max}");
    }

    private static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    private static (double Max, double Mean) Compare(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0, sum = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]);
            max = Math.Max(max, d);
            sum += d;
        }

        return (max, sum / expected.Length);
    }
}
