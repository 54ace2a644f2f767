namespace DefectDetection.Service.Storage;

/// <summary>Where and when an image was taken, as the client uploading it says.</summary>
public sealed record ImageMetadata
{
    /// <summary>The camera.</summary>
    public string? Camera { get; init; }

    /// <summary>The production line.</summary>
    public string? Line { get; init; }

    /// <summary>The facility.</summary>
    public string? Facility { get; init; }

    /// <summary>The part's id.</summary>
    public string? PartId { get; init; }

    /// <summary>When the image was taken (the received time stands in for it when absent).</summary>
    public DateTimeOffset? CapturedAt { get; init; }

    /// <summary>The client's idempotency key: a second upload with the same key gets the first one's id and no second result.</summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>Where an inspection stands.</summary>
public enum InspectionStatus
{
    /// <summary>Accepted and waiting (or being judged).</summary>
    Queued,

    /// <summary>Judged; the prediction is stored.</summary>
    Done,

    /// <summary>The image could not be judged (undecodable, too large, or it stopped the process too often); the reason is stored.</summary>
    Invalid,

    /// <summary>The model failed on a decodable image; the reason is stored. Not retried.</summary>
    Failed,
}

/// <summary>An accepted image about to be queued.</summary>
/// <param name="Id">The inspection's id.</param>
/// <param name="Metadata">The client's metadata.</param>
/// <param name="ReceivedAt">When the upload arrived.</param>
/// <param name="ImagePath">The stored image file.</param>
public sealed record NewInspection(string Id, ImageMetadata Metadata, DateTimeOffset ReceivedAt, string ImagePath);

/// <summary>How an inspection ended.</summary>
public sealed record InspectionOutcome
{
    /// <summary><see cref="InspectionStatus.Done"/>, <see cref="InspectionStatus.Invalid"/> or <see cref="InspectionStatus.Failed"/>.</summary>
    public required InspectionStatus Status { get; init; }

    /// <summary>When it ended.</summary>
    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>The model version that judged it.</summary>
    public string? ModelVersion { get; init; }

    /// <summary>The verdict (done only).</summary>
    public bool? IsDefect { get; init; }

    /// <summary>The predicted label (done only).</summary>
    public string? Label { get; init; }

    /// <summary>The score (done only).</summary>
    public double? Score { get; init; }

    /// <summary>The library's prediction JSON (docs/prediction.schema.json, one object; done only).</summary>
    public string? PredictionJson { get; init; }

    /// <summary>Why the image is invalid or failed.</summary>
    public string? Error { get; init; }
}

/// <summary>A stored inspection.</summary>
public sealed record InspectionRecord
{
    /// <summary>The id.</summary>
    public required string Id { get; init; }

    /// <summary>The order of acceptance (the list cursor).</summary>
    public required long Sequence { get; init; }

    /// <summary>The status.</summary>
    public required InspectionStatus Status { get; init; }

    /// <summary>The client's metadata.</summary>
    public required ImageMetadata Metadata { get; init; }

    /// <summary>When the upload arrived.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The stored image file.</summary>
    public required string ImagePath { get; init; }

    /// <summary>How often judging was started.</summary>
    public int Attempts { get; init; }

    /// <summary>The outcome, once there is one.</summary>
    public InspectionOutcome? Outcome { get; init; }
}

/// <summary>The verdict filter of a result list.</summary>
public enum VerdictFilter
{
    /// <summary>Judged normal.</summary>
    Normal,

    /// <summary>Judged a defect.</summary>
    Anomaly,

    /// <summary>Invalid or failed images.</summary>
    Invalid,

    /// <summary>Queued images (no result yet).</summary>
    Pending,
}

/// <summary>A result list: filters, newest first, a page of <see cref="Limit"/> after <see cref="BeforeSequence"/>.</summary>
public sealed record ResultQuery
{
    /// <summary>Only this line.</summary>
    public string? Line { get; init; }

    /// <summary>Only this camera.</summary>
    public string? Camera { get; init; }

    /// <summary>Only this verdict.</summary>
    public VerdictFilter? Verdict { get; init; }

    /// <summary>Taken (or received) at or after this time.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Taken (or received) before this time.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>The page size.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The cursor: only inspections accepted before this sequence number.</summary>
    public long? BeforeSequence { get; init; }
}

/// <summary>The time bucket of the statistics.</summary>
public enum StatsBucket
{
    /// <summary>Hours (UTC).</summary>
    Hour,

    /// <summary>Days (UTC).</summary>
    Day,
}

/// <summary>Which statistics: one line or all, bucketed by hour or day, within a time range.</summary>
public sealed record StatsQuery
{
    /// <summary>Only this line (else every line, each separately).</summary>
    public string? Line { get; init; }

    /// <summary>The bucket.</summary>
    public StatsBucket Bucket { get; init; } = StatsBucket.Hour;

    /// <summary>Taken (or received) at or after this time.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Taken (or received) before this time.</summary>
    public DateTimeOffset? To { get; init; }
}

/// <summary>The counts of one line in one time bucket.</summary>
/// <param name="Line">The line (null for images without one).</param>
/// <param name="BucketStart">The bucket's start (UTC).</param>
/// <param name="Total">Images with a stored result (done, invalid or failed).</param>
/// <param name="Anomalies">Images judged defects.</param>
/// <param name="Invalid">Invalid or failed images.</param>
public sealed record StatsRow(string? Line, DateTimeOffset BucketStart, long Total, long Anomalies, long Invalid);

/// <summary>The counts an alarm rule looks at.</summary>
/// <param name="Judged">Images judged (done).</param>
/// <param name="Anomalies">Of those, defects.</param>
/// <param name="Invalid">Invalid or failed images.</param>
public sealed record RecentCounts(long Judged, long Anomalies, long Invalid);

/// <summary>A webhook delivery waiting in the outbox (or dead).</summary>
public sealed record WebhookDelivery
{
    /// <summary>The delivery's id (0 before it is stored).</summary>
    public long Id { get; init; }

    /// <summary>The subscription's URL.</summary>
    public required string Url { get; init; }

    /// <summary>The event: <c>anomaly</c>, <c>alarm</c> or <c>invalid</c>.</summary>
    public required string Event { get; init; }

    /// <summary>The JSON body.</summary>
    public required string Payload { get; init; }

    /// <summary>Failed attempts so far.</summary>
    public int Attempts { get; init; }

    /// <summary>When the next attempt is due.</summary>
    public DateTimeOffset NextAttemptAt { get; init; }

    /// <summary>When the event happened.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The last failure.</summary>
    public string? LastError { get; init; }

    /// <summary>The token of the claim that leased this delivery to one dispatcher (null when read unclaimed).</summary>
    public string? Claim { get; init; }
}

/// <summary>A stored API key: its id, name, scopes and the SHA-256 of its secret (never the secret).</summary>
public sealed record ApiKeyRecord
{
    /// <summary>The key's public id (the part before the secret).</summary>
    public required string KeyId { get; init; }

    /// <summary>A name for people.</summary>
    public required string Name { get; init; }

    /// <summary>The SHA-256 of the whole key.</summary>
    public required byte[] Hash { get; init; }

    /// <summary>The scopes.</summary>
    public required Auth.ApiScopes Scopes { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }
}
