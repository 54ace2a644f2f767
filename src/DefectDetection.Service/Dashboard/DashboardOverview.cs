using System.Text.Json;
using DefectDetection.Service.Storage;

namespace DefectDetection.Service.Dashboard;

/// <summary>
/// The line overview: counts per line and camera since a time, a histogram of the judged images' confidences
/// (ten bins of 0.1) and the state of every alarm rule for each line or camera seen. It reads at most
/// <see cref="MaxImages"/> results (newest first) through <see cref="IResultStore.QueryAsync"/>.
/// </summary>
internal sealed class DashboardOverview
{
    public const int MaxImages = 20_000;

    private readonly SortedDictionary<(string Line, string Camera), long[]> _groups = [];
    private readonly long[] _histogram = new long[10];
    private readonly List<(AlarmRule Rule, string Value, bool Fired)> _alarms = [];

    public bool Truncated { get; private set; }

    public static async Task<DashboardOverview> ComputeAsync(IResultStore store, IReadOnlyList<AlarmRule> rules, DateTimeOffset since, CancellationToken cancellationToken)
    {
        DashboardOverview o = new();
        long? before = null;
        int seen = 0;
        while (true)
        {
            IReadOnlyList<InspectionRecord> page = await store.QueryAsync(new ResultQuery { From = since, Limit = 500, BeforeSequence = before }, cancellationToken);
            foreach (InspectionRecord r in page)
            {
                o.Add(r);
            }

            seen += page.Count;
            if (page.Count < 500)
            {
                break;
            }

            if (seen >= MaxImages)
            {
                o.Truncated = true;
                break;
            }

            before = page[^1].Sequence;
        }

        foreach (AlarmRule rule in rules)
        {
            IEnumerable<string> values = o._groups.Keys.Select(k => rule.Scope == AlarmScope.Line ? k.Line : k.Camera).Where(v => v.Length > 0).Distinct();
            foreach (string value in values)
            {
                o._alarms.Add((rule, value, await store.GetAlarmAsync(rule.Name, value, cancellationToken)));
            }
        }

        return o;
    }

    public void Write(Utf8JsonWriter w, int hours)
    {
        w.WriteStartObject();
        w.WriteNumber("hours", hours);
        w.WriteBoolean("truncated", Truncated);
        w.WriteStartArray("groups");
        foreach (((string line, string camera), long[] c) in _groups)
        {
            w.WriteStartObject();
            w.WriteString("line", line);
            w.WriteString("camera", camera);
            w.WriteNumber("total", c[0]);
            w.WriteNumber("anomalies", c[1]);
            w.WriteNumber("invalid", c[2]);
            w.WriteNumber("pending", c[3]);
            long judged = c[0] - c[2] - c[3];
            w.WriteNumber("anomaly_rate", judged == 0 ? 0 : (double)c[1] / judged);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("confidence_histogram");
        foreach (long n in _histogram)
        {
            w.WriteNumberValue(n);
        }

        w.WriteEndArray();
        w.WriteStartArray("alarms");
        foreach ((AlarmRule rule, string value, bool fired) in _alarms)
        {
            w.WriteStartObject();
            w.WriteString("rule", rule.Name);
            w.WriteString("scope", rule.Scope == AlarmScope.Line ? "line" : "camera");
            w.WriteString("value", value);
            w.WriteNumber("threshold", rule.Threshold);
            w.WriteString("state", fired ? "fired" : "clear");
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void Add(InspectionRecord r)
    {
        (string, string) key = (r.Metadata.Line ?? "", r.Metadata.Camera ?? "");
        if (!_groups.TryGetValue(key, out long[]? c))
        {
            _groups[key] = c = new long[4];
        }

        c[0]++;
        switch (r.Status)
        {
            case InspectionStatus.Queued:
                c[3]++;
                break;
            case InspectionStatus.Done:
                c[1] += r.Outcome?.IsDefect == true ? 1 : 0;
                if (Confidence(r.Outcome?.PredictionJson) is { } conf)
                {
                    _histogram[Math.Clamp((int)(conf * 10), 0, 9)]++;
                }

                break;
            default:
                c[2]++;
                break;
        }
    }

    private static double? Confidence(string? predictionJson)
    {
        if (predictionJson is null)
        {
            return null;
        }

        using JsonDocument doc = JsonDocument.Parse(predictionJson);
        return doc.RootElement.TryGetProperty("confidence", out JsonElement c) && c.TryGetDouble(out double v) && double.IsFinite(v) ? v : null;
    }
}
