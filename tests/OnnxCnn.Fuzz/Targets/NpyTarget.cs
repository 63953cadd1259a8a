using OnnxCnn.Runtime;

namespace OnnxCnn.Fuzz.Targets;

/// <summary><c>.npy</c> reading; an accepted file must write back and read again to the same tensor.</summary>
internal static class NpyTarget
{
    public static FuzzTarget Create() => new()
    {
        Name = "npy",
        Description = "Npy.Read on bytes; accepted tensors round-trip through Npy.Write",
        Execute = Execute,
        Expected = [typeof(InvalidDataException)],
        Seeds = Seeds,
        Dictionary = ImageTargets.Tokens("\x93NUMPY", "'descr': '<f4'", "'descr': '|b1'", "'descr': '<i8'", "'fortran_order': False", "'fortran_order': True",
            "'shape': (", "(2, 3)", "(0,)", "()", ", ", "L", "9223372036854775807", "4294967296", "{", "}", "\n"),
    };

    private static void Execute(byte[] data)
    {
        using var tensor = Npy.Read(new MemoryStream(data, writable: false), "fuzz.npy");
        using var copy = new MemoryStream();
        Npy.Write(copy, tensor);
        copy.Position = 0;
        using var again = Npy.Read(copy, "copy.npy");
        ImageTargets.Require(again.ElementType == tensor.ElementType && again.Shape.SequenceEqual(tensor.Shape) && again.Bytes.SequenceEqual(tensor.Bytes),
            "a written tensor reads back different");
    }

    private static IEnumerable<(string, byte[])> Seeds()
    {
        (string, byte[]) Of(string name, Tensor t)
        {
            using (t)
            {
                using var s = new MemoryStream();
                Npy.Write(s, t);
                return (name, s.ToArray());
            }
        }

        yield return Of("f32_2x3.npy", Tensor<float>.FromSpan([1f, -2f, 3.5f, 0f, float.NaN, 6f], 2, 3));
        yield return Of("f64_scalar.npy", Tensor<double>.FromSpan([Math.PI]));
        yield return Of("i64_4.npy", Tensor<long>.FromSpan([1L, -1L, long.MaxValue, 0L], 4));
        yield return Of("i32_empty.npy", Tensor<int>.Create(0, 3));
        yield return Of("u8_2x2x2.npy", Tensor<byte>.FromSpan([0, 1, 2, 3, 250, 251, 252, 253], 2, 2, 2));
        yield return Of("bool_3.npy", Tensor<bool>.FromSpan([true, false, true], 3));
        yield return ("v2_f32.npy", [0x93, .. "NUMPY"u8, 2, 0, 0x36, 0, 0, 0, .. "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"u8, 0x0A, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]);
    }
}
