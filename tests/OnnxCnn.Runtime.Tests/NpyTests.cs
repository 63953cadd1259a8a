using System.Text;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

public class NpyTests
{
    [Fact]
    public void RoundTrip_EveryType_KeepsValuesAndShape()
    {
        using var dir = new TempDir();
        Check(Tensor<float>.FromSpan([1.5f, -2, 3e-8f, float.MaxValue, 0, 1], 2, 3));
        Check(Tensor<double>.FromSpan([Math.PI, -1], 2));
        Check(Tensor<int>.FromSpan([int.MinValue, 7, int.MaxValue], 3, 1));
        Check(Tensor<long>.FromSpan([long.MinValue, long.MaxValue], 1, 1, 2));
        Check(Tensor<byte>.FromSpan([0, 128, 255], 3));
        Check(Tensor<bool>.FromSpan([true, false, true, true], 2, 2));
        Check(Tensor<float>.FromSpan([42f]));

        void Check<T>(Tensor<T> t)
            where T : unmanaged
        {
            using (t)
            {
                var path = dir.File("t.npy");
                Npy.Write(path, t);
                using var back = Npy.Read(path);
                Assert.Equal(t.ElementType, back.ElementType);
                Assert.Equal(t.Shape, back.Shape);
                Assert.Equal(t.ToArray(), back.As<T>().ToArray());
            }
        }
    }

    [Fact]
    public void Write_HeaderIsNumpyVersion1_AlignedTo64()
    {
        using var t = Tensor<float>.FromSpan([1, 2, 3], 3);
        using var stream = new MemoryStream();
        Npy.Write(stream, t);
        var bytes = stream.ToArray();
        Assert.Equal(Magic, bytes[..6]);
        Assert.Equal(1, bytes[6]);
        var headerLength = bytes[8] | (bytes[9] << 8);
        Assert.Equal(0, (10 + headerLength) % 64);
        var header = Encoding.Latin1.GetString(bytes, 10, headerLength);
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", header.TrimEnd());
        Assert.Equal(10 + headerLength + 12, bytes.Length);
    }

    [Fact]
    public void Read_PyTorchFixture_HasExpectedShape()
    {
        using var logits = Npy.Read(RepoPaths.Fixture("tiny_resnet", "logits.npy"));
        Assert.Equal(TensorElementType.Float32, logits.ElementType);
        Assert.Equal([2L, 10], logits.Shape);
    }

    [Theory]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", "dtype '<c8' is not supported")]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", "dtype '>f4' is not supported")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", "Fortran-ordered arrays are not supported")]
    [InlineData("{'descr': '<f4', 'shape': (2,), }", "malformed header")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,x), }", "shape entry 'x' is not a dimension")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", "data is shorter than shape [3]")]
    public void Read_MalformedHeader_NamesFileAndProblem(string header, string expected)
    {
        var bytes = NpyBytes(header, new byte[8]);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes), "x.npy"));
        Assert.StartsWith("npy file 'x.npy': ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Read_NotNpy_IsClearError()
    {
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream("hello world"u8.ToArray()), "hello.npy"));
        Assert.Equal("npy file 'hello.npy': not an .npy file (missing the \\x93NUMPY magic).", e.Message);
    }

    [Fact]
    public void Read_MissingFile_NamesIt()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Npy.Read("/nonexistent/a.npy"));
        Assert.Equal("npy file '/nonexistent/a.npy' not found.", e.Message);
    }

    [Fact]
    public void Read_Version2Header_IsAccepted()
    {
        var header = "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }";
        var h = Encoding.Latin1.GetBytes(header + "\n");
        var bytes = new List<byte>();
        bytes.AddRange(Magic);
        bytes.AddRange([2, 0]);
        bytes.AddRange(BitConverter.GetBytes(h.Length));
        bytes.AddRange(h);
        bytes.AddRange(BitConverter.GetBytes(77L));
        using var t = Npy.Read(new MemoryStream(bytes.ToArray()));
        Assert.Equal(77L, t.As<long>()[0]);
    }

    [Fact]
    public void Write_FailedMidway_LeavesNoFile()
    {
        using var dir = new TempDir();
        using var t = Tensor<short>.Create(2);
        var path = dir.File("out.npy");
        Assert.Throws<NotSupportedException>(() => Npy.Write(path, t));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    [Fact]
    public void Read_PipeDeclaringHugeShape_FailsOnLengthWithoutAllocatingIt()
    {
        // 500,000,000 floats (2 GB) declared, 100 bytes present, and a stream that cannot tell its length.
        var bytes = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (500000000,), }", new byte[100]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new ForwardOnlyStream(bytes), "pipe"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("data is shorter than shape [500000000]", e.Message);
        Assert.True(allocated < 64L << 20, $"allocated {allocated} bytes for a 100-byte stream");
    }

    [Fact]
    public void Read_PipeLargerThanOneChunk_ReadsEveryByte()
    {
        var values = new float[5_000_000];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (i * 7919) % 100_003;
        }

        using var t = Tensor<float>.FromSpan(values, 5, 1_000_000);
        using var stream = new MemoryStream();
        Npy.Write(stream, t);
        using var back = Npy.Read(new ForwardOnlyStream(stream.ToArray(), 4096), "pipe");
        Assert.Equal(t.Shape, back.Shape);
        Assert.Equal(values, back.As<float>().ToArray());
    }

    private static byte[] NpyBytes(string header, byte[] data)
    {
        var h = Encoding.Latin1.GetBytes(header + "\n");
        return [.. Magic, 1, 0, (byte)h.Length, (byte)(h.Length >> 8), .. h, .. data];
    }
}
