using System.Text;

namespace DefectDetection.Imaging.Formats.Pnm;

/// <summary>
/// Encodes images as raw Netpbm maps with maxval 255: <see cref="PixelFormat.Gray8"/> as PGM (P5),
/// <see cref="PixelFormat.Rgb24"/> as PPM (P6), and <see cref="PixelFormat.Rgba32"/> as PPM with the alpha
/// channel dropped (PPM has no alpha). The pixel format alone decides P5 or P6, whatever the file extension
/// (.pgm, .ppm or .pnm). Immutable and safe to share between threads.
/// </summary>
public sealed class PnmEncoder : IImageEncoder
{
    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Pnm;

    /// <inheritdoc />
    public void Encode(ImageView image, Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        bool gray = image.PixelFormat switch
        {
            PixelFormat.Gray8 => true,
            PixelFormat.Rgb24 or PixelFormat.Rgba32 => false,
            _ => throw new NotSupportedException($"PNM cannot hold pixel format {image.PixelFormat}."),
        };

        output.Write(Encoding.ASCII.GetBytes($"{(gray ? "P5" : "P6")}\n{image.Width} {image.Height}\n255\n"));
        if (image.PixelFormat != PixelFormat.Rgba32)
        {
            for (int y = 0; y < image.Height; y++)
            {
                output.Write(image.GetRow(y));
            }

            return;
        }

        byte[] row = System.Buffers.ArrayPool<byte>.Shared.Rent(image.Width * 3);
        try
        {
            for (int y = 0; y < image.Height; y++)
            {
                ReadOnlySpan<byte> src = image.GetRow(y);
                for (int x = 0; x < image.Width; x++)
                {
                    row[3 * x] = src[4 * x];
                    row[(3 * x) + 1] = src[(4 * x) + 1];
                    row[(3 * x) + 2] = src[(4 * x) + 2];
                }

                output.Write(row, 0, image.Width * 3);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(row);
        }
    }
}
