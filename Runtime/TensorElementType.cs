namespace OnnxCnn.Runtime;

/// <summary>Tensor element types, numbered as ONNX's <c>TensorProto.DataType</c> and ORT's enum.</summary>
public enum TensorElementType
{
    /// <summary>Unknown.</summary>
    Undefined = 0,
    /// <summary>32-bit float.</summary>
    Float32 = 1,
    /// <summary>8-bit unsigned integer.</summary>
    UInt8 = 2,
    /// <summary>8-bit signed integer.</summary>
    Int8 = 3,
    /// <summary>16-bit unsigned integer.</summary>
    UInt16 = 4,
    /// <summary>16-bit signed integer.</summary>
    Int16 = 5,
    /// <summary>32-bit signed integer.</summary>
    Int32 = 6,
    /// <summary>64-bit signed integer.</summary>
    Int64 = 7,
    /// <summary>String (not supported by OnnxCnn tensors).</summary>
    String = 8,
    /// <summary>Boolean, one byte.</summary>
    Bool = 9,
    /// <summary>16-bit float.</summary>
    Float16 = 10,
    /// <summary>64-bit float.</summary>
    Float64 = 11,
    /// <summary>32-bit unsigned integer.</summary>
    UInt32 = 12,
    /// <summary>64-bit unsigned integer.</summary>
    UInt64 = 13,
    /// <summary>bfloat16.</summary>
    BFloat16 = 16,
}

/// <summary>Names and sizes of <see cref="TensorElementType"/>s.</summary>
public static class TensorElementTypes
{
    /// <summary>The element type for a CLR type, or an exception for types ONNX has no tensor of.</summary>
    public static TensorElementType Of<T>()
        where T : unmanaged => Type.GetTypeCode(typeof(T)) switch
        {
            TypeCode.Single => TensorElementType.Float32,
            TypeCode.Double => TensorElementType.Float64,
            TypeCode.Byte => TensorElementType.UInt8,
            TypeCode.SByte => TensorElementType.Int8,
            TypeCode.Int16 => TensorElementType.Int16,
            TypeCode.UInt16 => TensorElementType.UInt16,
            TypeCode.Int32 => TensorElementType.Int32,
            TypeCode.UInt32 => TensorElementType.UInt32,
            TypeCode.Int64 => TensorElementType.Int64,
            TypeCode.UInt64 => TensorElementType.UInt64,
            TypeCode.Boolean => TensorElementType.Bool,
            _ when typeof(T) == typeof(Half) => TensorElementType.Float16,
            _ => throw new NotSupportedException($"{typeof(T).Name} is not an ONNX tensor element type."),
        };

    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this TensorElementType type) => type switch
    {
        TensorElementType.Float32 or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.Float64 or TensorElementType.Int64 or TensorElementType.UInt64 => 8,
        TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Bool => 1,
        TensorElementType.Int16 or TensorElementType.UInt16 or TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        _ => throw new NotSupportedException($"tensor element type {type} has no fixed size."),
    };

    /// <summary>The short name used in messages and <c>info</c>: float32, int64, uint8, …</summary>
    public static string Name(this TensorElementType type) => type switch
    {
        TensorElementType.Float32 => "float32",
        TensorElementType.Float64 => "float64",
        TensorElementType.Float16 => "float16",
        TensorElementType.BFloat16 => "bfloat16",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Int8 => "int8",
        TensorElementType.UInt16 => "uint16",
        TensorElementType.Int16 => "int16",
        TensorElementType.Int32 => "int32",
        TensorElementType.UInt32 => "uint32",
        TensorElementType.Int64 => "int64",
        TensorElementType.UInt64 => "uint64",
        TensorElementType.Bool => "bool",
        TensorElementType.String => "string",
        _ => $"type{(int)type}",
    };
}
