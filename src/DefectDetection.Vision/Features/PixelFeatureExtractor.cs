using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;

namespace DefectDetection.Vision.Features;

/// <summary>Options of <see cref="PixelFeatureExtractor"/>.</summary>
public sealed class PixelFeatureOptions
{
    /// <summary>Side of the square the image is resized to (area averaging). Default: 24.</summary>
    public int Size { get; init; } = 24;

    /// <summary>Keep the colour channels (true) or use luma only (false). Default: true.</summary>
    public bool Color { get; init; } = true;
}

/// <summary>
/// The image itself as features: resized to a small square, each pixel (and channel) scaled to [0, 1]. Strong for
/// aligned crops of one kind of part (pins, screws, labels), where a defect changes known pixels; weak for
/// unaligned scenes. Combine with <see cref="GradientHistogramFeatureExtractor"/> through
/// <see cref="ConcatenatedFeatureExtractor"/>.
/// </summary>
public sealed class PixelFeatureExtractor : IFeatureExtractor
{
    private readonly PixelFeatureOptions _options;

    /// <summary>Creates the extractor.</summary>
    public PixelFeatureExtractor(PixelFeatureOptions? options = null)
    {
        _options = options ?? new PixelFeatureOptions();
        if (_options.Size is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.Size, "Size must be in [1, 256].");
        }

        FeatureLength = _options.Size * _options.Size * (_options.Color ? 3 : 1);
        Identity = string.Create(CultureInfo.InvariantCulture, $"pixels/v1;size={_options.Size};color={_options.Color}");
    }

    /// <inheritdoc />
    public int FeatureLength { get; }

    /// <inheritdoc />
    public string Identity { get; }

    /// <inheritdoc />
    public void Extract(ImageView image, Span<float> destination)
    {
        if (destination.Length != FeatureLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values; the extractor writes {FeatureLength}.", nameof(destination));
        }

        PixelFormat format = _options.Color ? PixelFormat.Rgb24 : PixelFormat.Gray8;
        int s = _options.Size;
        using Image converted = image.PixelFormat == format ? image.ToImage() : ColorConversion.Convert(image, format);
        using Image small = ImageResizer.Resize(converted, s, s, ResizeMode.Area);
        ReadOnlySpan<byte> px = small.Pixels;
        for (int i = 0; i < px.Length; i++)
        {
            destination[i] = px[i] * (1f / 255);
        }
    }
}

/// <summary>Several extractors side by side: their features concatenated in order.</summary>
public sealed class ConcatenatedFeatureExtractor : IFeatureExtractor
{
    private readonly IFeatureExtractor[] _parts;

    /// <summary>Creates the extractor from its parts.</summary>
    public ConcatenatedFeatureExtractor(params IFeatureExtractor[] parts)
    {
        if (parts is null || parts.Length == 0)
        {
            throw new ArgumentException("At least one extractor is needed.", nameof(parts));
        }

        _parts = [.. parts];
        FeatureLength = _parts.Sum(p => p.FeatureLength);
        Identity = "concat(" + string.Join(",", _parts.Select(p => p.Identity)) + ")";
    }

    /// <inheritdoc />
    public int FeatureLength { get; }

    /// <inheritdoc />
    public string Identity { get; }

    /// <inheritdoc />
    public void Extract(ImageView image, Span<float> destination)
    {
        if (destination.Length != FeatureLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values; the extractor writes {FeatureLength}.", nameof(destination));
        }

        int offset = 0;
        foreach (IFeatureExtractor part in _parts)
        {
            part.Extract(image, destination.Slice(offset, part.FeatureLength));
            offset += part.FeatureLength;
        }
    }
}
