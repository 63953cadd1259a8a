using System.Globalization;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime.Internal;

namespace OnnxCnn.Runtime;

/// <summary>
/// The embedding API: an ONNX image classifier that takes images (files, encoded bytes, streams,
/// RGB pixels) and returns the top-k labels with probabilities.
/// <code>
/// using var classifier = Classifier.Open("model.onnx");
/// foreach (var p in classifier.Classify("cat.jpg")) Console.WriteLine($"{p.Label} {p.Probability:P1}");
/// </code>
/// Labels and preprocessing come from the model's metadata (a model fine-tuned by OnnxCnn carries
/// both) or from <see cref="ClassifierOptions"/>; without labels they are the class indices as text.
/// Images are decoded and preprocessed exactly as the training pipeline does
/// (<see cref="DecodeOptions.For"/>, <see cref="ImageTransforms.Prepare"/>). A model ending in Softmax
/// (or LogSoftmax) gives probabilities as is, raw logits get a softmax, and a one-column model is
/// binary: P(class 1) from its Sigmoid, or the sigmoid of its logit, and 1 − that for class 0.
/// </summary>
/// <remarks>
/// Thread-safe: one ONNX Runtime session, and every call works in its own pooled tensors, so one
/// instance may classify from many threads at once. Do not dispose it while calls are running.
/// </remarks>
public sealed partial class Classifier : IDisposable
{
    private readonly InferenceSession session;
    private readonly HeadKind head;
    private readonly DecodeOptions decode;
    private readonly string[] labels;
    private readonly int height;
    private readonly int width;
    private readonly int fixedBatch;
    private readonly int batchSize;
    private readonly int decodeThreads;
    private readonly int columns;
    private volatile bool disposed;

    private Classifier(InferenceSession session, ClassifierModel model, PreprocessSpec preprocess, string[] labels, int columns, ClassifierOptions options)
    {
        this.session = session;
        head = model.Head;
        Metadata = model.Metadata;
        Preprocess = preprocess;
        decode = DecodeOptions.For(preprocess);
        (height, width) = preprocess.OutputSize!.Value;
        this.labels = labels;
        this.columns = columns;
        var batch = session.Inputs[0].Dimensions[0];
        fixedBatch = batch > 0 ? (int)batch : 0;
        batchSize = fixedBatch > 0 ? fixedBatch : options.BatchSize;
        decodeThreads = options.DecodeThreads;
    }

    /// <summary>The class labels, by class index.</summary>
    public IReadOnlyList<string> Labels => labels;

    /// <summary>The model's metadata (<c>metadata_props</c>), e.g. <see cref="Graphs.MetadataKeys.Labels"/>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The preprocessing applied to every image.</summary>
    public PreprocessSpec Preprocess { get; }

    /// <summary>The device the model runs on (CPU after an <c>auto</c> fallback).</summary>
    public ExecutionDevice Device => session.Device;

    /// <summary>Images per ONNX Runtime run in batch calls: the model's fixed batch size, else <see cref="ClassifierOptions.BatchSize"/>.</summary>
    public int BatchSize => batchSize;

    private int SampleSize => 3 * height * width;

    /// <summary>Loads a classifier.</summary>
    /// <param name="modelPath">An .onnx file with one float image input (N×3×H×W, or N×H×W×3 with <c>layout=nhwc</c>) and class scores as its first output.</param>
    /// <param name="options">Device, session settings, labels, preprocessing, batch size; all optional.</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="modelPath"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model, or its metadata is broken.</exception>
    /// <exception cref="ArgumentException">Labels or preprocessing do not fit the model (the message says how).</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot load the model or the device.</exception>
    public static Classifier Open(string modelPath, ClassifierOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        options ??= new ClassifierOptions();
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"model file '{modelPath}' not found.", modelPath);
        }

        if (options.Labels is not null && options.LabelsFile is not null)
        {
            throw new ArgumentException("give ClassifierOptions.Labels or ClassifierOptions.LabelsFile, not both.");
        }

        if (options.OrtSession is not null && (options.Session is not null || options.Device is not null))
        {
            throw new ArgumentException("ClassifierOptions.OrtSession is used as it is; give it without Device or Session.");
        }

        var model = ClassifierModel.Read(modelPath);
        var preprocess = options.Preprocess ?? model.Preprocess(modelPath) ?? PreprocessSpec.ImageNet;
        if (preprocess.OutputSize is null)
        {
            throw new ArgumentException($"preprocess spec '{preprocess}' does not give a fixed input size; add crop=HxW, resize=HxW, fit=HxW or textline=HxW.");
        }

        var (givenLabels, labelSource) = GivenLabels(options, model);
        var session = OpenSession(modelPath, options);
        try
        {
            CheckInput(session, preprocess);
            var columns = OutputColumns(session, preprocess);
            var classes = columns == 1 ? 2 : columns;
            if (givenLabels is not null && givenLabels.Count != classes)
            {
                throw new ArgumentException($"the model scores {classes} classes but {givenLabels.Count} labels were given {labelSource}.");
            }

            var labels = givenLabels?.ToArray() ?? Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            return new Classifier(session, model, preprocess, labels, columns, options);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        disposed = true;
        session.Dispose();
    }

    internal static void CheckTop(int top)
    {
        if (top < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(top), top, $"top must be 1 or more, got {top}.");
        }
    }

    private static InferenceSession OpenSession(string modelPath, ClassifierOptions options)
    {
        if (options.OrtSession is { } ort)
        {
            return InferenceSession.Open(modelPath, ort);
        }

        var sessionOptions = options.Session?.Clone() ?? new SessionOptions();
        if (options.Device is { } device)
        {
            sessionOptions.Device = device;
        }

        // The decode workers run beside ORT's intra-op pool on the same cores; a spinning pool busy-waits on them between
        // runs (and ORT's default pool pins a thread per core). Without spinning, explicit threads: predict on a folder of
        // 320 JPEGs, zoo ResNet-18, batch 32, 2-core EPYC, 4 interleaved rounds: median 1.09× the images/s (TrainingSession
        // makes the same choice for its prefix and step). An explicit setting in options.Session is kept.
        sessionOptions.ConfigEntries.TryAdd("session.intra_op.allow_spinning", "0");
        if (sessionOptions.IntraOpThreads == 0)
        {
            sessionOptions.IntraOpThreads = Environment.ProcessorCount;
        }

        return InferenceSession.Open(modelPath, sessionOptions);
    }

    private static (IReadOnlyList<string>? Labels, string Source) GivenLabels(ClassifierOptions options, ClassifierModel model)
    {
        if (options.Labels is { } list)
        {
            return (list.Count > 0 ? list : throw new ArgumentException("ClassifierOptions.Labels is empty."), "in ClassifierOptions.Labels");
        }

        if (options.LabelsFile is { } file)
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"labels file '{file}' not found.", file);
            }

            var lines = File.ReadAllLines(file).Select(l => l.Trim()).ToList();
            while (lines.Count > 0 && lines[^1].Length == 0)
            {
                lines.RemoveAt(lines.Count - 1);
            }

            return (lines.Count > 0 ? lines : throw new ArgumentException($"labels file '{file}' is empty."), $"in '{file}'");
        }

        return (model.Labels, "in its metadata");
    }

    private static void CheckInput(InferenceSession session, PreprocessSpec spec)
    {
        if (session.Inputs.Count != 1)
        {
            throw new ArgumentException($"a classifier takes one image input; the model has {session.Inputs.Count}: {string.Join(", ", session.Inputs.Select(i => i.Name))}.");
        }

        var input = session.Inputs[0];
        var (h, w) = spec.OutputSize!.Value;
        long[] expected = spec.Nhwc ? [-1, h, w, 3] : [-1, 3, h, w];
        var dims = input.Dimensions;
        var fits = input.IsTensor && input.ElementType == TensorElementType.Float32 && dims.Count == 4
            && Enumerable.Range(1, 3).All(i => dims[i] <= 0 || dims[i] == expected[i]);
        if (!fits)
        {
            throw new ArgumentException($"the model's input {input} does not take the float {(spec.Nhwc ? $"N×{h}×{w}×3" : $"N×3×{h}×{w}")} images that preprocess spec '{spec}' makes; give a spec that fits (ClassifierOptions.Preprocess).");
        }
    }

    /// <summary>Scores per image: from the output's static shape, else from one run on a blank image.</summary>
    private static int OutputColumns(InferenceSession session, PreprocessSpec spec)
    {
        var output = session.Outputs[0];
        if (!output.IsTensor || output.ElementType != TensorElementType.Float32)
        {
            throw new ArgumentException($"the model's first output {output} is not a float tensor of class scores.");
        }

        var dims = output.Dimensions;
        if (dims.Count >= 2 && dims.Skip(1).All(d => d > 0))
        {
            return (int)dims.Skip(1).Aggregate(1L, (a, b) => a * b);
        }

        var (h, w) = spec.OutputSize!.Value;
        var batch = Math.Max(1, session.Inputs[0].Dimensions[0]);
        using var blank = Tensor<float>.Filled(0f, spec.Nhwc ? [batch, h, w, 3] : [batch, 3, h, w]);
        using var result = session.Run(blank);
        return (int)(result[0].Value.ElementCount / batch);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);
}
