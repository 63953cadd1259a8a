using OnnxCnn.Preprocess;

namespace OnnxCnn.Training.Internal;

/// <summary>
/// The batches of a stage: the training and validation pipelines, the mode (feature cache when a frozen prefix
/// meets data without augmentation), the training features' cache and — in feature-cache mode — the validation
/// features' cache, which gets what the training cache left of the memory budget.
/// </summary>
internal sealed class StageBatches : IDisposable
{
    private readonly TrainingSession session;
    private readonly StagePlan plan;
    private readonly FineTuneOptions options;
    private readonly RunContext run;
    private readonly BatchPipeline train;
    private readonly BatchPipeline validation;
    private FeatureCache? validationCache;
    private Evaluator? evaluator;

    public StageBatches(TrainingSession session, ImageDataset data, StagePlan plan, FineTuneOptions options, RunContext run)
    {
        this.session = session;
        this.plan = plan;
        this.options = options;
        this.run = run;
        var loader = BatchPipeline.DefaultLoader(data, plan.Preprocess);
        var workers = DecodeWorkers(session.Device);
        train = new BatchPipeline(data, new PipelineOptions { BatchSize = options.BatchSize, Preprocess = plan.Preprocess, Augment = options.Augment, Seed = options.Seed, StartWorkers = workers }, loader);
        validation = new BatchPipeline(plan.ValidationSet, new PipelineOptions { BatchSize = options.BatchSize, Preprocess = plan.Preprocess, StartWorkers = workers },
            ReferenceEquals(plan.ValidationSet, data) ? loader : BatchPipeline.DefaultLoader(plan.ValidationSet, plan.Preprocess));
        if (run.Warning is { } warning)
        {
            train.Warning += warning;
            validation.Warning += warning;
        }

        Mode = options.Mode == TrainingMode.Auto ? options.Augment is null && session.HasPrefix ? TrainingMode.FeatureCache : TrainingMode.EndToEnd : options.Mode;
        TrainCache = Mode == TrainingMode.FeatureCache ? new FeatureCache(options.CacheMemoryBytes, Path.Combine(run.Artifacts, FeatureCache.SpillFileName)) : null;
        Runner = new EpochRunner(session, train, TrainCache, data, options.BatchSize, plan.Preprocess.Nhwc);
    }

    /// <summary>
    /// Decode workers to start beside a model on <paramref name="device"/> (more start when the step has to wait for a
    /// batch, up to one per core). On the CPU the prefix and the step already keep every core busy, and a batch needs a
    /// small part of a step's time to decode (ResNet-18 layer4 + head, batch 32, 224², augmented 500×375 JPEGs: one
    /// worker decodes a batch in about a tenth of a step), so half the cores start: measured on 2 cores, 3 interleaved
    /// rounds of 3-epoch runs (shared, loaded machine), one worker gave 1.17× (median; 1.15–2.0×) the images/s of two.
    /// On a GPU the cores are free for decoding, all of them.
    /// </summary>
    internal static int DecodeWorkers(Runtime.ExecutionDevice device) =>
        device.Kind == Runtime.DeviceKind.Cpu ? Math.Max(1, Environment.ProcessorCount / 2) : Environment.ProcessorCount;

    /// <summary>How the frozen prefix runs (<see cref="TrainingMode.Auto"/> resolved).</summary>
    public TrainingMode Mode { get; }

    /// <summary>The training features' cache in feature-cache mode, else null.</summary>
    public FeatureCache? TrainCache { get; }

    public EpochRunner Runner { get; }

    /// <summary>Images skipped by either pipeline (unreadable files).</summary>
    public IReadOnlyList<string> Skipped => train.Skipped.Concat(validation.Skipped).Distinct().ToList();

    /// <summary>
    /// The evaluator; in feature-cache mode its cache is opened on first use — after the first training epoch, so it
    /// gets the memory the training features left (they have priority: they are read every step).
    /// </summary>
    public Evaluator Evaluator()
    {
        if (evaluator is not null)
        {
            return evaluator;
        }

        if (Mode == TrainingMode.FeatureCache)
        {
            var left = Math.Max(0, options.CacheMemoryBytes - (TrainCache?.MemoryBytes ?? 0));
            validationCache = new FeatureCache(left, Path.Combine(run.Artifacts, FeatureCache.ValidationSpillFileName));
        }

        return evaluator = new Evaluator(session, validation, plan.Validation, plan.ValidationSet, options.BatchSize, plan.Preprocess.Nhwc, validationCache);
    }

    public void Dispose()
    {
        Runner.Dispose();
        TrainCache?.Dispose();
        validationCache?.Dispose();
    }
}
