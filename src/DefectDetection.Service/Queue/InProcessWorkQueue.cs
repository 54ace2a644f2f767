using System.Threading.Channels;

namespace DefectDetection.Service.Queue;

/// <summary>The embedded queue: an in-memory channel with a bounded count of unacknowledged items. Durability comes from the store (each item is recorded as queued before it is enqueued).</summary>
internal sealed class InProcessWorkQueue(int capacity) : IWorkQueue
{
    private readonly Channel<WorkItem> _channel = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private int _depth;

    public int Depth => Volatile.Read(ref _depth);

    public int Capacity { get; } = capacity;

    public bool TryReserve()
    {
        int n = Volatile.Read(ref _depth);
        while (n < Capacity)
        {
            int seen = Interlocked.CompareExchange(ref _depth, n + 1, n);
            if (seen == n)
            {
                return true;
            }

            n = seen;
        }

        return false;
    }

    public void CancelReservation() => Interlocked.Decrement(ref _depth);

    public ValueTask EnqueueAsync(WorkItem item, CancellationToken cancellationToken = default) => _channel.Writer.WriteAsync(item, cancellationToken);

    public ValueTask RequeueAsync(WorkItem item, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _depth);
        return _channel.Writer.WriteAsync(item, cancellationToken);
    }

    public ValueTask<WorkItem> DequeueAsync(CancellationToken cancellationToken) => _channel.Reader.ReadAsync(cancellationToken);

    public void Acknowledge(WorkItem item) => Interlocked.Decrement(ref _depth);
}
