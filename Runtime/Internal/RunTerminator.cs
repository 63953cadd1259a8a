namespace OnnxCnn.Runtime.Internal;

/// <summary>
/// Run options whose terminate flag follows a <see cref="CancellationToken"/>. Created only
/// when the token can be cancelled, so the common path costs nothing.
/// </summary>
internal readonly struct RunTerminator : IDisposable
{
    private readonly OrtHandle? options;
    private readonly CancellationTokenRegistration registration;

    private RunTerminator(OrtHandle options, CancellationTokenRegistration registration)
    {
        this.options = options;
        this.registration = registration;
    }

    public nint Pointer => options?.Pointer ?? 0;

    public static RunTerminator For(CancellationToken token)
    {
        if (!token.CanBeCanceled)
        {
            return default;
        }

        var options = Api.CreateRunOptions();
        var registration = token.Register(static o => Api.RunOptionsSetTerminate((OrtHandle)o!), options);
        return new RunTerminator(options, registration);
    }

    public void Dispose()
    {
        // Unregister first (waits for a running callback), so the flag is never set on freed options.
        registration.Dispose();
        options?.Dispose();
    }
}
