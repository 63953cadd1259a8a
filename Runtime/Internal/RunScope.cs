using Ort = Microsoft.ML.OnnxRuntime;

namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// The run options for one run: the session's shared default when the token cannot be cancelled
/// (ORT only reads run options), else fresh ones whose <see cref="Ort.RunOptions.Terminate"/>
/// flag the token sets.
/// </summary>
internal readonly struct RunScope : IDisposable
{
    private readonly Ort.RunOptions? owned;
    private readonly CancellationTokenRegistration registration;

    private RunScope(Ort.RunOptions options, Ort.RunOptions? owned, CancellationTokenRegistration registration)
    {
        Options = options;
        this.owned = owned;
        this.registration = registration;
    }

    public Ort.RunOptions Options { get; }

    public static RunScope For(Ort.RunOptions shared, CancellationToken token)
    {
        if (!token.CanBeCanceled)
        {
            return new RunScope(shared, null, default);
        }

        var options = new Ort.RunOptions();
        var registration = token.Register(static o => ((Ort.RunOptions)o!).Terminate = true, options);
        return new RunScope(options, options, registration);
    }

    /// <summary>Runs <paramref name="run"/>, turning ORT's errors into ours and a terminated run into a cancellation.</summary>
    public static T Invoke<T>(Ort.RunOptions shared, CancellationToken token, Func<Ort.RunOptions, T> run)
    {
        token.ThrowIfCancellationRequested();
        using var scope = For(shared, token);
        try
        {
            return run(scope.Options);
        }
        catch (Ort.OnnxRuntimeException) when (token.IsCancellationRequested)
        {
            throw new OperationCanceledException("the run was cancelled.", token);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw OrtErrors.Convert(e);
        }
    }

    public void Dispose()
    {
        // Unregister first (waits for a running callback), so the flag is never set on freed options.
        registration.Dispose();
        owned?.Dispose();
    }
}
