namespace DefectDetection.Service.Storage;

/// <summary>
/// Where inspections and their results live. Writes are idempotent: <see cref="CompleteAsync"/> stores an outcome
/// only for a queued inspection, so work delivered twice still leaves exactly one result. The embedded default is
/// SQLite in the data folder; a scaled-out deployment puts another implementation behind the same calls.
/// </summary>
public interface IResultStore
{
    /// <summary>Creates the tables when missing.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Records an accepted image as queued. When its idempotency key is already known, nothing is added and the
    /// existing inspection's id is returned with <c>Created</c> false.
    /// </summary>
    Task<(string Id, bool Created)> AddQueuedAsync(NewInspection inspection, CancellationToken cancellationToken = default);

    /// <summary>The id of the inspection uploaded with an idempotency key, or null.</summary>
    Task<string?> FindByIdempotencyKeyAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Counts one more start of judging; returns the number of starts so far.</summary>
    Task<int> StartAttemptAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Takes back a start that a graceful stop interrupted (it does not count against the attempts).</summary>
    Task AbandonAttemptAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores an outcome and its webhook deliveries in one transaction, if the inspection is still queued; returns
    /// false (and writes nothing) when it already has one.
    /// </summary>
    Task<bool> CompleteAsync(string id, InspectionOutcome outcome, IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken = default);

    /// <summary>One inspection, or null.</summary>
    Task<InspectionRecord?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>A page of inspections, newest first.</summary>
    Task<IReadOnlyList<InspectionRecord>> QueryAsync(ResultQuery query, CancellationToken cancellationToken = default);

    /// <summary>Counts per line and time bucket.</summary>
    Task<IReadOnlyList<StatsRow>> StatsAsync(StatsQuery query, CancellationToken cancellationToken = default);

    /// <summary>The queued inspections in order of acceptance (to queue again after a restart).</summary>
    Task<IReadOnlyList<InspectionRecord>> PendingAsync(CancellationToken cancellationToken = default);

    /// <summary>The counts of the finished inspections of one line or camera: the last <paramref name="last"/> or those since <paramref name="since"/>.</summary>
    Task<RecentCounts> RecentAsync(AlarmScope scope, string value, int? last, DateTimeOffset? since, CancellationToken cancellationToken = default);

    /// <summary>Whether an alarm is fired for one line or camera (false when never seen).</summary>
    Task<bool> GetAlarmAsync(string rule, string scopeValue, CancellationToken cancellationToken = default);

    /// <summary>Stores an alarm transition and its webhook deliveries in one transaction.</summary>
    Task SetAlarmAsync(string rule, string scopeValue, bool fired, IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken = default);
}

/// <summary>
/// The durable webhook outbox: deliveries wait here until sent, retried, or dead. Several processes may share one
/// outbox: a dispatcher claims due deliveries for a lease (<see cref="ClaimDueAsync"/>), so each attempt of a delivery
/// belongs to one dispatcher; a claimer that dies leaves its deliveries due again when the lease ends, and a claimer
/// whose lease ran out can no longer record an outcome (the calls below return false).
/// </summary>
public interface IWebhookOutbox
{
    /// <summary>Adds deliveries.</summary>
    Task EnqueueAsync(IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims up to <paramref name="max"/> deliveries due at <paramref name="now"/>, oldest first, for one dispatcher:
    /// each is leased to it until <c>now + lease</c> (its <see cref="WebhookDelivery.NextAttemptAt"/>) and carries a new
    /// <see cref="WebhookDelivery.Claim"/>. Deliveries claimed by another dispatcher whose lease has not ended are
    /// skipped, without waiting for its lock.
    /// </summary>
    Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(DateTimeOffset now, int max, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>The next time a delivery is due (or a lease ends), or null when none waits.</summary>
    Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken = default);

    /// <summary>Marks a claimed delivery sent; false when the claim was lost (its lease ended and another dispatcher claimed it).</summary>
    Task<bool> DeliveredAsync(WebhookDelivery claimed, CancellationToken cancellationToken = default);

    /// <summary>Records a failed attempt of a claimed delivery and when to try again; false when the claim was lost.</summary>
    Task<bool> RetryLaterAsync(WebhookDelivery claimed, int attempts, DateTimeOffset nextAttemptAt, string error, CancellationToken cancellationToken = default);

    /// <summary>Moves a claimed delivery to the dead-letter list; false when the claim was lost.</summary>
    Task<bool> DeadLetterAsync(WebhookDelivery claimed, int attempts, string error, CancellationToken cancellationToken = default);

    /// <summary>The dead-letter list, newest first.</summary>
    Task<IReadOnlyList<WebhookDelivery>> DeadLettersAsync(int limit, CancellationToken cancellationToken = default);
}

/// <summary>The API keys (hashes only).</summary>
public interface IApiKeyStore
{
    /// <summary>Stores a new key.</summary>
    Task AddKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default);

    /// <summary>A key by its public id, or null.</summary>
    Task<ApiKeyRecord?> FindKeyAsync(string keyId, CancellationToken cancellationToken = default);
}
