using DefectDetection.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace DefectDetection.MLNet.Data;

/// <summary>What an image column holds: file paths (text) or decoded ML.NET images (<see cref="MLImage"/>).</summary>
internal enum ImageColumnKind
{
    /// <summary>A text column of image file paths, decoded with the library's own codecs.</summary>
    Path,

    /// <summary>An <see cref="ImageDataViewType"/> column of <see cref="MLImage"/> values (what <c>LoadImages</c> makes).</summary>
    MLImage,
}

/// <summary>Finds and reads image columns.</summary>
internal static class ImageColumn
{
    /// <summary>The kind of <paramref name="column"/> in <paramref name="schema"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or holds neither paths nor images.</exception>
    public static ImageColumnKind KindOf(DataViewSchema schema, string column)
    {
        ArgumentNullException.ThrowIfNull(schema);
        DataViewSchema.Column? c = schema.GetColumnOrNull(column);
        if (c is null)
        {
            throw new ArgumentOutOfRangeException(nameof(column), column, $"The data has no column '{column}' (columns: {string.Join(", ", schema.Where(x => !x.IsHidden).Select(x => x.Name))}).");
        }

        return KindOf(c.Value.Type, column);
    }

    /// <summary>The kind of <paramref name="column"/> in a schema shape (for <c>GetOutputSchema</c>).</summary>
    public static ImageColumnKind KindOf(SchemaShape shape, string column)
    {
        ArgumentNullException.ThrowIfNull(shape);
        // The last column of a name is the visible one.
        SchemaShape.Column[] found = [.. shape.Where(x => x.Name == column)];
        if (found.Length == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(column), column, $"The data has no column '{column}'.");
        }

        SchemaShape.Column c = found[^1];

        if (c.Kind != SchemaShape.Column.VectorKind.Scalar)
        {
            throw new ArgumentOutOfRangeException(nameof(column), column, $"The column '{column}' is a vector; a column of image paths (text) or images (MLImage) is needed.");
        }

        return KindOf(c.ItemType, column);
    }

    private static ImageColumnKind KindOf(DataViewType type, string column) => type switch
    {
        TextDataViewType => ImageColumnKind.Path,
        ImageDataViewType => ImageColumnKind.MLImage,
        _ => throw new ArgumentOutOfRangeException(nameof(column), column, $"The column '{column}' is {type}; a column of image paths (text) or images (MLImage, from LoadImages) is needed."),
    };

    /// <summary>Decodes an image file with the library's codecs, naming the file when it is missing.</summary>
    public static Image Load(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new InvalidOperationException("A row has an empty image path.");
        }

        return ImageCodecs.Load(path);
    }

    /// <summary>Copies an ML.NET image (BGRA or RGBA, 8 bits a channel) into an RGB image of the library.</summary>
    public static Image FromMLImage(MLImage? image)
    {
        if (image is null)
        {
            throw new InvalidOperationException("A row has no image (a missing MLImage value).");
        }

        int w = image.Width, h = image.Height;
        ReadOnlySpan<byte> pixels = image.Pixels;
        if (image.BitsPerPixel != 32 || pixels.Length < (long)w * h * 4)
        {
            throw new NotSupportedException($"An MLImage of {image.BitsPerPixel} bits a pixel ({image.PixelFormat}) cannot be read; 32-bit BGRA or RGBA images are supported.");
        }

        bool bgra = image.PixelFormat == MLPixelFormat.Bgra32;
        int stride = pixels.Length / h;
        Image result = Image.Create(w, h, PixelFormat.Rgb24);
        for (int y = 0; y < h; y++)
        {
            ReadOnlySpan<byte> source = pixels.Slice(y * stride, w * 4);
            Span<byte> row = result.GetRow(y);
            for (int x = 0; x < w; x++)
            {
                byte c0 = source[(4 * x) + 0], c1 = source[(4 * x) + 1], c2 = source[(4 * x) + 2];
                row[(3 * x) + 0] = bgra ? c2 : c0;
                row[(3 * x) + 1] = c1;
                row[(3 * x) + 2] = bgra ? c0 : c2;
            }
        }

        return result;
    }
}

/// <summary>A row whose image is a file path (the input class of the mapping over a text column).</summary>
internal sealed class PathImageRow
{
    public string? ImagePath { get; set; }
}

/// <summary>A row whose image is an <see cref="MLImage"/>.</summary>
internal sealed class MLImageRow
{
    public MLImage? Image { get; set; }
}
