namespace DefectDetection.Service;

/// <summary>
/// How an inspection service runs: where it keeps its data, how much it queues, what it accepts, how many images it
/// judges at once, and whom it notifies. Checked by <see cref="Validate"/> when the service starts.
/// </summary>
public sealed class InspectionServiceOptions
{
    /// <summary>The folder holding the result store (<c>results.db</c>) and the uploaded images (<c>images/</c>). Required.</summary>
    public string DataDirectory { get; init; } = "";

    /// <summary>How many accepted images may wait to be judged; an upload beyond it is refused with 429 (default 256).</summary>
    public int QueueCapacity { get; init; } = 256;

    /// <summary>The largest upload request body in bytes; larger requests get 413 (default 32 MiB).</summary>
    public long MaxBodyBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>The largest image in pixels (width x height); a larger image is recorded as invalid (default 50,000,000).</summary>
    public long MaxImagePixels { get; init; } = 50_000_000;

    /// <summary>How many images are judged at once (default 1: the model itself uses the cores).</summary>
    public int WorkerCount { get; init; } = 1;

    /// <summary>
    /// How often an image is started before it is given up as invalid (default 3). An image is only started again
    /// after the process stopped while judging it, so this ends images that crash or hang the process.
    /// </summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Whether this process judges images (default true; false for an API-only process of a scaled-out deployment).</summary>
    public bool RunWorkers { get; init; } = true;

    /// <summary>The seconds a client is told to wait (the Retry-After header) when the queue is full (default 1).</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>The webhook subscriptions.</summary>
    public IReadOnlyList<WebhookSubscription> Webhooks { get; init; } = [];

    /// <summary>How webhook deliveries are retried.</summary>
    public WebhookRetryOptions WebhookRetry { get; init; } = new();

    /// <summary>The alarm rules.</summary>
    public IReadOnlyList<AlarmRule> Alarms { get; init; } = [];

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(DataDirectory), nameof(DataDirectory), "give the data folder");
        Require(QueueCapacity is > 0 and <= 1_000_000, nameof(QueueCapacity), "must be in 1..1,000,000");
        Require(MaxBodyBytes > 0, nameof(MaxBodyBytes), "must be positive");
        Require(MaxImagePixels > 0, nameof(MaxImagePixels), "must be positive");
        Require(WorkerCount is > 0 and <= 64, nameof(WorkerCount), "must be in 1..64");
        Require(MaxAttempts is > 0 and <= 100, nameof(MaxAttempts), "must be in 1..100");
        Require(RetryAfterSeconds is > 0 and <= 3600, nameof(RetryAfterSeconds), "must be in 1..3600");
        WebhookRetry.Validate();
        foreach (WebhookSubscription w in Webhooks)
        {
            w.Validate();
        }

        HashSet<string> names = new(StringComparer.Ordinal);
        foreach (AlarmRule a in Alarms)
        {
            a.Validate();
            Require(names.Add(a.Name), nameof(Alarms), $"two rules are named '{a.Name}'");
        }
    }

    internal static void Require(bool condition, string name, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"{name}: {message}.", name);
        }
    }
}

/// <summary>The events a webhook can subscribe to.</summary>
[Flags]
public enum WebhookEvents
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>An image was judged a defect (one delivery per image).</summary>
    Anomaly = 1,

    /// <summary>An alarm rule fired or cleared (one delivery per transition).</summary>
    Alarm = 2,

    /// <summary>An image could not be judged (undecodable, too large; one delivery per image).</summary>
    Invalid = 4,

    /// <summary>Every event.</summary>
    All = Anomaly | Alarm | Invalid,
}

/// <summary>A webhook: where events are posted and the secret that signs them.</summary>
public sealed class WebhookSubscription
{
    /// <summary>The absolute http or https URL the events are posted to.</summary>
    public string Url { get; init; } = "";

    /// <summary>The shared secret of the HMAC-SHA256 signature (at least 16 characters).</summary>
    public string Secret { get; init; } = "";

    /// <summary>The events sent (default all).</summary>
    public WebhookEvents Events { get; init; } = WebhookEvents.All;

    /// <summary>Checks the subscription.</summary>
    /// <exception cref="ArgumentException">The URL is not absolute http(s) or the secret is too short.</exception>
    public void Validate()
    {
        InspectionServiceOptions.Require(Uri.TryCreate(Url, UriKind.Absolute, out Uri? u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps), "Webhooks.Url", $"'{Url}' is not an absolute http or https URL");
        InspectionServiceOptions.Require(Secret.Length >= 16, "Webhooks.Secret", "give a secret of at least 16 characters");
        InspectionServiceOptions.Require(Events != WebhookEvents.None && (Events & ~WebhookEvents.All) == 0, "Webhooks.Events", "choose anomaly, alarm and/or invalid");
    }
}

/// <summary>How webhook deliveries are retried: exponential backoff, then the dead-letter list.</summary>
public sealed class WebhookRetryOptions
{
    /// <summary>Attempts before a delivery goes to the dead-letter list (default 6).</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The wait after the first failure; each later wait doubles (default 2 s).</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between attempts (default 10 min).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The time limit of one delivery request (default 10 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a dispatcher holds the deliveries it claimed (default 60 s, at least twice <see cref="Timeout"/>). No
    /// other process sends them meanwhile; a process killed while sending leaves them to be sent again when the lease
    /// ends. The processes sharing one store need clocks that agree to well within the lease minus the timeout.
    /// </summary>
    public TimeSpan ClaimLease { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        InspectionServiceOptions.Require(MaxAttempts is > 0 and <= 50, "WebhookRetry.MaxAttempts", "must be in 1..50");
        InspectionServiceOptions.Require(InitialDelay > TimeSpan.Zero && MaxDelay >= InitialDelay, "WebhookRetry.InitialDelay", "must be positive and at most MaxDelay");
        InspectionServiceOptions.Require(Timeout > TimeSpan.Zero, "WebhookRetry.Timeout", "must be positive");
        InspectionServiceOptions.Require(ClaimLease >= Timeout * 2, "WebhookRetry.ClaimLease", "must be at least twice the Timeout");
    }
}

/// <summary>What an alarm rule counts.</summary>
public enum AlarmKind
{
    /// <summary>The share of judged images that are defects, in percent, against <see cref="AlarmRule.Threshold"/>.</summary>
    AnomalyRate,

    /// <summary>The number of invalid images, against <see cref="AlarmRule.Threshold"/>.</summary>
    InvalidCount,
}

/// <summary>Which results an alarm rule looks at together.</summary>
public enum AlarmScope
{
    /// <summary>One state per production line.</summary>
    Line,

    /// <summary>One state per camera.</summary>
    Camera,
}

/// <summary>
/// An alarm: fires when the anomaly rate (or the invalid count) of a line or camera passes a threshold over its last
/// N images or a time window, and clears when it falls back; each transition sends one <c>alarm</c> webhook.
/// </summary>
public sealed class AlarmRule
{
    /// <summary>The rule's name, unique among the rules.</summary>
    public string Name { get; init; } = "";

    /// <summary>What is counted.</summary>
    public AlarmKind Kind { get; init; } = AlarmKind.AnomalyRate;

    /// <summary>Per line or per camera.</summary>
    public AlarmScope Scope { get; init; } = AlarmScope.Line;

    /// <summary>Fires above this: a percentage (0-100) for <see cref="AlarmKind.AnomalyRate"/>, a count for <see cref="AlarmKind.InvalidCount"/>.</summary>
    public double Threshold { get; init; }

    /// <summary>Look at the last this many images of the line or camera (a rate rule waits until it has seen that many). Give this or <see cref="Window"/>.</summary>
    public int? LastImages { get; init; }

    /// <summary>Look at the images of this last time span. Give this or <see cref="LastImages"/>.</summary>
    public TimeSpan? Window { get; init; }

    /// <summary>Checks the rule.</summary>
    /// <exception cref="ArgumentException">A setting is missing or out of range.</exception>
    public void Validate()
    {
        InspectionServiceOptions.Require(!string.IsNullOrWhiteSpace(Name), "Alarms.Name", "give each rule a name");
        InspectionServiceOptions.Require(LastImages is null != Window is null, $"Alarms[{Name}]", "give LastImages or Window, not both");
        InspectionServiceOptions.Require(LastImages is null or (> 0 and <= 100_000), $"Alarms[{Name}].LastImages", "must be in 1..100,000");
        InspectionServiceOptions.Require(Window is null || Window > TimeSpan.Zero, $"Alarms[{Name}].Window", "must be positive");
        InspectionServiceOptions.Require(Kind == AlarmKind.AnomalyRate ? Threshold is >= 0 and < 100 : Threshold >= 0, $"Alarms[{Name}].Threshold", "a rate is a percentage in [0, 100); a count is not negative");
    }
}
