using DefectDetection.Service.Api;
using DefectDetection.Service.Storage;
using DefectDetection.Service.Webhooks;
using Microsoft.Extensions.Logging;

namespace DefectDetection.Service.Alarms;

/// <summary>
/// Checks the alarm rules after each stored result, for the result's line or camera: the anomaly rate (or invalid
/// count) over the rule's last N images or time window against its threshold. A change of state is stored with its
/// <c>alarm</c> webhooks in one transaction, so each transition is announced once.
/// </summary>
internal sealed partial class AlarmEvaluator(
    InspectionServiceOptions options, IResultStore store, WebhookDispatcher webhooks, TimeProvider time, ILogger<AlarmEvaluator> logger)
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public async Task EvaluateAsync(ImageMetadata metadata, CancellationToken cancellationToken)
    {
        if (options.Alarms.Count == 0)
        {
            return;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            foreach (AlarmRule rule in options.Alarms)
            {
                string? value = rule.Scope == AlarmScope.Line ? metadata.Line : metadata.Camera;
                if (value is not null)
                {
                    await EvaluateAsync(rule, value, cancellationToken);
                }
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task EvaluateAsync(AlarmRule rule, string value, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        RecentCounts counts = await store.RecentAsync(rule.Scope, value, rule.LastImages, rule.Window is { } w ? now - w : null, cancellationToken);
        double observed;
        if (rule.Kind == AlarmKind.AnomalyRate)
        {
            // A rate over the last N images waits for N images; a window rate for one.
            if (counts.Judged == 0 || (rule.LastImages is { } n && counts.Judged + counts.Invalid < n))
            {
                return;
            }

            observed = 100.0 * counts.Anomalies / counts.Judged;
        }
        else
        {
            observed = counts.Invalid;
        }

        bool fired = observed > rule.Threshold;
        if (fired == await store.GetAlarmAsync(rule.Name, value, cancellationToken))
        {
            return;
        }

        string payload = ServiceJson.Write(j =>
        {
            j.WriteStartObject();
            j.WriteString("event", "alarm");
            j.WriteString("state", fired ? "fired" : "cleared");
            j.WriteString("rule", rule.Name);
            j.WriteString("kind", rule.Kind == AlarmKind.AnomalyRate ? "anomaly_rate" : "invalid_count");
            j.WriteString("scope", rule.Scope == AlarmScope.Line ? "line" : "camera");
            j.WriteString("value", value);
            j.WriteNumber("observed", observed);
            j.WriteNumber("threshold", rule.Threshold);
            j.WriteNumber("judged", counts.Judged);
            j.WriteNumber("anomalies", counts.Anomalies);
            j.WriteNumber("invalid", counts.Invalid);
            if (rule.LastImages is { } last)
            {
                j.WriteNumber("last_images", last);
            }

            if (rule.Window is { } window)
            {
                j.WriteNumber("window_seconds", window.TotalSeconds);
            }

            j.WriteString("at", now.UtcDateTime);
            j.WriteEndObject();
        });
        await store.SetAlarmAsync(rule.Name, value, fired, webhooks.For(WebhookEvents.Alarm, payload), cancellationToken);
        LogTransition(rule.Name, value, fired ? "fired" : "cleared", observed);
        webhooks.Notify();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alarm {Rule} for {Value} {State} (observed {Observed})")]
    private partial void LogTransition(string rule, string value, string state, double observed);
}
