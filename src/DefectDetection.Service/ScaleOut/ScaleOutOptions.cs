namespace DefectDetection.Service;

/// <summary>What a process of a scaled-out deployment does.</summary>
public enum ServiceRole
{
    /// <summary>The HTTP API and the workers in one process (the default).</summary>
    Both,

    /// <summary>The HTTP API and the sweeper that republishes lost messages; judges nothing.</summary>
    Api,

    /// <summary>Judges queued images (a competing consumer of the queue); also answers health checks.</summary>
    Worker,
}

/// <summary>
/// The scaled-out deployment: results in PostgreSQL, the queue in RabbitMQ, the uploaded images in a folder every
/// process can read (<see cref="InspectionServiceOptions.DataDirectory"/>). Checked by <see cref="Validate"/>.
/// </summary>
public sealed class ScaleOutOptions
{
    /// <summary>The PostgreSQL connection string (Npgsql form: <c>Host=...;Username=...;Password=...;Database=...</c>). Required.</summary>
    public string PostgresConnectionString { get; init; } = "";

    /// <summary>The RabbitMQ URI (<c>amqp://user:password@host:5672/vhost</c>). Required.</summary>
    public string RabbitMqUri { get; init; } = "";

    /// <summary>The durable queue's name (default <c>defect.inspections</c>).</summary>
    public string QueueName { get; init; } = "defect.inspections";

    /// <summary>This process's role (default both).</summary>
    public ServiceRole Role { get; init; } = ServiceRole.Both;

    /// <summary>Messages a worker holds unacknowledged at once (default 4).</summary>
    public int Prefetch { get; init; } = 4;

    /// <summary>Accepted images that may wait in the broker before uploads get 429 (default 10,000).</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>
    /// A queued row whose message the broker never confirmed is published by the sweeper once it is this old: the API
    /// stopped, or the broker was away, between storing the row and the confirm (default 30 s).
    /// </summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the sweeper looks for stale rows and counts the broker's queue (default 5 s; it also runs at start).</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The wait before connecting to the broker again (default 1 s).</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Attempts to publish one message before the upload fails (default 5, <see cref="ReconnectDelay"/> apart).</summary>
    public int PublishAttempts { get; init; } = 5;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is missing or out of range; the message names it.</exception>
    public void Validate()
    {
        InspectionServiceOptions.Require(!string.IsNullOrWhiteSpace(PostgresConnectionString), nameof(PostgresConnectionString), "give the PostgreSQL connection string");
        InspectionServiceOptions.Require(Uri.TryCreate(RabbitMqUri, UriKind.Absolute, out Uri? u) && u.Scheme is "amqp" or "amqps", nameof(RabbitMqUri), "give an amqp:// or amqps:// URI");
        InspectionServiceOptions.Require(!string.IsNullOrWhiteSpace(QueueName) && QueueName.Length <= 255, nameof(QueueName), "give a name of 1-255 characters");
        InspectionServiceOptions.Require(Enum.IsDefined(Role), nameof(Role), "choose both, api or worker");
        InspectionServiceOptions.Require(Prefetch is > 0 and <= 1000, nameof(Prefetch), "must be in 1..1000");
        InspectionServiceOptions.Require(QueueCapacity is > 0 and <= 10_000_000, nameof(QueueCapacity), "must be in 1..10,000,000");
        InspectionServiceOptions.Require(StaleAfter > TimeSpan.Zero, nameof(StaleAfter), "must be positive");
        InspectionServiceOptions.Require(SweepInterval > TimeSpan.Zero, nameof(SweepInterval), "must be positive");
        InspectionServiceOptions.Require(ReconnectDelay > TimeSpan.Zero, nameof(ReconnectDelay), "must be positive");
        InspectionServiceOptions.Require(PublishAttempts is > 0 and <= 100, nameof(PublishAttempts), "must be in 1..100");
    }
}
