using OnnxCnn.Runtime;

namespace OnnxCnn.Training;

/// <summary>
/// The bound step: the carried tensors live in two sets on the session's device, each bound once —
/// binding k reads set k and writes the updated values into the other set. A step binds only the
/// batch, labels, learning rates and step number, runs, brings the loss and logits to the host, and
/// makes the written set current only when the loss is finite (the NaN guard keeps set A as it was).
/// </summary>
/// <remarks>
/// Measured on the CPU (2 shared cores, ORT 1.30, SGD momentum 0.9, everything trainable, both
/// sessions in one process, runs interleaved, median ms per step, bound vs fed):
/// tiny_resnet fixture, batch 32, 32×32: 3.17 vs 3.25 (30 rounds of 20 steps);
/// resnet18_narrow fixture, batch 32, 64×64: 26.98 vs 28.96, rerun 19.31 vs 19.57, and with the
/// host outputs re-bound every step 19.58 vs 19.73 (16 rounds of 4 steps, load average 7);
/// torchvision ResNet-18 (11.2 M parameters), batch 16, 64×64: 228.7 vs 235.0 (8 rounds of 2 steps).
/// The bound step was never slower, so it is the default (<see cref="DefaultExecution"/>). On CUDA
/// it is what keeps the parameters and optimiser state on the device; that path is compiled but
/// was not run (no GPU where it was written).
/// </remarks>
public sealed partial class TrainingSession
{
    private readonly IoBinding[]? bindings;
    private IoBinding? prefixBinding;
    private Tensor<float>? learningRateValue;
    private Tensor<float>? stepValue;
    private Dictionary<string, Tensor<float>>? groupRateValues;
    private HashSet<string>? updatedOutputs;

    private IoBinding[] CreateBindings()
    {
        // Scalars the step reads are persistent host tensors, rewritten and re-bound each step (binding
        // copies a host input to the device at bind time, so a rewrite alone would not reach a GPU).
        learningRateValue = Tensor<float>.Filled(0f);
        stepValue = Tensor<float>.Filled(0f);
        groupRateValues = Graph.LearningRateGroups.ToDictionary(g => TrainingGraph.LearningRateInputOf(g.Name), _ => Tensor<float>.Filled(0f), StringComparer.Ordinal);
        updatedOutputs = state.Names.Select(n => Graph.UpdatedOutputs[n]).ToHashSet(StringComparer.Ordinal);
        var result = new IoBinding[2];
        try
        {
            for (var k = 0; k < 2; k++)
            {
                result[k] = step.CreateIoBinding();
                var read = state.Set(k);
                var write = state.Set(1 - k);
                for (var i = 0; i < read.Length; i++)
                {
                    result[k].BindInput(state.Names[i], read[i]);
                    result[k].BindOutput(Graph.UpdatedOutputs[state.Names[i]], write[i]);
                }

                BindHostOutputs(result[k]);
            }

            return result;
        }
        catch
        {
            foreach (var binding in result.Where(b => b is not null))
            {
                binding.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Loss, logits and any exposed gradients come back to the host, allocated by ORT. Bound again
    /// before every run: after a run ORT keeps the value it allocated as if preallocated, and the
    /// logits of a smaller last batch would not fit it.
    /// </summary>
    private void BindHostOutputs(IoBinding binding)
    {
        foreach (var name in HostOutputs)
        {
            binding.BindOutputToDevice(name, ExecutionDevice.Cpu);
        }
    }

    private StepResult StepBound(Tensor input, Tensor<long> labels, float learningRate, CancellationToken cancellationToken)
    {
        var binding = bindings![state.CurrentIndex];
        binding.BindInput(Graph.Input, input);
        binding.BindInput(TrainingGraph.LabelsInput, labels);
        learningRateValue![0] = learningRate;
        binding.BindInput(TrainingGraph.LearningRateInput, learningRateValue);
        stepValue![0] = StepCount + 1;
        binding.BindInput(TrainingGraph.StepInput, stepValue);
        foreach (var (group, rate) in GroupRates(learningRate))
        {
            var value = groupRateValues![group];
            value[0] = rate;
            binding.BindInput(group, value);
        }

        BindHostOutputs(binding);
        binding.Run(cancellationToken);
        if (Device.Kind == DeviceKind.Cuda)
        {
            binding.SynchronizeOutputs();
        }

        using var result = binding.GetOutputs(HostOutputs);
        var loss = result[TrainingGraph.LossOutput].As<float>()[0];
        if (!float.IsFinite(loss))
        {
            return Finish(result, loss, StepGuard.Discarded);
        }

        state.Swap();
        return Finish(result, loss, StepGuard.Applied);
    }

    /// <summary>Every step output that is not an updated carried tensor: loss, logits, exposed gradients.</summary>
    private IEnumerable<string> HostOutputs => step.Outputs.Select(o => o.Name).Where(n => !updatedOutputs!.Contains(n));

    /// <summary>The prefix output for a batch, left where the prefix ran (on the device for CUDA) to be bound as the step's input.</summary>
    private RunResult RunPrefixBound(Tensor<float> batch, CancellationToken cancellationToken)
    {
        // Bound to the device afresh each time (the batch size can change, see BindHostOutputs).
        prefixBinding ??= prefix!.CreateIoBinding();
        prefixBinding.BindOutputToDevice(prefix!.Outputs[0].Name, Device);
        prefixBinding.BindInput(prefix!.Inputs[0].Name, batch);
        prefixBinding.Run(cancellationToken);
        return prefixBinding.GetOutputs();
    }
}
