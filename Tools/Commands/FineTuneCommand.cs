using System.CommandLine;
using System.Globalization;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Preprocess;
using OnnxCnn.Training;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>onnxcnn finetune --model M --data DIR --out DIR …</c>: fine-tune a classifier on a folder of images per class.</summary>
internal static class FineTuneCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model") { Description = "the pretrained .onnx classifier", Required = true };
        var data = new Option<string>("--data") { Description = "a folder with one subfolder of images per class", Required = true };
        var output = new Option<string>("--out") { Description = "folder for model.onnx, labels.txt, history.csv, metrics.json, artifacts/", Required = true };
        var head = new Option<int?>("--head") { Description = "replace the head with N classes (default: the data's class count)" };
        var keepHead = new Option<bool>("--keep-head") { Description = "keep the model's head (its class count must match the data)" };
        var hidden = new Option<string?>("--hidden") { Description = "hidden widths of the new head, e.g. 256" };
        var pool = new Option<string?>("--pool") { Description = "a backbone ending in a feature map [N,C,H,W]: gap (global average) or flatten (C·H·W features) before the new head" };
        var trainable = new Option<string?>("--trainable") { Description = "comma-separated node/parameter name globs to train (the new head always trains)" };
        var unfreeze = new Option<string?>("--unfreeze-from") { Description = "train everything downstream of this tensor" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 5, Description = "epochs" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 32, Description = "batch size" };
        var lr = new Option<float>("--lr") { DefaultValueFactory = _ => 0.01f, Description = "learning rate" };
        var optimizer = new Option<string>("--optimizer") { DefaultValueFactory = _ => "sgd", Description = "sgd | rmsprop | adam | adamw" };
        var momentum = new Option<float?>("--momentum") { Description = "momentum of SGD (default 0.9) or RMSprop (default 0)" };
        var alpha = new Option<float>("--alpha") { DefaultValueFactory = _ => 0.99f, Description = "RMSprop smoothing constant" };
        var centered = new Option<bool>("--centered") { Description = "centered RMSprop" };
        var clip = new Option<float>("--clip-grad-norm") { Description = "clip the global L2 norm of all gradients to this value (0 = no clipping)" };
        var loss = new Option<string>("--loss") { DefaultValueFactory = _ => "softmax", Description = "softmax (cross-entropy) | bce (sigmoid binary cross-entropy, 2 classes, one output unit)" };
        var lrGroups = new Option<string[]>("--lr-group") { Description = "GLOBS=MULT: parameters matching the comma-separated globs train at MULT × the learning rate (repeatable)", AllowMultipleArgumentsPerToken = false };
        var nesterov = new Option<bool>("--nesterov") { Description = "Nesterov momentum" };
        var weightDecay = new Option<float>("--weight-decay") { Description = "weight decay" };
        var smoothing = new Option<float>("--label-smoothing") { Description = "label smoothing" };
        var preprocess = new Option<string>("--preprocess") { DefaultValueFactory = _ => "imagenet", Description = "preprocess spec (with a fixed size, or give --input-size)" };
        var augment = new Option<string?>("--augment") { Description = "augmentation of training images" };
        var valSplit = new Option<double>("--val-split") { DefaultValueFactory = _ => 0.2, Description = "validation fraction (0 = none)" };
        var seed = new Option<int>("--seed") { Description = "seed" };
        var schedule = new Option<string>("--schedule") { DefaultValueFactory = _ => "constant", Description = "constant | step | cosine | onecycle" };
        var warmup = new Option<int>("--warmup") { Description = "linear warm-up steps" };
        var classWeights = new Option<string>("--class-weights") { DefaultValueFactory = _ => "none", Description = "auto (inverse frequency) | none" };
        var balanced = new Option<bool>("--balanced") { Description = "draw batches with equal label frequency" };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --out from its last checkpoint (same settings)" };
        var patience = new Option<int>("--early-stopping") { Description = "stop after N epochs without validation-loss improvement and keep the best epoch" };
        var noShuffle = new Option<bool>("--no-shuffle") { Description = "keep dataset order" };
        var workflow = new FineTuneWorkflowArgs();
        var inputs = new FineTuneInputArgs();
        var command = new Command("finetune", "Fine-tune a classifier on a folder of images per class (compiled training graph on ONNX Runtime).")
        {
            model, data, output, head, keepHead, hidden, pool, trainable, unfreeze, epochs, batch, lr, optimizer, momentum, alpha, centered, clip, loss, lrGroups, nesterov, weightDecay, smoothing, preprocess, augment, valSplit, seed, noShuffle, schedule, warmup, patience, resume, classWeights, balanced,
        };
        workflow.AddTo(command);
        inputs.AddTo(command);
        command.SetAction(async (r, cancellationToken) =>
        {
            var dataset = ImageDataset.FromFolder(r.GetValue(data)!);
            var kind = r.GetValue(optimizer)!.ToLowerInvariant() switch
            {
                "sgd" => OptimizerKind.Sgd,
                "adam" => OptimizerKind.Adam,
                "adamw" => OptimizerKind.AdamW,
                "rmsprop" => OptimizerKind.RmsProp,
                var o => throw new UsageException($"--optimizer '{o}' is not one of sgd, rmsprop, adam, adamw."),
            };
            var lossKind = r.GetValue(loss)!.ToLowerInvariant() switch
            {
                "softmax" => LossKind.SoftmaxCrossEntropy,
                "bce" => LossKind.SigmoidBinaryCrossEntropy,
                var l => throw new UsageException($"--loss '{l}' is not softmax or bce."),
            };
            if (lossKind == LossKind.SigmoidBinaryCrossEntropy && dataset.Classes.Count != 2)
            {
                throw new UsageException($"--loss bce needs exactly 2 classes; the data has {dataset.Classes.Count} ({string.Join(", ", dataset.Classes)}).");
            }

            if (r.GetValue(clip) < 0)
            {
                throw new UsageException("--clip-grad-norm must be ≥ 0.");
            }

            var groups = (r.GetValue(lrGroups) ?? []).Select((g, i) => ParseGroup(g, i + 1)).ToArray();
            if (r.GetValue(epochs) < 1 || r.GetValue(batch) < 1)
            {
                throw new UsageException("--epochs and --batch must be at least 1.");
            }

            var globs = r.GetValue(trainable)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
            var options = new FineTuneOptions
            {
                NewHeadClasses = r.GetValue(keepHead) ? null : r.GetValue(head) ?? dataset.Classes.Count,
                Hidden = r.GetValue(hidden)?.Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture)).ToArray() ?? [],
                Pool = r.GetValue(pool) switch
                {
                    null => null,
                    "gap" => Graphs.Edits.HeadPool.GlobalAverage,
                    "flatten" => Graphs.Edits.HeadPool.Flatten,
                    var p => throw new UsageException($"--pool '{p}' is not supported (gap or flatten)."),
                },
                Spec = new TrainingSpec
                {
                    Trainable = globs, UnfreezeFrom = r.GetValue(unfreeze), Optimizer = kind,
                    Momentum = kind switch { OptimizerKind.Sgd => r.GetValue(momentum) ?? 0.9f, OptimizerKind.RmsProp => r.GetValue(momentum) ?? 0, _ => 0 },
                    Alpha = r.GetValue(alpha), Centered = r.GetValue(centered), ClipGradNorm = r.GetValue(clip), Loss = lossKind, LearningRateGroups = groups,
                    Nesterov = r.GetValue(nesterov), WeightDecay = r.GetValue(weightDecay), LabelSmoothing = r.GetValue(smoothing),
                },
                Epochs = r.GetValue(epochs),
                BatchSize = r.GetValue(batch),
                LearningRate = r.GetValue(lr),
                Schedule = new LearningRateSchedule
                {
                    Kind = r.GetValue(schedule)!.ToLowerInvariant() switch
                    {
                        "constant" => ScheduleKind.Constant,
                        "step" => ScheduleKind.Step,
                        "cosine" => ScheduleKind.Cosine,
                        "onecycle" => ScheduleKind.OneCycle,
                        var k => throw new UsageException($"--schedule '{k}' is not one of constant, step, cosine, onecycle."),
                    },
                    WarmupSteps = r.GetValue(warmup),
                },
                Preprocess = Specs.Preprocess(r.GetValue(preprocess)!),
                Augment = Specs.Augment(r.GetValue(augment)),
                ValidationSplit = r.GetValue(valSplit),
                Seed = r.GetValue(seed),
                NoShuffle = r.GetValue(noShuffle),
                EarlyStoppingPatience = r.GetValue(patience),
                Resume = r.GetValue(resume),
                ClassWeights = r.GetValue(classWeights)!.ToLowerInvariant() switch
                {
                    "auto" => true,
                    "none" => false,
                    var c => throw new UsageException($"--class-weights '{c}' is not auto or none."),
                },
                Balanced = r.GetValue(balanced),
            };
            var explicitSplit = r.GetResult(valSplit) is { Implicit: false };
            options = inputs.Apply(r, options, explicitSplit);
            options = workflow.Apply(r, options, dataset, explicitValidation: explicitSplit, separateValidation: inputs.HasValidation(r));
            var onnx = GraphFiles.Load(r.GetValue(model)!);
            try
            {
                FineTuner.Validate(onnx, dataset, options);
            }
            catch (ArgumentException e)
            {
                // Settings that cannot work with this model or data are usage errors, found before anything is written.
                throw new UsageException(e.Message);
            }

            context.Out.WriteLine($"fine-tuning {r.GetValue(model)} on {dataset.Items.Count} images of {dataset.Classes.Count} classes ({string.Join(", ", dataset.Classes)})");
            await workflow.RunAsync(context, r, onnx, dataset, options, r.GetValue(output)!, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>"GLOBS=MULT" → a group named groupN.</summary>
    private static LearningRateGroup ParseGroup(string text, int index)
    {
        var at = text.LastIndexOf('=');
        var globs = at > 0 ? text[..at].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        if (globs.Length == 0 || !float.TryParse(text[(at + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var multiplier) || !(multiplier >= 0) || float.IsInfinity(multiplier))
        {
            throw new UsageException($"--lr-group '{text}' is not GLOBS=MULT (e.g. '/layer4/*=0.1').");
        }

        return new LearningRateGroup($"group{index}", globs, multiplier);
    }
}
