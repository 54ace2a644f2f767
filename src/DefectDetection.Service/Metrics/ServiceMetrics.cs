using System.Diagnostics.Metrics;
using DefectDetection.Service.Queue;

namespace DefectDetection.Service.Metrics;

/// <summary>The service's instruments (meter <see cref="MeterName"/>), exported at <c>/metrics</c> in the Prometheus text format.</summary>
internal sealed class ServiceMetrics : IDisposable
{
    public const string MeterName = "DefectDetection.Service";
    private readonly Meter _meter;
    private readonly Counter<long> _processed;
    private readonly Counter<long> _anomalies;
    private readonly Counter<long> _invalid;
    private readonly Histogram<double> _latency;

    public ServiceMetrics(IMeterFactory factory, IWorkQueue queue)
    {
        _meter = factory.Create(MeterName);
        _processed = _meter.CreateCounter<long>("defect.images.processed", "{image}", "Images with a stored result (judged, invalid or failed).");
        _anomalies = _meter.CreateCounter<long>("defect.images.anomalies", "{image}", "Images judged defects.");
        _invalid = _meter.CreateCounter<long>("defect.images.invalid", "{image}", "Images that could not be judged (undecodable, too large, failed).");
        _latency = _meter.CreateHistogram<double>("defect.inspection.duration", "s", "Time from upload to stored result.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        _meter.CreateObservableGauge("defect.queue.depth", () => queue.Depth, "{image}", "Accepted images not yet judged.");
    }

    public void Completed(Storage.InspectionOutcome outcome, DateTimeOffset receivedAt)
    {
        _processed.Add(1);
        if (outcome.IsDefect == true)
        {
            _anomalies.Add(1);
        }

        if (outcome.Status is Storage.InspectionStatus.Invalid or Storage.InspectionStatus.Failed)
        {
            _invalid.Add(1);
        }

        _latency.Record(Math.Max(0, (outcome.CompletedAt - receivedAt).TotalSeconds));
    }

    public void Dispose() => _meter.Dispose();
}
