using System.Globalization;
using System.Text;
using System.Text.Json;
using OnnxCnn.Graphs;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Graphs.Proto;
using OnnxCnn.Preprocess;
using OnnxCnn.Runtime;
using OnnxCnn.Training.Internal;
using OnnxCnn.Training.Reports;

namespace OnnxCnn.Training;

/// <summary>
/// The fine-tune workflow: a folder of images per class → a new head (optional) → the compiled
/// training step on ORT over the batch pipeline → per-epoch validation → the fine-tuned inference
/// model (labels and preprocessing in its metadata), labels.txt, history.csv, metrics.json and the
/// training artifacts, all written atomically.
/// </summary>
public static partial class FineTuner
{
    /// <summary>Metadata key holding the class labels, one per line (<see cref="MetadataKeys.Labels"/>).</summary>
    public const string LabelsKey = MetadataKeys.Labels;

    /// <summary>Metadata key holding the preprocessing spec (<see cref="MetadataKeys.Preprocess"/>).</summary>
    public const string PreprocessKey = MetadataKeys.Preprocess;

    /// <summary>
    /// Runs the fine-tune (both stages when <see cref="FineTuneOptions.SecondStage"/> is set) and writes its outputs into
    /// <paramref name="outputDirectory"/>; <paramref name="progress"/> gets each epoch, <see cref="FineTuneOptions.Progress"/> each step.
    /// </summary>
    public static async Task<IReadOnlyList<EpochResult>> RunAsync(OnnxModel model, ImageDataset data, FineTuneOptions options, string outputDirectory,
        Action<EpochResult>? progress = null, Action<string>? warning = null, CancellationToken cancellationToken = default) =>
        (await RunOutcomeAsync(model, data, options, outputDirectory, progress, warning, cancellationToken).ConfigureAwait(false)).History;

    /// <summary>One stage: the training loop over <paramref name="options"/>' epochs, numbered after <see cref="FineTuneOptions.PriorHistory"/>.</summary>
    private static async Task<StageOutcome> RunStageAsync(OnnxModel model, ImageDataset data, FineTuneOptions options, string outputDirectory,
        Action<EpochResult>? progress, Action<string>? warning, CancellationToken cancellationToken)
    {
        var classes = data.Classes.Count;
        var binary = options.Spec.Loss == LossKind.SigmoidBinaryCrossEntropy;
        Validate(model, data, options);
        (model, options) = WithInputSize(model, options);

        var headed = WithNewHead(model, options, binary);

        // A separate validation set is evaluated whole; otherwise a split (or a K-fold's fold) of the training data.
        var validationData = options.ValidationData ?? data;
        var (train, validation) = options.ValidationData is { } separate ? (Enumerable.Range(0, data.Items.Count).ToArray(), Enumerable.Range(0, separate.Items.Count).ToArray())
            : options.Split is { } split ? split
            : options.ValidationSplit > 0 ? Splits.Stratified(data.Labels, options.ValidationSplit, options.Seed)
            : (Enumerable.Range(0, data.Items.Count).ToArray(), []);
        var spec = options.Spec;
        if (options.ClassWeights)
        {
            spec = spec with { ClassWeights = [.. Splits.ClassWeights(train.Select(i => data.Items[i].Label).ToArray(), classes)] };
        }

        if (options.NewHeadClasses is not null && spec.Trainable.Count > 0 && !spec.Trainable.Contains("/head/*"))
        {
            // A new head always trains.
            spec = spec with { Trainable = [.. spec.Trainable, "/head/*"] };
        }
        else if (options.NewHeadClasses is not null && options.Hidden.Count > 0 && spec.Trainable.Count == 0 && spec.UnfreezeFrom is null)
        {
            // Head only: a new head's hidden layers are fresh too (the head the compiler finds is its last dense layer).
            spec = spec with { Trainable = ["/head/*"] };
        }

        using var session = TrainingSession.Create(headed, spec, TrainingSessionOptions(options.Session));
        var loader = BatchPipeline.DefaultLoader(data, options.Preprocess);
        var trainPipeline = new BatchPipeline(data, new PipelineOptions { BatchSize = options.BatchSize, Preprocess = options.Preprocess, Augment = options.Augment, Seed = options.Seed }, loader);
        var evalPipeline = new BatchPipeline(validationData, new PipelineOptions { BatchSize = options.BatchSize, Preprocess = options.Preprocess },
            ReferenceEquals(validationData, data) ? loader : BatchPipeline.DefaultLoader(validationData, options.Preprocess));
        if (warning is not null)
        {
            trainPipeline.Warning += warning;
            evalPipeline.Warning += warning;
        }

        var mode = options.Mode switch
        {
            TrainingMode.Auto => options.Augment is null && session.HasPrefix ? TrainingMode.FeatureCache : TrainingMode.EndToEnd,
            TrainingMode.FeatureCache when options.Augment is not null => throw new ArgumentException("feature-cache mode needs the same input every epoch; augmentation changes it (use end-to-end)."),
            var m => m,
        };
        Directory.CreateDirectory(Path.Combine(outputDirectory, "artifacts"));
        RemoveKilledWrites(outputDirectory);
        using var cache = mode == TrainingMode.FeatureCache ? new FeatureCache(options.CacheMemoryBytes, Path.Combine(outputDirectory, "artifacts", FeatureCache.SpillFileName)) : null;
        var offset = options.PriorHistory.Count;
        var history = new List<EpochResult>(options.PriorHistory);
        var firstEpoch = offset + 1;
        if (options.Resume)
        {
            // Parameters, optimiser state and step come from the checkpoint; shuffling and augmentation
            // are functions of (seed, epoch, index), so the remaining epochs replay exactly.
            var last = Path.Combine(outputDirectory, "artifacts", "checkpoint.onnx");
            if (!File.Exists(last))
            {
                throw new FileNotFoundException($"cannot resume: '{last}' not found (run without --resume first).", last);
            }

            var meta = session.LoadCheckpoint(last);
            firstEpoch = int.Parse(meta["epoch"], CultureInfo.InvariantCulture) + 1;
            history.AddRange(ReadHistory(Path.Combine(outputDirectory, "history.csv")).Where(h => h.Epoch > offset).Take(firstEpoch - 1 - offset));
        }

        var (height, width) = trainPipeline.OutputSize;
        var schedule = (options.Schedule ?? new LearningRateSchedule()) with { BaseRate = options.LearningRate };
        var stepsPerEpoch = (train.Length + options.BatchSize - 1) / options.BatchSize;
        var totalSteps = stepsPerEpoch * options.Epochs;
        var globalStep = session.StepCount;
        // Early stopping's state is replayed from the epochs already run (a resumed run stops where an uninterrupted one does).
        var bestLoss = double.PositiveInfinity;
        var sinceBest = 0;
        bool Improved(double valLoss)
        {
            if (!double.IsNaN(valLoss) && valLoss < bestLoss - options.EarlyStoppingMinDelta)
            {
                bestLoss = valLoss;
                sinceBest = 0;
                return true;
            }

            sinceBest++;
            return false;
        }

        foreach (var done in history.Where(h => h.Epoch > offset))
        {
            Improved(done.ValidationLoss);
        }

        var stopped = options.EarlyStoppingPatience > 0 && sinceBest >= options.EarlyStoppingPatience;
        var bestCheckpoint = Path.Combine(outputDirectory, "artifacts", "best_checkpoint.onnx");
        float NextRate() => schedule.At(globalStep++, stepsPerEpoch, totalSteps);
        using var stepLog = options.StepLog is null ? null
            : StepLog.Open(options.StepLog, options.Resume || options.PriorSteps > 0 ? options.PriorSteps + session.StepCount : null);
        for (var epoch = firstEpoch; !stopped && epoch <= offset + options.Epochs; epoch++)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var batchInEpoch = 0;
            var order = options.Balanced
                ? Splits.BalancedEpoch(train.Select(i => data.Items[i].Label).ToArray(), options.Seed, epoch).Select(i => train[i]).ToArray()
                : options.NoShuffle ? train : Splits.Shuffle(train, options.Seed, epoch);
            double lossSum = 0;
            long seen = 0, correct = 0;
            void Account(float loss, int count, ReadOnlySpan<int> labels)
            {
                lossSum += loss * count;
                seen += count;
                var logits = session.LastLogits;
                for (var i = 0; i < count; i++)
                {
                    if (binary)
                    {
                        // One logit per sample: class 1 when sigmoid(logit) > 0.5.
                        correct += (logits[i] > 0 ? 1 : 0) == labels[i] ? 1 : 0;
                        continue;
                    }

                    var row = logits.AsSpan(i * classes, classes);
                    var best = 0;
                    for (var c = 1; c < classes; c++)
                    {
                        if (row[c] > row[best])
                        {
                            best = c;
                        }
                    }

                    correct += best == labels[i] ? 1 : 0;
                }

                stepLog?.Write(options.PriorSteps + session.StepCount, loss);
                Report(options, epoch, offset, ++batchInEpoch, stepsPerEpoch, lossSum, correct, seen, started.Elapsed);
            }

            if (cache is not null && cache.Count > 0)
            {
                // Feature cache: no decoding and no prefix after the first epoch.
                for (var start = 0; start < order.Length; start += options.BatchSize)
                {
                    var indices = order.Skip(start).Take(options.BatchSize).Where(cache.Contains).ToArray();
                    if (indices.Length == 0)
                    {
                        continue;
                    }

                    using var features = Tensor<float>.Create([indices.Length, .. cache.SampleShape!]);
                    for (var i = 0; i < indices.Length; i++)
                    {
                        cache.CopyTo(indices[i], features.Span.Slice(i * cache.SampleSize, cache.SampleSize));
                    }

                    var labels = indices.Select(i => data.Items[i].Label).ToArray();
                    using var y = Tensor<long>.FromSpan(labels.Select(l => (long)l).ToArray(), labels.Length);
                    Account(session.StepOnFeatures(features, y, NextRate(), cancellationToken), labels.Length, labels);
                }
            }
            else
            {
                // With a frozen prefix, the next batch's prefix runs while the current batch's step trains (neither
                // session's threads spin, so the two share the cores); the steps stay in order, so results are unchanged.
                (ImageBatch Batch, Tensor<float> X, Task<Tensor<float>> Features)? pending = null;
                try
                {
                    await foreach (var batch in trainPipeline.Epoch(order, epoch, cancellationToken).ConfigureAwait(false))
                    {
                        long[] shape = options.Preprocess.Nhwc ? [batch.Count, height, width, 3] : [batch.Count, 3, height, width];
                        var x = Tensor<float>.Wrap(batch.Buffer, shape);
                        if (!session.HasPrefix)
                        {
                            using (batch)
                            using (x)
                            using (var y = Labels(batch))
                            {
                                Account(session.Step(x, y, NextRate(), cancellationToken), batch.Count, batch.Labels.AsSpan(0, batch.Count));
                            }

                            continue;
                        }

                        var previous = pending;
                        pending = (batch, x, Task.Run(() => session.Features(x, cancellationToken), cancellationToken));
                        if (previous is { } ready)
                        {
                            await StepOnPrefixed(ready).ConfigureAwait(false);
                        }
                    }

                    if (pending is { } last)
                    {
                        pending = null;
                        await StepOnPrefixed(last).ConfigureAwait(false);
                    }
                }
                finally
                {
                    if (pending is { } abandoned)
                    {
                        try
                        {
                            (await abandoned.Features.ConfigureAwait(false)).Dispose();
                        }
                        catch (Exception e) when (e is OperationCanceledException or OnnxRuntimeException)
                        {
                            // The step that failed is what the caller sees.
                        }

                        abandoned.X.Dispose();
                        abandoned.Batch.Dispose();
                    }
                }

                async Task StepOnPrefixed((ImageBatch Batch, Tensor<float> X, Task<Tensor<float>> Features) item)
                {
                    using (item.Batch)
                    using (item.X)
                    using (var y = Labels(item.Batch))
                    using (var features = await item.Features.ConfigureAwait(false))
                    {
                        if (cache is not null)
                        {
                            var size = (int)(features.ElementCount / item.Batch.Count);
                            long[] sampleShape = [.. features.Shape.Skip(1)];
                            for (var i = 0; i < item.Batch.Count; i++)
                            {
                                cache.Add(item.Batch.Indices[i], sampleShape, features.Span.Slice(i * size, size));
                            }
                        }

                        Account(session.StepOnFeatures(features, y, NextRate(), cancellationToken), item.Batch.Count, item.Batch.Labels.AsSpan(0, item.Batch.Count));
                    }
                }
            }

            var (valLoss, valAccuracy, _) = validation.Length > 0
                ? await EvaluateAsync(Export(session, binary), evalPipeline, validation, data.Classes, options.Preprocess, cancellationToken, options.Session).ConfigureAwait(false)
                : (double.NaN, double.NaN, null);
            var result = new EpochResult(epoch, lossSum / Math.Max(1, seen), seen == 0 ? double.NaN : (double)correct / seen, valLoss, valAccuracy,
                schedule.At(Math.Max(0, globalStep - 1), stepsPerEpoch, totalSteps), started.Elapsed.TotalSeconds);
            history.Add(result);
            stepLog?.Flush();
            progress?.Invoke(result);

            // History, best on validation improvement, then the last checkpoint; all written atomically. The
            // last checkpoint is written last: a run killed before it repeats this epoch, best save included.
            WriteHistory(Path.Combine(outputDirectory, "history.csv"), history);
            TrainingCharts.SaveCurves(Path.Combine(outputDirectory, "curves.png"), history);
            if (Improved(valLoss))
            {
                session.SaveCheckpoint(bestCheckpoint, new Dictionary<string, string> { ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture) });
            }

            session.SaveCheckpoint(Path.Combine(outputDirectory, "artifacts", "checkpoint.onnx"), new Dictionary<string, string> { ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture) });
            stopped = options.EarlyStoppingPatience > 0 && sinceBest >= options.EarlyStoppingPatience;
        }

        if (options.EarlyStoppingPatience > 0 && File.Exists(bestCheckpoint))
        {
            // Restore the best epoch's weights before exporting.
            session.LoadCheckpoint(bestCheckpoint);
        }

        var final = Export(session, binary);
        SetMetadata(final, LabelsKey, string.Join('\n', data.Classes));
        SetMetadata(final, PreprocessKey, options.Preprocess.ToString());
        var (finalLoss, _, metrics) = validation.Length > 0
            ? await EvaluateAsync(final, evalPipeline, validation, data.Classes, options.Preprocess, cancellationToken, options.Session).ConfigureAwait(false)
            : (double.NaN, double.NaN, null);
        WriteOutputs(outputDirectory, final, session, data, history, metrics, trainPipeline.Skipped.Concat(evalPipeline.Skipped).Distinct().ToList(), mode, cache, options.Spec);
        return new StageOutcome(history, finalLoss, metrics, session.Graph.Parameters, mode);
    }

    /// <summary>Loss, accuracy and full metrics of a model on dataset samples.</summary>
    public static async Task<(double Loss, double Accuracy, ClassificationMetrics? Metrics)> EvaluateAsync(OnnxModel model, BatchPipeline pipeline, IReadOnlyList<int> indices,
        IReadOnlyList<string> classes, PreprocessSpec preprocess, CancellationToken cancellationToken = default, SessionOptions? sessionOptions = null)
    {
        using var inference = InferenceSession.FromBytes(model.ToBytes(), sessionOptions);
        var probabilities = model.Graph.Node.LastOrDefault(n => n.Output.Contains(model.Graph.Output[0].Name))?.OpType == "Softmax";
        var scores = new List<float>();
        var labels = new List<int>();
        double loss = 0;
        var (height, width) = pipeline.OutputSize;
        await foreach (var batch in pipeline.Epoch(indices, 0, cancellationToken).ConfigureAwait(false))
        {
            using (batch)
            {
                long[] shape = preprocess.Nhwc ? [batch.Count, height, width, 3] : [batch.Count, 3, height, width];
                using var x = Tensor<float>.Wrap(batch.Buffer, shape);
                using var result = inference.Run(x, cancellationToken);
                var output = result[0].Value.As<float>().Span;
                var columns = output.Length / batch.Count;
                if (columns == 1 && classes.Count == 2)
                {
                    // A binary model: one logit, or P(class 1) when it ends in Sigmoid; class 1 when P > 0.5.
                    var sigmoid = model.Graph.Node.LastOrDefault(n => n.Output.Contains(model.Graph.Output[0].Name))?.OpType == "Sigmoid";
                    for (var i = 0; i < batch.Count; i++)
                    {
                        var label = batch.Labels[i];
                        var p = sigmoid ? output[i] : 1 / (1 + Math.Exp(-output[i]));
                        loss += sigmoid ? -Math.Log(Math.Max(label == 1 ? p : 1 - p, 1e-12)) : Softplus(label == 1 ? -output[i] : output[i]);
                        scores.Add((float)(1 - p));
                        scores.Add((float)p);
                        labels.Add(label);
                    }

                    continue;
                }

                if (columns != classes.Count)
                {
                    throw new InvalidDataException($"the model gives {columns} scores per image for {classes.Count} classes ({string.Join(", ", classes)}).");
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    var row = output.Slice(i * classes.Count, classes.Count);
                    var label = batch.Labels[i];
                    loss += probabilities ? -Math.Log(Math.Max(row[label], 1e-12)) : LogSumExp(row) - row[label];
                    scores.AddRange(row.ToArray());
                    labels.Add(label);
                }
            }
        }

        var metrics = ClassificationMetrics.FromScores(scores.ToArray(), labels, classes, k: Math.Min(5, classes.Count));
        return (labels.Count == 0 ? double.NaN : loss / labels.Count, metrics.Accuracy, metrics);
    }

    private static Tensor<long> Labels(ImageBatch batch)
    {
        var labels = new long[batch.Count];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = batch.Labels[i];
        }

        return Tensor<long>.FromSpan(labels, labels.Length);
    }

    /// <summary>log(1 + eˣ) without overflow: −log σ(−x), the binary cross-entropy of a logit.</summary>
    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    private static double LogSumExp(ReadOnlySpan<float> row)
    {
        var max = double.MinValue;
        foreach (var v in row)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (var v in row)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }

    private static void WriteOutputs(string dir, OnnxModel final, TrainingSession session, ImageDataset data, IReadOnlyList<EpochResult> history, ClassificationMetrics? metrics, IReadOnlyList<string> skipped, TrainingMode mode, FeatureCache? cache, TrainingSpec spec)
    {
        Directory.CreateDirectory(dir);
        var artifacts = Path.Combine(dir, "artifacts");
        Directory.CreateDirectory(artifacts);
        final.Save(Path.Combine(dir, "model.onnx"));
        session.Graph.Step.Save(Path.Combine(artifacts, "training_step.onnx"));
        session.Graph.Eval.Save(Path.Combine(artifacts, "eval.onnx"));
        session.Graph.Prefix?.Save(Path.Combine(artifacts, "frozen_prefix.onnx"));
        Atomic(Path.Combine(dir, "labels.txt"), string.Join('\n', data.Classes) + "\n");
        WriteHistory(Path.Combine(dir, "history.csv"), history);
        TrainingCharts.SaveCurves(Path.Combine(dir, "curves.png"), history);
        if (metrics is not null)
        {
            TrainingCharts.SaveConfusion(Path.Combine(dir, "confusion.png"), metrics);
        }
        var doc = new
        {
            mode = mode == TrainingMode.FeatureCache ? "feature-cache" : "end-to-end",
            featureCache = cache is null ? null : new
            {
                samples = cache.Count,
                inMemory = cache.Count - cache.SpilledCount,
                spilled = cache.SpilledCount,
                bytesPerSample = (long)cache.SampleSize * sizeof(float),
            },
            loss = spec.Loss == LossKind.SigmoidBinaryCrossEntropy ? "bce" : "softmax",
            optimizer = spec.Optimizer.ToString().ToLowerInvariant(),
            batchNorm = spec.BatchNorm == BatchNormMode.Train ? "train" : "frozen",
            classes = data.Classes,
            trainableParameters = session.Graph.Parameters,
            boundary = session.Graph.Input,
            epochs = history.Count,
            skipped,
            validation = metrics is null ? null : new
            {
                accuracy = metrics.Accuracy,
                topK = metrics.TopKAccuracy,
                k = metrics.K,
                macroPrecision = metrics.MacroPrecision,
                macroRecall = metrics.MacroRecall,
                macroF1 = metrics.MacroF1,
                perClass = metrics.PerClass.Select(c => new { label = c.Label, precision = c.Precision, recall = c.Recall, f1 = c.F1, support = c.Support }),
                confusion = Enumerable.Range(0, metrics.Labels.Count).Select(r => Enumerable.Range(0, metrics.Labels.Count).Select(c => metrics.Confusion[r, c])),
            },
        };
        Atomic(Path.Combine(dir, "metrics.json"), JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The inference model with the trained weights; a binary (BCE) model outputs P(class 1) through a Sigmoid under the output's name.</summary>
    private static OnnxModel Export(TrainingSession session, bool binary)
    {
        var model = session.ExportInference();
        if (!binary)
        {
            return model;
        }

        var graph = new OnnxGraph(model.Graph);
        var output = model.Graph.Output[0].Name;
        switch (graph.Producer(output))
        {
            case { OpType: "Sigmoid" }:
                break;
            case { OpType: "Softmax" or "LogSoftmax" } activation:
                // A head that ended in Softmax keeps its convention (probabilities) as a Sigmoid over the single logit.
                activation.OpType = "Sigmoid";
                activation.Attribute.Clear();
                break;
            case { } producer:
                var logit = graph.UniqueName(output + "_logit");
                producer.Output[producer.Output.IndexOf(output)] = logit;
                model.Graph.Node.Add(new NodeProto { OpType = "Sigmoid", Name = graph.UniqueName("/head/Sigmoid"), Input = { logit }, Output = { output } });
                break;
            default:
                throw new InvalidOperationException($"output '{output}' is not computed by a node; cannot append its Sigmoid.");
        }

        return model;
    }

    private static void WriteHistory(string path, IReadOnlyList<EpochResult> history)
    {
        var csv = new StringBuilder("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n");
        foreach (var h in history)
        {
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{h.Epoch},{h.TrainLoss:R},{Num(h.TrainAccuracy)},{Num(h.ValidationLoss)},{Num(h.ValidationAccuracy)},{h.LearningRate:G6},{h.Seconds:F3}"));
        }

        Atomic(path, csv.ToString());
    }

    private static IEnumerable<EpochResult> ReadHistory(string path)
    {
        if (!File.Exists(path))
        {
            yield break;
        }

        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            double D(string t) => t.Length == 0 ? double.NaN : double.Parse(t, CultureInfo.InvariantCulture);
            yield return new EpochResult(int.Parse(f[0], CultureInfo.InvariantCulture), D(f[1]), D(f[2]), D(f[3]), D(f[4]), D(f[5]), D(f[6]));
        }
    }

    private static string Num(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Deletes the temporary files (<c>NAME.tmp</c>) that a killed run left in its output folder —
    /// atomic writes cut before their rename, the feature cache's spill file: they are never
    /// complete outputs, and nothing reads them. Runs before this run creates any.
    /// </summary>
    private static void RemoveKilledWrites(string outputDirectory)
    {
        foreach (var folder in new[] { outputDirectory, Path.Combine(outputDirectory, "artifacts") }.Where(Directory.Exists))
        {
            foreach (var temp in Directory.EnumerateFiles(folder, "*.tmp"))
            {
                File.Delete(temp);
            }
        }
    }

    private static void Atomic(string path, string text)
    {
        // Temporary file, flush to disk, rename: the name holds the old or the new text, never a part.
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(Encoding.UTF8.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
