namespace DefectDetection.Onnx.Runtime;

/// <summary>Owns the intra-op thread pool of one session (none when one thread is asked for).</summary>
internal sealed class SessionThreads : IDisposable
{
    private SessionThreads(object? pool)
    {
        Pool = pool;
    }

    public object? Pool { get; }

    public static SessionThreads? Create(int threads) => threads <= 1 ? null : new SessionThreads(null);

    public void Dispose()
    {
        (Pool as IDisposable)?.Dispose();
    }
}
