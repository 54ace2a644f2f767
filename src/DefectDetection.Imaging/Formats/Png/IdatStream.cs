namespace DefectDetection.Imaging.Formats.Png;

/// <summary>
/// A read-only stream over the payloads of consecutive IDAT chunks, read in place from pinned input memory, so
/// that <see cref="System.IO.Compression.ZLibStream"/> inflates them without a copy. Valid only while the input
/// stays pinned.
/// </summary>
internal sealed unsafe class IdatStream : Stream
{
    private readonly byte* _input;
    private readonly (int Offset, int Length)[] _segments;
    private readonly int _count;
    private int _segment;
    private int _position;

    public IdatStream(byte* input, (int Offset, int Length)[] segments, int count)
    {
        _input = input;
        _segments = segments;
        _count = count;
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
        while (written < buffer.Length && _segment < _count)
        {
            (int offset, int length) = _segments[_segment];
            int n = Math.Min(length - _position, buffer.Length - written);
            new ReadOnlySpan<byte>(_input + offset + _position, n).CopyTo(buffer[written..]);
            written += n;
            _position += n;
            if (_position == length)
            {
                _segment++;
                _position = 0;
            }
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
}
