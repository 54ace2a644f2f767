namespace DefectDetection.Service.Queue;

/// <summary>One accepted image waiting to be judged.</summary>
/// <param name="Id">The inspection's id.</param>
/// <param name="ImagePath">The stored image.</param>
/// <param name="ReceivedAt">When it was uploaded (for the upload-to-result latency).</param>
public sealed record WorkItem(string Id, string ImagePath, DateTimeOffset ReceivedAt);

/// <summary>
/// The queue between the API and the workers. Capacity is reserved before an image is stored, so a full queue is
/// refused before anything is accepted; an item stays counted until it is acknowledged after its result is durable.
/// The embedded default is in-process; a scaled-out deployment puts a broker behind the same calls (at-least-once
/// delivery, the result store's idempotent writes make one result of it).
/// </summary>
public interface IWorkQueue
{
    /// <summary>Items accepted and not yet acknowledged.</summary>
    int Depth { get; }

    /// <summary>The capacity.</summary>
    int Capacity { get; }

    /// <summary>Reserves room for one item; false when the queue is full.</summary>
    bool TryReserve();

    /// <summary>Gives back a reservation that will not be used.</summary>
    void CancelReservation();

    /// <summary>Queues an item in a reserved place.</summary>
    ValueTask EnqueueAsync(WorkItem item, CancellationToken cancellationToken = default);

    /// <summary>Queues an item recovered after a restart, beyond the capacity if need be (nothing accepted is dropped).</summary>
    ValueTask RequeueAsync(WorkItem item, CancellationToken cancellationToken = default);

    /// <summary>Waits for the next item.</summary>
    ValueTask<WorkItem> DequeueAsync(CancellationToken cancellationToken);

    /// <summary>Acknowledges an item whose result is stored.</summary>
    void Acknowledge(WorkItem item);

    /// <summary>Gives back an item whose result could not be stored (the store failed); a broker delivers it again, the embedded queue leaves it to the next start.</summary>
    void Release(WorkItem item) => Acknowledge(item);
}
