namespace OnnxCnn.Runtime.Tests;

/// <summary>A pipe-like stream: readable, no length, no seeking, at most <paramref name="maxRead"/> bytes per read.</summary>
internal sealed class ForwardOnlyStream(byte[] data, int maxRead = 100) : Stream
{
    private int position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = Math.Min(Math.Min(count, maxRead), data.Length - position);
        data.AsSpan(position, n).CopyTo(buffer.AsSpan(offset));
        position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
