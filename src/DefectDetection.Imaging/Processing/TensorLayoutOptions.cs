namespace DefectDetection.Imaging.Processing;

/// <summary>The order of colour planes in a tensor.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue (torchvision models).</summary>
    Rgb = 0,

    /// <summary>Blue, green, red (OpenCV-trained models such as YOLOX).</summary>
    Bgr = 1,
}

/// <summary>Where a letterboxed image sits inside the tensor.</summary>
public enum LetterboxAlignment
{
    /// <summary>At the top-left corner; padding right and below (YOLOX).</summary>
    TopLeft = 0,

    /// <summary>Centred; padding split between the sides (the extra pixel goes right/below).</summary>
    Center = 1,
}

/// <summary>
/// How images become a float tensor in NCHW layout ([batch, channels, height, width], planar, row-major):
/// the size, channel count and order, and the value mapping <c>(pixel x Scale - Mean[c]) / Std[c]</c>.
/// Validated when used by <see cref="TensorConversion"/>.
/// </summary>
public sealed class TensorLayoutOptions
{
    private static readonly float[] Zero = [0f];
    private static readonly float[] One = [1f];

    /// <summary>
    /// torchvision ImageNet classifiers (MobileNetV2, ResNet...): 224x224, RGB, bilinear, scale 1/255, mean
    /// [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225].
    /// </summary>
    public static TensorLayoutOptions ImageNet { get; } = new()
    {
        Width = 224,
        Height = 224,
        Mean = [0.485f, 0.456f, 0.406f],
        Std = [0.229f, 0.224f, 0.225f],
    };

    /// <summary>YOLOX: <paramref name="size"/> square, BGR, values 0-255 (no scaling or normalisation), letterbox pad 114 at the top-left.</summary>
    /// <param name="size">The network input side. Default: 416 (YOLOX-nano and -tiny).</param>
    public static TensorLayoutOptions Yolox(int size = 416) => new()
    {
        Width = size,
        Height = size,
        ChannelOrder = ChannelOrder.Bgr,
        Scale = 1f,
        PadValue = 114f,
    };

    /// <summary>
    /// Ultralytics YOLOv5 / YOLOv8 exports: <paramref name="size"/> square, RGB, values scaled to 0-1, letterbox pad 114
    /// centred (their own preprocessing).
    /// </summary>
    /// <param name="size">The network input side. Default: 640.</param>
    public static TensorLayoutOptions Ultralytics(int size = 640) => new()
    {
        Width = size,
        Height = size,
        ChannelOrder = ChannelOrder.Rgb,
        Scale = 1f / 255f,
        PadValue = 114f,
        Alignment = LetterboxAlignment.Center,
    };

    /// <summary>Tensor width. Default: 224.</summary>
    public int Width { get; init; } = 224;

    /// <summary>Tensor height. Default: 224.</summary>
    public int Height { get; init; } = 224;

    /// <summary>
    /// Tensor channels: 3 (colour; gray images are repeated in all three) or 1 (gray; colour images are converted
    /// with BT.601 weights 0.299, 0.587, 0.114 on the resized values). Alpha is ignored. Default: 3.
    /// </summary>
    public int Channels { get; init; } = 3;

    /// <summary>Plane order of a 3-channel tensor. Default: <see cref="ChannelOrder.Rgb"/>.</summary>
    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;

    /// <summary>Factor applied to 0-255 pixel values before the mean is subtracted. Default: 1/255.</summary>
    public float Scale { get; init; } = 1f / 255f;

    /// <summary>Per tensor channel (in tensor order), subtracted after scaling; one value applies to all. Default: [0].</summary>
    public IReadOnlyList<float> Mean { get; init; } = Zero;

    /// <summary>Per tensor channel (in tensor order), the divisor after the mean; one value applies to all. Default: [1].</summary>
    public IReadOnlyList<float> Std { get; init; } = One;

    /// <summary>The resampling method. Default: <see cref="ResizeMode.Bilinear"/> (half-pixel centres, no antialias).</summary>
    public ResizeMode ResizeMode { get; init; } = ResizeMode.Bilinear;

    /// <summary>Letterbox only: the fill, as a 0-255 pixel value (scaled and normalised like pixels). Default: 0.</summary>
    public float PadValue { get; init; }

    /// <summary>Letterbox only: where the image sits. Default: <see cref="LetterboxAlignment.TopLeft"/>.</summary>
    public LetterboxAlignment Alignment { get; init; } = LetterboxAlignment.TopLeft;

    /// <summary>Floats per image: <see cref="Channels"/> x <see cref="Height"/> x <see cref="Width"/>.</summary>
    public int ElementsPerImage => Channels * Width * Height;

    /// <summary>Throws <see cref="ArgumentException"/> when a property is out of range.</summary>
    public void Validate()
    {
        if (Width <= 0 || Height <= 0 || (long)Width * Height * Channels > Array.MaxLength)
        {
            throw new ArgumentException($"Tensor size {Width}x{Height} is invalid.", nameof(Width));
        }

        if (Channels is not (1 or 3))
        {
            throw new ArgumentException($"Channels must be 1 or 3, got {Channels}.", nameof(Channels));
        }

        if (ChannelOrder is not (ChannelOrder.Rgb or ChannelOrder.Bgr))
        {
            throw new ArgumentException($"Unknown channel order {ChannelOrder}.", nameof(ChannelOrder));
        }

        ImageResizer.CheckMode(ResizeMode);
        CheckPerChannel(Mean, nameof(Mean), allowZero: true);
        CheckPerChannel(Std, nameof(Std), allowZero: false);
        if (!float.IsFinite(Scale) || !float.IsFinite(PadValue))
        {
            throw new ArgumentException("Scale and PadValue must be finite.", nameof(Scale));
        }
    }

    /// <summary>The affine map per tensor channel: value = pixel x a + b.</summary>
    internal void GetAffine(Span<float> a, Span<float> b)
    {
        for (int c = 0; c < Channels; c++)
        {
            float mean = Mean.Count == 1 ? Mean[0] : Mean[c];
            float std = Std.Count == 1 ? Std[0] : Std[c];
            a[c] = Scale / std;
            b[c] = -mean / std;
        }
    }

    private void CheckPerChannel(IReadOnlyList<float>? values, string name, bool allowZero)
    {
        if (values is null || (values.Count != 1 && values.Count != Channels))
        {
            throw new ArgumentException($"{name} needs 1 or {Channels} values.", name);
        }

        foreach (float v in values)
        {
            if (!float.IsFinite(v) || (!allowZero && v == 0))
            {
                throw new ArgumentException($"{name} holds an invalid value {v}.", name);
            }
        }
    }
}
