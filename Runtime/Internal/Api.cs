using System.Runtime.InteropServices;
using System.Text;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// The <c>OrtApi</c> entries OnnxCnn calls, each by its index in the table (the order of
/// <c>struct OrtApi</c> in <c>onnxruntime_c_api.h</c> is the ABI; see ort-c-api-order.md).
/// Pointer parameters carry their C type in a comment. Every <c>OrtStatus*</c> goes through
/// <see cref="Check"/>.
/// </summary>
internal static unsafe class Api
{
    // Table indices, grouped as in the header.
    private const int IdxGetErrorCode = 1, IdxGetErrorMessage = 2, IdxCreateEnv = 3;
    private const int IdxCreateSession = 7, IdxCreateSessionFromArray = 8, IdxRun = 9;
    private const int IdxCreateSessionOptions = 10, IdxSetOptimizedModelFilePath = 11, IdxSetSessionExecutionMode = 13, IdxEnableProfiling = 14;
    private const int IdxEnableMemPattern = 16, IdxDisableMemPattern = 17, IdxEnableCpuMemArena = 18, IdxDisableCpuMemArena = 19;
    private const int IdxSetSessionLogSeverityLevel = 22, IdxSetSessionGraphOptimizationLevel = 23;
    private const int IdxSetIntraOpNumThreads = 24, IdxSetInterOpNumThreads = 25;
    private const int IdxSessionGetInputCount = 30, IdxSessionGetOutputCount = 31;
    private const int IdxSessionGetInputTypeInfo = 33, IdxSessionGetOutputTypeInfo = 34;
    private const int IdxSessionGetInputName = 36, IdxSessionGetOutputName = 37;
    private const int IdxCreateRunOptions = 39, IdxRunOptionsSetTerminate = 46;
    private const int IdxCreateTensorAsOrtValue = 48, IdxCreateTensorWithDataAsOrtValue = 49, IdxIsTensor = 50, IdxGetTensorMutableData = 51;
    private const int IdxCastTypeInfoToTensorInfo = 55, IdxGetOnnxTypeFromTypeInfo = 56;
    private const int IdxGetTensorElementType = 60, IdxGetDimensionsCount = 61, IdxGetDimensions = 62, IdxGetSymbolicDimensions = 63;
    private const int IdxGetTensorTypeAndShape = 65, IdxGetValueType = 67;
    private const int IdxCreateMemoryInfo = 68, IdxCreateCpuMemoryInfo = 69, IdxMemoryInfoGetName = 71, IdxMemoryInfoGetId = 72;
    private const int IdxAllocatorFree = 76, IdxGetAllocatorWithDefaultOptions = 78;
    private const int IdxReleaseStatus = 93;
    public const int IdxReleaseEnv = 92, IdxReleaseMemoryInfo = 94, IdxReleaseSession = 95, IdxReleaseValue = 96;
    public const int IdxReleaseRunOptions = 97, IdxReleaseTypeInfo = 98, IdxReleaseTensorTypeAndShapeInfo = 99, IdxReleaseSessionOptions = 100;
    private const int IdxSessionGetModelMetadata = 111, IdxModelMetadataGetProducerName = 112, IdxModelMetadataGetGraphName = 113;
    private const int IdxModelMetadataGetDescription = 115, IdxModelMetadataLookupCustomMetadataMap = 116, IdxModelMetadataGetVersion = 117;
    public const int IdxReleaseModelMetadata = 118;
    private const int IdxModelMetadataGetCustomMetadataMapKeys = 123;
    private const int IdxGetAvailableProviders = 125, IdxReleaseAvailableProviders = 126;
    private const int IdxAddSessionConfigEntry = 130, IdxCreateAllocator = 131;
    public const int IdxReleaseAllocator = 132;
    private const int IdxRunWithBinding = 133, IdxCreateIoBinding = 134;
    public const int IdxReleaseIoBinding = 135;
    private const int IdxBindInput = 136, IdxBindOutput = 137, IdxBindOutputToDevice = 138;
    private const int IdxGetBoundOutputNames = 139, IdxGetBoundOutputValues = 140, IdxClearBoundInputs = 141, IdxClearBoundOutputs = 142;
    private const int IdxGetTensorMemoryInfo = 194, IdxSynchronizeBoundInputs = 202, IdxSynchronizeBoundOutputs = 203;
    private const int IdxAppendCudaV2 = 204, IdxCreateCudaProviderOptions = 205, IdxUpdateCudaProviderOptions = 206;
    public const int IdxReleaseCudaProviderOptions = 208;
    private const int IdxMemoryInfoGetDeviceType = 225;

    private static nint* T => OrtLibrary.Table;

    /// <summary>Turns a non-null <c>OrtStatus*</c> into an <see cref="OnnxRuntimeException"/> (and frees it).</summary>
    public static void Check(nint status /* OrtStatus* */)
    {
        if (status != 0)
        {
            Throw(status);
        }
    }

    private static void Throw(nint status)
    {
        var code = (OrtErrorCode)((delegate* unmanaged<nint, int>)T[IdxGetErrorCode])(status);
        var message = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)T[IdxGetErrorMessage])(status)) ?? "";
        ((delegate* unmanaged<nint, void>)T[IdxReleaseStatus])(status);
        throw new OnnxRuntimeException(code, message);
    }

    /// <summary>A null-terminated UTF-8 copy of <paramref name="s"/>.</summary>
    public static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    // ---- environment -------------------------------------------------------------------------

    public static OrtHandle CreateEnv(int logSeverity, string logId)
    {
        nint env;
        fixed (byte* id = Utf8Z(logId))
        {
            Check(((delegate* unmanaged<int, byte*, nint*, nint>)T[IdxCreateEnv])(logSeverity, id, &env));
        }

        return new OrtHandle(env, IdxReleaseEnv);
    }

    public static nint DefaultAllocator()
    {
        nint allocator;
        Check(((delegate* unmanaged<nint*, nint>)T[IdxGetAllocatorWithDefaultOptions])(&allocator));
        return allocator;
    }

    /// <summary>Reads a string ORT allocated with <paramref name="allocator"/> and frees it.</summary>
    public static string TakeString(nint allocator /* OrtAllocator* */, nint str /* char* */)
    {
        try
        {
            return Marshal.PtrToStringUTF8(str) ?? "";
        }
        finally
        {
            Check(((delegate* unmanaged<nint, nint, nint>)T[IdxAllocatorFree])(allocator, str));
        }
    }

    public static string[] GetAvailableProviders()
    {
        nint* names;
        int count;
        Check(((delegate* unmanaged<nint**, int*, nint>)T[IdxGetAvailableProviders])(&names, &count));
        try
        {
            var result = new string[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = Marshal.PtrToStringUTF8(names[i]) ?? "";
            }

            return result;
        }
        finally
        {
            Check(((delegate* unmanaged<nint*, int, nint>)T[IdxReleaseAvailableProviders])(names, count));
        }
    }

    // ---- session options ---------------------------------------------------------------------

    public static OrtHandle CreateSessionOptions()
    {
        nint options;
        Check(((delegate* unmanaged<nint*, nint>)T[IdxCreateSessionOptions])(&options));
        return new OrtHandle(options, IdxReleaseSessionOptions);
    }

    public static void SetIntraOpThreads(OrtHandle options, int n) =>
        Check(((delegate* unmanaged<nint, int, nint>)T[IdxSetIntraOpNumThreads])(options.Pointer, n));

    public static void SetInterOpThreads(OrtHandle options, int n) =>
        Check(((delegate* unmanaged<nint, int, nint>)T[IdxSetInterOpNumThreads])(options.Pointer, n));

    public static void SetGraphOptimizationLevel(OrtHandle options, int level) =>
        Check(((delegate* unmanaged<nint, int, nint>)T[IdxSetSessionGraphOptimizationLevel])(options.Pointer, level));

    public static void SetExecutionMode(OrtHandle options, int mode) =>
        Check(((delegate* unmanaged<nint, int, nint>)T[IdxSetSessionExecutionMode])(options.Pointer, mode));

    public static void SetLogSeverity(OrtHandle options, int level) =>
        Check(((delegate* unmanaged<nint, int, nint>)T[IdxSetSessionLogSeverityLevel])(options.Pointer, level));

    public static void SetMemoryPattern(OrtHandle options, bool enabled) =>
        Check(((delegate* unmanaged<nint, nint>)T[enabled ? IdxEnableMemPattern : IdxDisableMemPattern])(options.Pointer));

    public static void SetCpuMemArena(OrtHandle options, bool enabled) =>
        Check(((delegate* unmanaged<nint, nint>)T[enabled ? IdxEnableCpuMemArena : IdxDisableCpuMemArena])(options.Pointer));

    public static void SetOptimizedModelFilePath(OrtHandle options, string path)
    {
        fixed (byte* p = Utf8Z(path))
        {
            Check(((delegate* unmanaged<nint, byte*, nint>)T[IdxSetOptimizedModelFilePath])(options.Pointer, p));
        }
    }

    public static void EnableProfiling(OrtHandle options, string prefix)
    {
        fixed (byte* p = Utf8Z(prefix))
        {
            Check(((delegate* unmanaged<nint, byte*, nint>)T[IdxEnableProfiling])(options.Pointer, p));
        }
    }

    public static void AddSessionConfigEntry(OrtHandle options, string key, string value)
    {
        fixed (byte* k = Utf8Z(key))
        fixed (byte* v = Utf8Z(value))
        {
            Check(((delegate* unmanaged<nint, byte*, byte*, nint>)T[IdxAddSessionConfigEntry])(options.Pointer, k, v));
        }
    }

    /// <summary>Appends the CUDA execution provider through <c>OrtCUDAProviderOptionsV2</c>.</summary>
    public static void AppendCudaProvider(OrtHandle options, IReadOnlyDictionary<string, string> settings)
    {
        nint cuda;
        Check(((delegate* unmanaged<nint*, nint>)T[IdxCreateCudaProviderOptions])(&cuda));
        using var cudaHandle = new OrtHandle(cuda, IdxReleaseCudaProviderOptions);
        var keys = settings.Keys.Select(Utf8Z).ToArray();
        var values = settings.Values.Select(Utf8Z).ToArray();
        var handles = keys.Concat(values).Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        try
        {
            var keyPtrs = stackalloc nint[keys.Length];
            var valuePtrs = stackalloc nint[values.Length];
            for (var i = 0; i < keys.Length; i++)
            {
                keyPtrs[i] = handles[i].AddrOfPinnedObject();
                valuePtrs[i] = handles[keys.Length + i].AddrOfPinnedObject();
            }

            Check(((delegate* unmanaged<nint, nint*, nint*, nuint, nint>)T[IdxUpdateCudaProviderOptions])(cuda, keyPtrs, valuePtrs, (nuint)keys.Length));
            Check(((delegate* unmanaged<nint, nint, nint>)T[IdxAppendCudaV2])(options.Pointer, cuda));
        }
        finally
        {
            foreach (var h in handles)
            {
                h.Free();
            }
        }
    }

    // ---- sessions ----------------------------------------------------------------------------

    public static OrtHandle CreateSession(OrtHandle env, string path, OrtHandle options)
    {
        nint session;
        fixed (byte* p = Utf8Z(path))
        {
            Check(((delegate* unmanaged<nint, byte*, nint, nint*, nint>)T[IdxCreateSession])(env.Pointer, p, options.Pointer, &session));
        }

        return new OrtHandle(session, IdxReleaseSession);
    }

    public static OrtHandle CreateSession(OrtHandle env, ReadOnlySpan<byte> model, OrtHandle options)
    {
        nint session;
        fixed (byte* p = model)
        {
            Check(((delegate* unmanaged<nint, byte*, nuint, nint, nint*, nint>)T[IdxCreateSessionFromArray])(env.Pointer, p, (nuint)model.Length, options.Pointer, &session));
        }

        return new OrtHandle(session, IdxReleaseSession);
    }

    public static int GetInputCount(OrtHandle session)
    {
        nuint n;
        Check(((delegate* unmanaged<nint, nuint*, nint>)T[IdxSessionGetInputCount])(session.Pointer, &n));
        return (int)n;
    }

    public static int GetOutputCount(OrtHandle session)
    {
        nuint n;
        Check(((delegate* unmanaged<nint, nuint*, nint>)T[IdxSessionGetOutputCount])(session.Pointer, &n));
        return (int)n;
    }

    public static string GetInputName(OrtHandle session, int index) => GetName(session, index, IdxSessionGetInputName);

    public static string GetOutputName(OrtHandle session, int index) => GetName(session, index, IdxSessionGetOutputName);

    private static string GetName(OrtHandle session, int index, int entry)
    {
        var allocator = DefaultAllocator();
        nint name;
        Check(((delegate* unmanaged<nint, nuint, nint, nint*, nint>)T[entry])(session.Pointer, (nuint)index, allocator, &name));
        return TakeString(allocator, name);
    }

    public static OrtHandle GetInputTypeInfo(OrtHandle session, int index) => GetTypeInfo(session, index, IdxSessionGetInputTypeInfo);

    public static OrtHandle GetOutputTypeInfo(OrtHandle session, int index) => GetTypeInfo(session, index, IdxSessionGetOutputTypeInfo);

    private static OrtHandle GetTypeInfo(OrtHandle session, int index, int entry)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nuint, nint*, nint>)T[entry])(session.Pointer, (nuint)index, &info));
        return new OrtHandle(info, IdxReleaseTypeInfo);
    }

    /// <summary>The ONNXType of a type info (1 = tensor).</summary>
    public static int GetOnnxType(OrtHandle typeInfo)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)T[IdxGetOnnxTypeFromTypeInfo])(typeInfo.Pointer, &type));
        return type;
    }

    /// <summary>The tensor info inside a type info; owned by the type info (not released separately).</summary>
    public static nint CastToTensorInfo(OrtHandle typeInfo)
    {
        nint tensorInfo;
        Check(((delegate* unmanaged<nint, nint*, nint>)T[IdxCastTypeInfoToTensorInfo])(typeInfo.Pointer, &tensorInfo));
        return tensorInfo;
    }

    /// <summary>Element type, dimensions (−1 where unknown) and symbolic names of a tensor info.</summary>
    public static (int ElementType, long[] Dims, string?[] Symbols) ReadTensorInfo(nint tensorInfo /* OrtTensorTypeAndShapeInfo* */)
    {
        int elementType;
        Check(((delegate* unmanaged<nint, int*, nint>)T[IdxGetTensorElementType])(tensorInfo, &elementType));
        nuint rank;
        Check(((delegate* unmanaged<nint, nuint*, nint>)T[IdxGetDimensionsCount])(tensorInfo, &rank));
        var dims = new long[(int)rank];
        var symbolPtrs = new nint[(int)rank];
        fixed (long* d = dims)
        fixed (nint* s = symbolPtrs)
        {
            Check(((delegate* unmanaged<nint, long*, nuint, nint>)T[IdxGetDimensions])(tensorInfo, d, rank));
            Check(((delegate* unmanaged<nint, nint*, nuint, nint>)T[IdxGetSymbolicDimensions])(tensorInfo, s, rank));
        }

        var symbols = new string?[(int)rank];
        for (var i = 0; i < symbols.Length; i++)
        {
            var name = symbolPtrs[i] == 0 ? null : Marshal.PtrToStringUTF8(symbolPtrs[i]);
            symbols[i] = string.IsNullOrEmpty(name) ? null : name;
        }

        return (elementType, dims, symbols);
    }

    public static void Run(OrtHandle session, nint runOptions, nint* inputNames, nint* inputs, int inputCount, nint* outputNames, int outputCount, nint* outputs) =>
        Check(((delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)T[IdxRun])(
            session.Pointer, runOptions, inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs));

    // ---- model metadata ----------------------------------------------------------------------

    public static OrtHandle GetModelMetadata(OrtHandle session)
    {
        nint metadata;
        Check(((delegate* unmanaged<nint, nint*, nint>)T[IdxSessionGetModelMetadata])(session.Pointer, &metadata));
        return new OrtHandle(metadata, IdxReleaseModelMetadata);
    }

    public static string MetadataProducer(OrtHandle m) => MetadataString(m, IdxModelMetadataGetProducerName);

    public static string MetadataGraphName(OrtHandle m) => MetadataString(m, IdxModelMetadataGetGraphName);

    public static string MetadataDescription(OrtHandle m) => MetadataString(m, IdxModelMetadataGetDescription);

    private static string MetadataString(OrtHandle m, int entry)
    {
        var allocator = DefaultAllocator();
        nint s;
        Check(((delegate* unmanaged<nint, nint, nint*, nint>)T[entry])(m.Pointer, allocator, &s));
        return TakeString(allocator, s);
    }

    public static long MetadataVersion(OrtHandle m)
    {
        long v;
        Check(((delegate* unmanaged<nint, long*, nint>)T[IdxModelMetadataGetVersion])(m.Pointer, &v));
        return v;
    }

    public static Dictionary<string, string> MetadataCustomMap(OrtHandle m)
    {
        var allocator = DefaultAllocator();
        nint* keys;
        long count;
        Check(((delegate* unmanaged<nint, nint, nint**, long*, nint>)T[IdxModelMetadataGetCustomMetadataMapKeys])(m.Pointer, allocator, &keys, &count));
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (keys is null)
        {
            return result;
        }

        try
        {
            for (var i = 0; i < count; i++)
            {
                var key = Marshal.PtrToStringUTF8(keys[i]) ?? "";
                nint value;
                Check(((delegate* unmanaged<nint, nint, nint, nint*, nint>)T[IdxModelMetadataLookupCustomMetadataMap])(m.Pointer, allocator, keys[i], &value));
                result[key] = value == 0 ? "" : TakeString(allocator, value);
            }
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                Check(((delegate* unmanaged<nint, nint, nint>)T[IdxAllocatorFree])(allocator, keys[i]));
            }

            Check(((delegate* unmanaged<nint, nint, nint>)T[IdxAllocatorFree])(allocator, (nint)keys));
        }

        return result;
    }

    // ---- run options -------------------------------------------------------------------------

    public static OrtHandle CreateRunOptions()
    {
        nint options;
        Check(((delegate* unmanaged<nint*, nint>)T[IdxCreateRunOptions])(&options));
        return new OrtHandle(options, IdxReleaseRunOptions);
    }

    public static void RunOptionsSetTerminate(OrtHandle options) =>
        Check(((delegate* unmanaged<nint, nint>)T[IdxRunOptionsSetTerminate])(options.Pointer));

    // ---- memory info and values --------------------------------------------------------------

    public static OrtHandle CreateCpuMemoryInfo()
    {
        nint info;
        // OrtDeviceAllocator (0), OrtMemTypeDefault (0): memory we own, on the CPU.
        Check(((delegate* unmanaged<int, int, nint*, nint>)T[IdxCreateCpuMemoryInfo])(0, 0, &info));
        return new OrtHandle(info, IdxReleaseMemoryInfo);
    }

    public static OrtHandle CreateMemoryInfo(string name, int allocatorType, int deviceId, int memType)
    {
        nint info;
        fixed (byte* n = Utf8Z(name))
        {
            Check(((delegate* unmanaged<byte*, int, int, int, nint*, nint>)T[IdxCreateMemoryInfo])(n, allocatorType, deviceId, memType, &info));
        }

        return new OrtHandle(info, IdxReleaseMemoryInfo);
    }

    /// <summary>(name, device id, device type: 0 CPU, 1 GPU) of a memory info.</summary>
    public static (string Name, int Id, int DeviceType) ReadMemoryInfo(nint info /* const OrtMemoryInfo* */)
    {
        nint name;
        int id, deviceType;
        Check(((delegate* unmanaged<nint, nint*, nint>)T[IdxMemoryInfoGetName])(info, &name));
        Check(((delegate* unmanaged<nint, int*, nint>)T[IdxMemoryInfoGetId])(info, &id));
        ((delegate* unmanaged<nint, int*, void>)T[IdxMemoryInfoGetDeviceType])(info, &deviceType);
        return (Marshal.PtrToStringUTF8(name) ?? "", id, deviceType);
    }

    /// <summary>An OrtValue over caller-owned memory: ORT neither copies nor frees it.</summary>
    public static OrtHandle CreateTensorWithData(OrtHandle memoryInfo, void* data, long byteLength, ReadOnlySpan<long> shape, int elementType)
    {
        nint value;
        fixed (long* s = shape)
        {
            Check(((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)T[IdxCreateTensorWithDataAsOrtValue])(
                memoryInfo.Pointer, data, (nuint)byteLength, s, (nuint)shape.Length, elementType, &value));
        }

        return new OrtHandle(value, IdxReleaseValue);
    }

    /// <summary>An allocator for <paramref name="memoryInfo"/>'s device, served by the session's execution provider (release it after its tensors).</summary>
    public static OrtHandle CreateAllocator(OrtHandle session, OrtHandle memoryInfo)
    {
        nint allocator;
        Check(((delegate* unmanaged<nint, nint, nint*, nint>)T[IdxCreateAllocator])(session.Pointer, memoryInfo.Pointer, &allocator));
        return new OrtHandle(allocator, IdxReleaseAllocator);
    }

    /// <summary>A tensor whose memory <paramref name="allocator"/> owns (on its device); the allocator must outlive it.</summary>
    public static OrtHandle CreateTensor(OrtHandle allocator, ReadOnlySpan<long> shape, int elementType)
    {
        nint value;
        fixed (long* s = shape)
        {
            Check(((delegate* unmanaged<nint, long*, nuint, int, nint*, nint>)T[IdxCreateTensorAsOrtValue])(
                allocator.Pointer, s, (nuint)shape.Length, elementType, &value));
        }

        return new OrtHandle(value, IdxReleaseValue);
    }

    /// <summary>ONNXType of a value (1 = tensor).</summary>
    public static int GetValueType(nint value /* OrtValue* */)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)T[IdxGetValueType])(value, &type));
        return type;
    }

    public static void* GetTensorMutableData(nint value /* OrtValue* */)
    {
        void* data;
        Check(((delegate* unmanaged<nint, void**, nint>)T[IdxGetTensorMutableData])(value, &data));
        return data;
    }

    public static (int ElementType, long[] Dims) GetTensorTypeAndShape(nint value /* OrtValue* */)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)T[IdxGetTensorTypeAndShape])(value, &info));
        using var handle = new OrtHandle(info, IdxReleaseTensorTypeAndShapeInfo);
        var (type, dims, _) = ReadTensorInfo(info);
        return (type, dims);
    }

    public static (string Name, int Id, int DeviceType) GetTensorMemoryInfo(nint value /* OrtValue* */)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)T[IdxGetTensorMemoryInfo])(value, &info));
        return ReadMemoryInfo(info);
    }

    public static bool IsTensor(nint value)
    {
        int yes;
        Check(((delegate* unmanaged<nint, int*, nint>)T[IdxIsTensor])(value, &yes));
        return yes != 0;
    }

    // ---- IO binding --------------------------------------------------------------------------

    public static OrtHandle CreateIoBinding(OrtHandle session)
    {
        nint binding;
        Check(((delegate* unmanaged<nint, nint*, nint>)T[IdxCreateIoBinding])(session.Pointer, &binding));
        return new OrtHandle(binding, IdxReleaseIoBinding);
    }

    public static void BindInput(OrtHandle binding, byte[] name, OrtHandle value)
    {
        fixed (byte* n = name)
        {
            Check(((delegate* unmanaged<nint, byte*, nint, nint>)T[IdxBindInput])(binding.Pointer, n, value.Pointer));
        }
    }

    public static void BindOutput(OrtHandle binding, byte[] name, OrtHandle value)
    {
        fixed (byte* n = name)
        {
            Check(((delegate* unmanaged<nint, byte*, nint, nint>)T[IdxBindOutput])(binding.Pointer, n, value.Pointer));
        }
    }

    public static void BindOutputToDevice(OrtHandle binding, byte[] name, OrtHandle memoryInfo)
    {
        fixed (byte* n = name)
        {
            Check(((delegate* unmanaged<nint, byte*, nint, nint>)T[IdxBindOutputToDevice])(binding.Pointer, n, memoryInfo.Pointer));
        }
    }

    public static void RunWithBinding(OrtHandle session, nint runOptions, OrtHandle binding) =>
        Check(((delegate* unmanaged<nint, nint, nint, nint>)T[IdxRunWithBinding])(session.Pointer, runOptions, binding.Pointer));

    public static void SynchronizeBoundInputs(OrtHandle binding) =>
        Check(((delegate* unmanaged<nint, nint>)T[IdxSynchronizeBoundInputs])(binding.Pointer));

    public static void SynchronizeBoundOutputs(OrtHandle binding) =>
        Check(((delegate* unmanaged<nint, nint>)T[IdxSynchronizeBoundOutputs])(binding.Pointer));

    public static void ClearBoundInputs(OrtHandle binding) =>
        ((delegate* unmanaged<nint, void>)T[IdxClearBoundInputs])(binding.Pointer);

    public static void ClearBoundOutputs(OrtHandle binding) =>
        ((delegate* unmanaged<nint, void>)T[IdxClearBoundOutputs])(binding.Pointer);

    /// <summary>The bound outputs in binding order: names and new OrtValue references the caller owns.</summary>
    public static (string Name, OrtHandle Value)[] GetBoundOutputs(OrtHandle binding)
    {
        var allocator = DefaultAllocator();
        byte* buffer;
        nuint* lengths;
        nuint count;
        Check(((delegate* unmanaged<nint, nint, byte**, nuint**, nuint*, nint>)T[IdxGetBoundOutputNames])(binding.Pointer, allocator, &buffer, &lengths, &count));
        if (count == 0)
        {
            return [];
        }

        var names = new string[(int)count];
        try
        {
            var offset = 0;
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = Encoding.UTF8.GetString(buffer + offset, (int)lengths[i]);
                offset += (int)lengths[i];
            }
        }
        finally
        {
            Check(((delegate* unmanaged<nint, nint, nint>)T[IdxAllocatorFree])(allocator, (nint)buffer));
            Check(((delegate* unmanaged<nint, nint, nint>)T[IdxAllocatorFree])(allocator, (nint)lengths));
        }

        nint* values;
        nuint valueCount;
        Check(((delegate* unmanaged<nint, nint, nint**, nuint*, nint>)T[IdxGetBoundOutputValues])(binding.Pointer, allocator, &values, &valueCount));
        var result = new (string, OrtHandle)[(int)valueCount];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (names[i], new OrtHandle(values[i], IdxReleaseValue));
        }

        Check(((delegate* unmanaged<nint, nint, nint>)T[IdxAllocatorFree])(allocator, (nint)values));
        return result;
    }
}
