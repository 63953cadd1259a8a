namespace OnnxCnn.Runtime;

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c>).</summary>
public enum OrtErrorCode
{
    /// <summary>No error.</summary>
    Ok = 0,
    /// <summary>Generic failure.</summary>
    Fail = 1,
    /// <summary>An argument was invalid.</summary>
    InvalidArgument = 2,
    /// <summary>A file does not exist.</summary>
    NoSuchFile = 3,
    /// <summary>No model loaded.</summary>
    NoModel = 4,
    /// <summary>Engine error.</summary>
    EngineError = 5,
    /// <summary>Runtime exception (also a terminated run).</summary>
    RuntimeException = 6,
    /// <summary>The model is not a valid ONNX protobuf.</summary>
    InvalidProtobuf = 7,
    /// <summary>Model already loaded.</summary>
    ModelLoaded = 8,
    /// <summary>Not implemented.</summary>
    NotImplemented = 9,
    /// <summary>The graph is invalid.</summary>
    InvalidGraph = 10,
    /// <summary>An execution provider failed.</summary>
    EpFail = 11,
    /// <summary>Model load was cancelled.</summary>
    ModelLoadCanceled = 12,
    /// <summary>The model requires compilation.</summary>
    ModelRequiresCompilation = 13,
    /// <summary>Not found.</summary>
    NotFound = 14,
    /// <summary>The device was reset.</summary>
    DeviceReset = 15,
}

/// <summary>An error reported by ONNX Runtime (or by the binding on its behalf), with ORT's error code.</summary>
public sealed class OnnxRuntimeException : Exception
{
    /// <summary>Creates an exception with a code and message.</summary>
    public OnnxRuntimeException(OrtErrorCode code, string message)
        : base(message) => Code = code;

    /// <summary>Creates an exception with a code, message and cause.</summary>
    public OnnxRuntimeException(OrtErrorCode code, string message, Exception inner)
        : base(message, inner) => Code = code;

    /// <summary>ONNX Runtime's error code.</summary>
    public OrtErrorCode Code { get; }
}
