using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

public sealed class TensorConversionTests
{
    [Theory]
    [InlineData(PixelFormat.Rgb24, 3, ChannelOrder.Rgb)]
    [InlineData(PixelFormat.Rgb24, 3, ChannelOrder.Bgr)]
    [InlineData(PixelFormat.Rgba32, 3, ChannelOrder.Rgb)]
    [InlineData(PixelFormat.Gray8, 3, ChannelOrder.Rgb)]
    [InlineData(PixelFormat.Gray8, 1, ChannelOrder.Rgb)]
    [InlineData(PixelFormat.Rgb24, 1, ChannelOrder.Rgb)]
    public void BatchMatchesDirectFormulaThenNormalisation(PixelFormat format, int channels, ChannelOrder order)
    {
        (int W, int H)[] sizes = [(17, 9), (17, 9), (5, 31), (1, 1), (64, 64), (3, 2)];
        var images = sizes.Select((s, i) => ResizeReference.RandomImage(s.W + 4, s.H + 3, format, i + 10)).ToList();
        try
        {
            ImageView[] crops = images.Select((im, i) => im.View(new Rectangle(2, 1, sizes[i].W, sizes[i].H))).ToArray();
            float[] mean = channels == 3 ? [0.485f, 0.456f, 0.406f] : [0.5f];
            float[] std = channels == 3 ? [0.229f, 0.224f, 0.225f] : [0.25f];
            var options = new TensorLayoutOptions { Width = 11, Height = 7, Channels = channels, ChannelOrder = order, Mean = mean, Std = std };
            float[] tensor = new float[(crops.Length * options.ElementsPerImage) + 5];
            tensor.AsSpan().Fill(float.NaN);
            TensorConversion.ToNchw(crops, options, tensor);
            Assert.All(tensor.AsSpan(crops.Length * options.ElementsPerImage).ToArray(), v => Assert.True(float.IsNaN(v)));
            int plane = options.Width * options.Height;
            for (int n = 0; n < crops.Length; n++)
            {
                using Image copy = crops[n].ToImage();
                int ch = copy.Channels;
                double[] resized = ResizeReference.ResizeExact(copy.Pixels, copy.Width, copy.Height, ch, options.Width, options.Height, ResizeMode.Bilinear);
                for (int c = 0; c < channels; c++)
                {
                    for (int p = 0; p < plane; p++)
                    {
                        double v;
                        if (channels == 1 && ch >= 3)
                        {
                            v = (0.299 * resized[p * ch]) + (0.587 * resized[(p * ch) + 1]) + (0.114 * resized[(p * ch) + 2]);
                        }
                        else
                        {
                            int src = ch == 1 ? 0 : order == ChannelOrder.Bgr ? 2 - c : c;
                            v = resized[(p * ch) + src];
                        }

                        double expected = ((v / 255.0) - mean[c]) / std[c];
                        float actual = tensor[(n * options.ElementsPerImage) + (c * plane) + p];
                        Assert.True(Math.Abs(actual - expected) <= 1e-4 / std[c], $"n={n} c={c} p={p}: {actual} vs {expected}");
                    }
                }
            }
        }
        finally
        {
            images.ForEach(i => i.Dispose());
        }
    }

    [Fact]
    public void LetterboxPlacesScaledImageAndPads()
    {
        // 6x3 image into 8x8: scale = min(8/6, 8/3) = 4/3 -> 8x4 at the top-left, rows 4..7 padded.
        using Image src = ResizeReference.RandomImage(6, 3, PixelFormat.Rgb24, 3);
        var options = TensorLayoutOptions.Yolox(8);
        float[] tensor = new float[options.ElementsPerImage];
        LetterboxTransform t = TensorConversion.Letterbox(src, options, tensor);
        Assert.Equal(new LetterboxTransform(4f / 3, 0, 0, 8, 4), t);
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < 8; y++)
            {
                for (int x = 0; x < 8; x++)
                {
                    float v = tensor[(c * 64) + (y * 8) + x];
                    if (y >= 4)
                    {
                        Assert.Equal(114f, v);
                        continue;
                    }

                    // Direct bilinear at source ((x + 0.5) * 0.75 - 0.5, (y + 0.5) * 0.75 - 0.5), BGR planes.
                    double sx = Math.Max(0, ((x + 0.5) * 0.75) - 0.5), sy = Math.Max(0, ((y + 0.5) * 0.75) - 0.5);
                    int x0 = (int)sx, y0 = (int)sy, x1 = Math.Min(x0 + 1, 5), y1 = Math.Min(y0 + 1, 2);
                    double fx = sx - x0, fy = sy - y0;
                    int ch = 2 - c;
                    double P(int xx, int yy) => src.Pixels[(((yy * 6) + xx) * 3) + ch];
                    double expected = ((1 - fy) * (((1 - fx) * P(x0, y0)) + (fx * P(x1, y0)))) + (fy * (((1 - fx) * P(x0, y1)) + (fx * P(x1, y1))));
                    Assert.True(Math.Abs(v - expected) < 1e-3, $"c={c} ({x},{y}): {v} vs {expected}");
                }
            }
        }

        Assert.Equal(3f, t.ToSourceX(4f));
        var centered = new TensorLayoutOptions { Width = 8, Height = 8, Alignment = LetterboxAlignment.Center, Scale = 1, PadValue = 7 };
        LetterboxTransform tc = TensorConversion.Letterbox(src, centered, tensor);
        Assert.Equal((0, 2), (tc.OffsetX, tc.OffsetY));
        Assert.Equal(7f, tensor[0]);
        Assert.Equal(7f, tensor[(7 * 8) + 7]);
    }

    [Fact]
    public void RejectsInvalidOptionsAndShortDestinations()
    {
        using Image src = Image.Create(4, 4, PixelFormat.Gray8);
        Assert.Throws<ArgumentException>(() => TensorConversion.ToNchw(src, new TensorLayoutOptions { Channels = 2 }, new float[10000]));
        Assert.Throws<ArgumentException>(() => TensorConversion.ToNchw(src, new TensorLayoutOptions { Std = [1, 0, 1] }, new float[1 << 20]));
        Assert.Throws<ArgumentException>(() => TensorConversion.ToNchw(src, new TensorLayoutOptions { Mean = [1, 2] }, new float[1 << 20]));
        Assert.Throws<ArgumentException>(() => TensorConversion.ToNchw(src, TensorLayoutOptions.ImageNet, new float[(3 * 224 * 224) - 1]));
        Assert.Throws<ArgumentException>(() => TensorConversion.Letterbox(src, TensorLayoutOptions.Yolox(), new float[100]));
    }

    [Theory]
    [InlineData(BorderMode.Replicate)]
    [InlineData(BorderMode.Constant)]
    [InlineData(BorderMode.Reflect101)]
    public void RegionsLeavingTheImageEqualPaddedCrops(BorderMode border)
    {
        using Image src = ResizeReference.RandomImage(40, 30, PixelFormat.Rgb24, 21);
        Rectangle[] regions = [new(-5, -3, 20, 12), new(10, 10, 8, 8), new(30, 25, 17, 9), new(-50, 40, 6, 6)];
        var options = new TensorLayoutOptions { Width = 9, Height = 13, Mean = [0.5f], Std = [0.25f] };
        float[] actual = new float[regions.Length * options.ElementsPerImage];
        TensorConversion.ToNchw(src, regions, options, actual, border, new Color(9, 99, 199));

        // Reference: the padded 8-bit crop (exact copy, no rounding involved), then the view path.
        float[] expected = new float[actual.Length];
        var crops = regions.Select(r => Cropping.CropPadded(src, r, border, new Color(9, 99, 199))).ToList();
        try
        {
            TensorConversion.ToNchw(crops.Select(c => (ImageView)c).ToArray(), options, expected);
        }
        finally
        {
            crops.ForEach(c => c.Dispose());
        }

        Assert.Equal(expected, actual);
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorConversion.ToNchw(src, [new Rectangle(0, 0, 0, 3)], options, actual));
    }
}
