using System.CommandLine;
using OnnxCnn.Cli.Internal;
using OnnxCnn.Graphs.Edits;
using OnnxCnn.Preprocess;
using OnnxCnn.Training;
using static OnnxCnn.Cli.Internal.OptionParsers;

namespace OnnxCnn.Cli.Commands;

/// <summary><c>onnxcnn finetune --model M --data DIR --out DIR …</c>: fine-tune a classifier on a folder of images per class.</summary>
internal static class FineTuneCommand
{
    /// <summary>How the settings read in the library's messages when they come from this command.</summary>
    internal static readonly FineTuneSettingNames Names = new()
    {
        Dropout = "--dropout",
        Hidden = "--hidden",
        KeepHead = "--keep-head",
        EndToEndMode = "end-to-end",
        BinaryLoss = "--loss bce",
        SeparateValidation = "--val",
        KFold = "--kfold",
        Folds = "--kfold",
        TwoStage = "--two-stage",
        Stage2Selection = "--unfreeze-from TENSOR or --trainable GLOBS",
        Stage1Epochs = "--stage1-epochs",
        Stage2Epochs = "--stage2-epochs",
        Epochs = "--epochs",
        BatchSize = "--batch",
        ClipGradNorm = "--clip-grad-norm",
        Stage2LearningRate = "--stage2-lr",
    };

    public static Command Create(CliContext context)
    {
        var a = new Args();
        var workflow = new FineTuneWorkflowArgs();
        var inputs = new FineTuneInputArgs();
        var command = new Command("finetune", "Fine-tune a classifier on a folder of images per class (compiled training graph on ONNX Runtime).")
        {
            a.Model, a.Data, a.Output, a.Head, a.KeepHead, a.Hidden, a.Pool, a.Trainable, a.Unfreeze, a.Epochs, a.Batch, a.Lr, a.Optimizer, a.Momentum, a.Alpha, a.Centered, a.Clip,
            a.Loss, a.LrGroups, a.Nesterov, a.WeightDecay, a.Smoothing, a.Preprocessing, a.Augmentation, a.ValSplit, a.Seed, a.NoShuffle, a.Schedule, a.Warmup, a.Patience,
            a.Resume, a.Overwrite, a.ClassWeights, a.Balanced,
        };
        workflow.AddTo(command);
        inputs.AddTo(command);
        command.SetAction(async (r, cancellationToken) =>
        {
            var output = r.GetValue(a.Output)!;
            var replaceEarlierRun = RunFolder.Check(output, r.GetValue(a.Resume), r.GetValue(a.Overwrite));
            var dataset = ImageDataset.FromFolder(r.GetValue(a.Data)!);
            var explicitSplit = r.GetResult(a.ValSplit) is { Implicit: false };
            var options = inputs.Apply(r, Settings(a, r, dataset));
            var data = inputs.Data(r, dataset, explicitSplit);
            options = workflow.Apply(r, options, explicitValidation: explicitSplit);
            if (options.StepLog is { } stepLog && !r.GetValue(a.Resume))
            {
                // A resumed run continues its step log; any other run would start it afresh.
                foreach (var path in FineTuner.StepLogPaths(stepLog, workflow.Folds(r)))
                {
                    OutputFiles.RequireWritable(path, "--log-steps", r.GetValue(a.Overwrite));
                }
            }

            var onnx = GraphFiles.Load(r.GetValue(a.Model)!);
            FineTunePlan plan;
            try
            {
                // Settings that cannot work with this model or data are usage errors, found once, before anything is written.
                plan = FineTunePlan.Create(onnx, data, options, workflow.Folds(r), Names);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(CliApp.MessageOf(e));
            }

            if (replaceEarlierRun)
            {
                // Only now that every setting has been checked: a refused run leaves the earlier one intact.
                RunFolder.Clear(output);
            }

            context.Out.WriteLine($"fine-tuning {r.GetValue(a.Model)} on {dataset.Items.Count} images of {dataset.Classes.Count} classes ({string.Join(", ", dataset.Classes)})");
            await workflow.RunAsync(context, plan, r, output, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>The values of <c>--class-weights</c> (a bool option would take no value).</summary>
    private enum ClassWeighting
    {
        None,
        Auto,
    }

    /// <summary>The command's own options, made per command tree (a parse never shares them with another).</summary>
    private sealed class Args
    {
        public readonly Option<string> Model = new("--model") { Description = "the pretrained .onnx classifier", Required = true };
            public readonly Option<string> Data = new("--data") { Description = "a folder with one subfolder of images per class", Required = true };
            public readonly Option<string> Output = new("--out") { Description = "folder for model.onnx, labels.txt, history.csv, metrics.json, artifacts/", Required = true };
            public readonly Option<int?> Head = new("--head") { Description = "replace the head with N classes (default: the data's class count)" };
            public readonly Option<bool> KeepHead = new("--keep-head") { Description = "keep the model's head (its class count must match the data)" };
            public readonly Option<IReadOnlyList<int>> Hidden = Widths("--hidden", "hidden widths of the new head, e.g. 256");
            public readonly Option<HeadPool?> Pool = Choice<HeadPool?>("--pool", "a backbone ending in a feature map [N,C,H,W]: gap (global average) or flatten (C·H·W features) before the new head", null,
                ("gap", HeadPool.GlobalAverage), ("flatten", HeadPool.Flatten));
            public readonly Option<IReadOnlyList<string>> Trainable = Globs("--trainable", "comma-separated node/parameter name globs to train (the new head always trains)");
            public readonly Option<string?> Unfreeze = new("--unfreeze-from") { Description = "train everything downstream of this tensor" };
            public readonly Option<int> Epochs = new("--epochs") { DefaultValueFactory = _ => 5, Description = "epochs" };
            public readonly Option<int> Batch = new("--batch") { DefaultValueFactory = _ => 32, Description = "batch size" };
            public readonly Option<float> Lr = new("--lr") { DefaultValueFactory = _ => 0.01f, Description = "learning rate" };
            public readonly Option<OptimizerKind> Optimizer = Choice("--optimizer", "the optimiser", "sgd",
                ("sgd", OptimizerKind.Sgd), ("rmsprop", OptimizerKind.RmsProp), ("adam", OptimizerKind.Adam), ("adamw", OptimizerKind.AdamW));
            public readonly Option<float?> Momentum = new("--momentum") { Description = "momentum of SGD (default 0.9) or RMSprop (default 0)" };
            public readonly Option<float> Alpha = new("--alpha") { DefaultValueFactory = _ => 0.99f, Description = "RMSprop smoothing constant" };
            public readonly Option<bool> Centered = new("--centered") { Description = "centered RMSprop" };
            public readonly Option<float> Clip = new("--clip-grad-norm") { Description = "clip the global L2 norm of all gradients to this value (0 = no clipping)" };
            public readonly Option<LossKind> Loss = Choice("--loss", "softmax (cross-entropy) | bce (sigmoid binary cross-entropy, 2 classes, one output unit)", "softmax",
                ("softmax", LossKind.SoftmaxCrossEntropy), ("bce", LossKind.SigmoidBinaryCrossEntropy));
            public readonly Option<IReadOnlyList<LearningRateGroup>> LrGroups = LearningRateGroups("--lr-group", "GLOBS=MULT: parameters matching the comma-separated globs train at MULT × the learning rate (repeatable)");
            public readonly Option<bool> Nesterov = new("--nesterov") { Description = "Nesterov momentum" };
            public readonly Option<float> WeightDecay = new("--weight-decay") { Description = "weight decay" };
            public readonly Option<float> Smoothing = new("--label-smoothing") { Description = "label smoothing" };
            public readonly Option<PreprocessSpec> Preprocessing = OptionParsers.Preprocess("--preprocess", "preprocess spec (with a fixed size, or give --input-size)", "imagenet");
            public readonly Option<AugmentSpec?> Augmentation = OptionParsers.Augment("--augment", "augmentation of training images");
            public readonly Option<double> ValSplit = new("--val-split") { DefaultValueFactory = _ => 0.2, Description = "validation fraction (0 = none)" };
            public readonly Option<int> Seed = new("--seed") { Description = "seed" };
            public readonly Option<ScheduleKind> Schedule = Choice("--schedule", "the learning-rate schedule", "constant",
                ("constant", ScheduleKind.Constant), ("step", ScheduleKind.Step), ("cosine", ScheduleKind.Cosine), ("onecycle", ScheduleKind.OneCycle));
            public readonly Option<int> Warmup = new("--warmup") { Description = "linear warm-up steps" };
            public readonly Option<ClassWeighting> ClassWeights = Choice("--class-weights", "auto (inverse frequency) | none", "none", ("auto", ClassWeighting.Auto), ("none", ClassWeighting.None));
            public readonly Option<bool> Balanced = new("--balanced") { Description = "draw batches with equal label frequency" };
            public readonly Option<bool> Resume = new("--resume") { Description = "continue the run in --out from its last checkpoint (same settings)" };

            public readonly Option<bool> Overwrite = new(OutputFiles.OverwriteFlag) { Description = "replace the earlier run in --out (its outputs are removed first)" };
            public readonly Option<int> Patience = new("--early-stopping") { Description = "stop after N epochs without validation-loss improvement and keep the best epoch" };
            public readonly Option<bool> NoShuffle = new("--no-shuffle") { Description = "keep dataset order" };
    }

    /// <summary>The settings the command's own options give (the input and workflow options are folded in after).</summary>
    private static FineTuneOptions Settings(Args a, ParseResult r, ImageDataset dataset)
    {
        var optimizer = r.GetValue(a.Optimizer);
        return new FineTuneOptions
        {
            NewHeadClasses = r.GetValue(a.KeepHead) ? null : r.GetValue(a.Head) ?? dataset.Classes.Count,
            Hidden = r.GetValue(a.Hidden)!,
            Pool = r.GetValue(a.Pool),
            Spec = new TrainingSpec
            {
                Trainable = r.GetValue(a.Trainable)!, UnfreezeFrom = r.GetValue(a.Unfreeze), Optimizer = optimizer,
                Momentum = optimizer switch { OptimizerKind.Sgd => r.GetValue(a.Momentum) ?? 0.9f, OptimizerKind.RmsProp => r.GetValue(a.Momentum) ?? 0, _ => 0 },
                Alpha = r.GetValue(a.Alpha), Centered = r.GetValue(a.Centered), ClipGradNorm = r.GetValue(a.Clip), Loss = r.GetValue(a.Loss), LearningRateGroups = r.GetValue(a.LrGroups)!,
                Nesterov = r.GetValue(a.Nesterov), WeightDecay = r.GetValue(a.WeightDecay), LabelSmoothing = r.GetValue(a.Smoothing),
            },
            Epochs = r.GetValue(a.Epochs),
            BatchSize = r.GetValue(a.Batch),
            LearningRate = r.GetValue(a.Lr),
            Schedule = new LearningRateSchedule { Kind = r.GetValue(a.Schedule), WarmupSteps = r.GetValue(a.Warmup) },
            Preprocess = r.GetValue(a.Preprocessing)!,
            Augment = r.GetValue(a.Augmentation),
            ValidationSplit = r.GetValue(a.ValSplit),
            Seed = r.GetValue(a.Seed),
            NoShuffle = r.GetValue(a.NoShuffle),
            EarlyStoppingPatience = r.GetValue(a.Patience),
            Resume = r.GetValue(a.Resume),
            ClassWeights = r.GetValue(a.ClassWeights) == ClassWeighting.Auto,
            Balanced = r.GetValue(a.Balanced),
        };
    }
}
