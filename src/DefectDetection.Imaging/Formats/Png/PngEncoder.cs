using System.Buffers.Binary;
using System.IO.Compression;
using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging.Formats.Png;

/// <summary>
/// Encodes images as 8-bit PNG: <see cref="PixelFormat.Gray8"/> as gray, <see cref="PixelFormat.Rgb24"/> as RGB,
/// <see cref="PixelFormat.Rgba32"/> as RGBA, never interlaced. Views (crops) are written without copying the image.
/// Immutable and safe to share between threads.
/// </summary>
public sealed class PngEncoder : IImageEncoder
{
    private const int IdatChunkSize = 1 << 16;

    /// <summary>Creates an encoder.</summary>
    /// <param name="options">Compression level and filter strategy; <see cref="PngEncoderOptions.Default"/> when null.</param>
    public PngEncoder(PngEncoderOptions? options = null) => Options = options ?? PngEncoderOptions.Default;

    /// <summary>The options in use.</summary>
    public PngEncoderOptions Options { get; }

    /// <inheritdoc />
    public ImageFormat Format => ImageFormat.Png;

    /// <inheritdoc />
    public void Encode(ImageView image, Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        PngColorType colorType = image.PixelFormat switch
        {
            PixelFormat.Gray8 => PngColorType.Grayscale,
            PixelFormat.Rgb24 => PngColorType.Rgb,
            PixelFormat.Rgba32 => PngColorType.RgbAlpha,
            _ => throw new NotSupportedException($"PNG cannot hold pixel format {image.PixelFormat}."),
        };

        output.Write(PngConstants.Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], image.Height);
        ihdr[8] = 8;
        ihdr[9] = (byte)colorType;
        ihdr[10] = 0;
        ihdr[11] = 0;
        ihdr[12] = 0;
        WriteChunk(output, PngConstants.Ihdr, ihdr);

        using (IdatWriter idat = new(output, IdatChunkSize))
        {
            ZLibCompressionOptions zopts = new() { CompressionLevel = Options.CompressionLevel };
            using ZLibStream zlib = new(idat, zopts, leaveOpen: true);
            WriteRows(image, zlib);
        }

        WriteChunk(output, PngConstants.Iend, []);
    }

    private void WriteRows(ImageView image, Stream zlib)
    {
        int bpp = image.Channels;
        int rowBytes = image.Width * bpp;
        PngFilterStrategy strategy = Options.FilterStrategy;
        int candidates = strategy == PngFilterStrategy.Adaptive ? 5 : 1;
        byte[] buffers = PixelBufferPool.Rent<byte>((rowBytes + 1) * (candidates + 1));
        try
        {
            Span<byte> zeros = buffers.AsSpan(candidates * (rowBytes + 1), rowBytes);
            zeros.Clear();
            for (int y = 0; y < image.Height; y++)
            {
                ReadOnlySpan<byte> row = image.GetRow(y);
                ReadOnlySpan<byte> prev = y == 0 ? zeros : image.GetRow(y - 1);
                Span<byte> chosen;
                if (candidates == 1)
                {
                    chosen = buffers.AsSpan(0, rowBytes + 1);
                    PngFilterType type = (PngFilterType)(strategy - PngFilterStrategy.None);
                    chosen[0] = (byte)type;
                    PngFilters.Filter(type, row, prev, bpp, chosen[1..]);
                }
                else
                {
                    chosen = default;
                    long best = long.MaxValue;
                    for (int f = 0; f < 5; f++)
                    {
                        Span<byte> candidate = buffers.AsSpan(f * (rowBytes + 1), rowBytes + 1);
                        candidate[0] = (byte)f;
                        PngFilters.Filter((PngFilterType)f, row, prev, bpp, candidate[1..]);
                        long sum = PngFilters.SumOfAbsoluteSigned(candidate[1..]);
                        if (sum < best)
                        {
                            best = sum;
                            chosen = candidate;
                        }
                    }
                }

                zlib.Write(chosen);
            }
        }
        finally
        {
            PixelBufferPool.Return(buffers);
        }
    }

    /// <summary>Writes one chunk: length, type, data, CRC of type and data.</summary>
    internal static void WriteChunk(Stream output, uint type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        BinaryPrimitives.WriteUInt32BigEndian(head[4..], type);
        uint crc = PngCrc32.Update(PngCrc32.Compute(head[4..]), data);
        output.Write(head);
        output.Write(data);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        output.Write(tail);
    }

    /// <summary>Collects the zlib stream and writes it out as IDAT chunks of a fixed maximum size.</summary>
    private sealed class IdatWriter : Stream
    {
        private readonly Stream _output;
        private readonly byte[] _buffer;
        private readonly int _capacity;
        private int _used;

        public IdatWriter(Stream output, int capacity)
        {
            _output = output;
            _capacity = capacity;
            _buffer = PixelBufferPool.Rent<byte>(capacity);
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                int n = Math.Min(buffer.Length, _capacity - _used);
                buffer[..n].CopyTo(_buffer.AsSpan(_used));
                _used += n;
                buffer = buffer[n..];
                if (_used == _capacity)
                {
                    Emit();
                }
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (_used > 0)
                {
                    Emit();
                }

                PixelBufferPool.Return(_buffer);
            }

            base.Dispose(disposing);
        }

        private void Emit()
        {
            WriteChunk(_output, PngConstants.Idat, _buffer.AsSpan(0, _used));
            _used = 0;
        }
    }
}
