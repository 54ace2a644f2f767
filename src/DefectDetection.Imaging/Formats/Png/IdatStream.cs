using System.Buffers.Binary;

namespace DefectDetection.Imaging.Formats.Png;

/// <summary>
/// A read-only stream over the payloads of the consecutive IDAT chunks that start at a given offset, read in
/// place from pinned input memory so that <see cref="System.IO.Compression.ZLibStream"/> inflates them without a
/// copy. The chunk structure has already been validated (lengths and CRCs); the stream ends at the first chunk
/// that is not IDAT. Valid only while the input stays pinned.
/// </summary>
internal sealed unsafe class IdatStream : Stream
{
    private readonly byte* _input;
    private readonly int _length;
    private int _next;      // offset of the next chunk header
    private int _position;  // read position inside the current chunk's data
    private int _end;       // end of the current chunk's data

    public IdatStream(byte* input, int length, int firstIdat)
    {
        _input = input;
        _length = length;
        _next = firstIdat;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int written = 0;
        while (written < buffer.Length)
        {
            if (_position == _end && !NextChunk())
            {
                break;
            }

            int n = Math.Min(_end - _position, buffer.Length - written);
            new ReadOnlySpan<byte>(_input + _position, n).CopyTo(buffer[written..]);
            written += n;
            _position += n;
        }

        return written;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private bool NextChunk()
    {
        while (_next >= 0 && _length - _next >= 12)
        {
            ReadOnlySpan<byte> head = new(_input + _next, 8);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(head);
            if (BinaryPrimitives.ReadUInt32BigEndian(head[4..]) != PngConstants.Idat || length > (uint)(_length - _next - 12))
            {
                break;
            }

            _position = _next + 8;
            _end = _position + (int)length;
            _next = _end + 4;
            if (length > 0)
            {
                return true;
            }
        }

        _next = -1;
        return false;
    }
}
