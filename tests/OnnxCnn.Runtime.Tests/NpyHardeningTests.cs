using System.Text;

namespace OnnxCnn.Runtime.Tests;

/// <summary>Regression tests for what fuzzing <see cref="Npy.Read(Stream, string)"/> found.</summary>
public class NpyHardeningTests
{
    [Fact]
    public void Read_ShapeFarLargerThanTheData_RefusedBeforeAllocatingForIt()
    {
        // 4·10^8 floats declared, 8 bytes present: 1.6 GB was allocated before the data was read.
        var bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (20000, 20000), }", new byte[8]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => OnnxCnn.Runtime.Npy.Read(new MemoryStream(bytes), "big.npy"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated for the declared shape");
        Assert.Equal("npy file 'big.npy': data is shorter than shape [20000,20000] of <f4 needs (1600000000 bytes, 8 present).", e.Message);
    }

    [Fact]
    public void Read_ShapeWhoseElementCountOverflows_IsInvalidData()
    {
        // Was an OverflowException from the element count (2^96 elements).
        var bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", new byte[8]);
        var e = Assert.Throws<InvalidDataException>(() => OnnxCnn.Runtime.Npy.Read(new MemoryStream(bytes), "x.npy"));
        Assert.Equal("npy file 'x.npy': shape [4294967296,4294967296,4294967296] has more elements than a tensor can hold.", e.Message);
    }

    [Fact]
    public void Read_ShapeOverArrayLimit_IsInvalidData()
    {
        // Was an ArgumentException from Tensor.Create (42949672963 elements).
        var bytes = Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (42949672963,), }", new byte[8]);
        var e = Assert.Throws<InvalidDataException>(() => OnnxCnn.Runtime.Npy.Read(new MemoryStream(bytes), "x.npy"));
        Assert.Contains("has more elements than a tensor can hold", e.Message);
    }

    [Theory]
    [InlineData("{'desmr': '<f4'\n\u0001, 'shape': (2,), }", "malformed header {'desmr': '<f4'\\x0a\\x01, 'shape': (2,), }")]
    [InlineData("{'descr': '|b \n1', 'fortran_order': False, 'shape': (2,), }", "dtype '|b \\x0a1' is not supported")]
    public void Read_HeaderWithControlCharacters_MessageIsOneLine(string header, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxCnn.Runtime.Npy.Read(new MemoryStream(Npy(header, new byte[8])), "x.npy"));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains(expected, e.Message);
    }

    private static byte[] Npy(string header, byte[] data)
    {
        var h = Encoding.Latin1.GetBytes(header + "\n");
        return [0x93, .. "NUMPY"u8, 1, 0, (byte)h.Length, (byte)(h.Length >> 8), .. h, .. data];
    }
}
