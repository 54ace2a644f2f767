using DefectDetection.Imaging.Formats;
using DefectDetection.Imaging.Formats.Bmp;
using DefectDetection.Imaging.Formats.Jpeg;
using DefectDetection.Imaging.Formats.Png;
using DefectDetection.Imaging.Formats.Pnm;

namespace DefectDetection.Imaging;

/// <summary>
/// Loads and saves images in any supported format: the format is detected from the content when reading and
/// chosen from the file extension when writing.
/// </summary>
public static class ImageCodecs
{
    private static readonly IImageDecoder[] Decoders =
    [
        new JpegDecoder(),
        new PngDecoder(),
        new BmpDecoder(),
        new PnmDecoder(),
    ];

    /// <summary>The format whose signature starts <paramref name="header"/>, or <see cref="ImageFormat.Unknown"/>.</summary>
    public static ImageFormat DetectFormat(ReadOnlySpan<byte> header)
    {
        foreach (IImageDecoder decoder in Decoders)
        {
            if (decoder.IsSupportedHeader(header))
            {
                return decoder.Format;
            }
        }

        return ImageFormat.Unknown;
    }

    /// <summary>The decoder for <paramref name="data"/>.</summary>
    /// <exception cref="InvalidImageContentException">No decoder recognises the data.</exception>
    public static IImageDecoder GetDecoder(ReadOnlySpan<byte> data)
    {
        foreach (IImageDecoder decoder in Decoders)
        {
            if (decoder.IsSupportedHeader(data))
            {
                return decoder;
            }
        }

        throw new InvalidImageContentException(ImageFormat.Unknown, 0,
            data.Length == 0 ? "the input is empty" : "unknown image format (not JPEG, PNG, BMP or PNM)");
    }

    /// <summary>Reads the header of an encoded image held in memory.</summary>
    public static ImageInfo Identify(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        GetDecoder(data).Identify(data, options);

    /// <summary>Decodes an encoded image held in memory.</summary>
    public static Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null) =>
        GetDecoder(data).Decode(data, options);

    /// <summary>Reads the header of an image file.</summary>
    /// <exception cref="InvalidImageContentException">The file is not a valid image; the message names the file.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>, or it is a folder (the message says so).</exception>
    public static ImageInfo Identify(string path, DecoderOptions? options = null)
    {
        byte[] data = ReadFile(path, options ?? DecoderOptions.Default);
        try
        {
            return Identify(data, options);
        }
        catch (InvalidImageContentException ex)
        {
            throw ex.WithFile(path);
        }
    }

    /// <summary>Decodes an image file.</summary>
    /// <exception cref="InvalidImageContentException">The file is not a valid image; the message names the file.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>, or it is a folder (the message says so).</exception>
    public static Image Load(string path, DecoderOptions? options = null)
    {
        byte[] data = ReadFile(path, options ?? DecoderOptions.Default);
        try
        {
            return Decode(data, options);
        }
        catch (InvalidImageContentException ex)
        {
            throw ex.WithFile(path);
        }
    }

    /// <summary>The encoder for a file name's extension (.png, .ppm, .pgm, .pnm).</summary>
    /// <exception cref="NotSupportedException">The extension names no format we write.</exception>
    public static IImageEncoder GetEncoder(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".png" => new PngEncoder(),
            ".ppm" or ".pgm" or ".pnm" => new PnmEncoder(),
            _ => throw new NotSupportedException($"Cannot write '{path}': unknown output extension '{ext}' (use .png, .ppm or .pgm)."),
        };
    }

    /// <summary>
    /// Saves an image to a file, in the format its extension names. The file is written to a temporary name
    /// beside it and then moved into place, so a failure never leaves a half-written file.
    /// </summary>
    /// <param name="image">The pixels to write.</param>
    /// <param name="path">Destination; its extension chooses the format.</param>
    /// <param name="overwrite">Replace an existing file. Default: <c>true</c>.</param>
    public static void Save(ImageView image, string path, bool overwrite = true)
    {
        IImageEncoder encoder = GetEncoder(path);
        if (!overwrite && File.Exists(path))
        {
            throw new IOException($"'{path}' already exists.");
        }

        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (FileStream stream = new(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                encoder.Encode(image, stream);
            }

            File.Move(temp, full, overwrite);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private static byte[] ReadFile(string path, DecoderOptions options)
    {
        if (Directory.Exists(path))
        {
            throw new FileNotFoundException($"'{Path.GetFullPath(path)}' is a folder, not an image file.", path);
        }

        using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long length = stream.Length;
        if (length > options.MaxInputBytes)
        {
            throw new InvalidImageContentException(ImageFormat.Unknown, -1,
                $"file of {length:N0} bytes exceeds the input limit of {options.MaxInputBytes:N0} bytes")
            { FilePath = path };
        }

        byte[] data = GC.AllocateUninitializedArray<byte>((int)length);
        stream.ReadExactly(data);
        return data;
    }
}
