using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Runtime;

/// <summary>Owns the intra-op thread pool of one session (none when one thread is asked for).</summary>
internal sealed class SessionThreads : IDisposable
{
    private SessionThreads(IntraOpThreadPool pool)
    {
        Pool = pool;
    }

    public IntraOpThreadPool Pool { get; }

    public static SessionThreads? Create(int threads) => threads <= 1 ? null : new SessionThreads(new IntraOpThreadPool(threads));

    public void Dispose() => Pool.Dispose();
}
