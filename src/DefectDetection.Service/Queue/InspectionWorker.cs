using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Models;
using DefectDetection.Service.Alarms;
using DefectDetection.Service.Api;
using DefectDetection.Service.Metrics;
using DefectDetection.Service.Models;
using DefectDetection.Service.Storage;
using DefectDetection.Service.Webhooks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DefectDetection.Service.Queue;

/// <summary>
/// Takes queued images and judges them: <see cref="InspectionServiceOptions.WorkerCount"/> loops over the queue.
/// On start it queues again what the store still holds as queued (work accepted before a stop). An image that cannot
/// be decoded, is too large or was started too often is stored as invalid once, never retried.
/// </summary>
internal sealed partial class InspectionWorker(
    InspectionServiceOptions options, IResultStore store, IWorkQueue queue, IModelSource models, ServiceMetrics metrics,
    WebhookDispatcher webhooks, AlarmEvaluator alarms, TimeProvider time, ILogger<InspectionWorker> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.DataDirectory);
        await store.InitializeAsync(cancellationToken);
        IReadOnlyList<InspectionRecord> pending = await store.PendingAsync(cancellationToken);
        foreach (InspectionRecord r in pending)
        {
            await queue.RequeueAsync(new WorkItem(r.Id, r.ImagePath, r.ReceivedAt), cancellationToken);
        }

        if (pending.Count > 0)
        {
            LogRequeued(pending.Count);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.WorkerCount).Select(_ => Task.Run(() => LoopAsync(stoppingToken), CancellationToken.None)));

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            WorkItem item;
            try
            {
                item = await queue.DequeueAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                await ProcessAsync(item, stoppingToken);
                queue.Acknowledge(item);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: the item stays queued in the store and is queued again on the next start; a graceful
                // stop does not count as an attempt (only a crash does).
                await store.AbandonAttemptAsync(item.Id, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return;
            }
            catch (Exception ex)
            {
                // The store failed: the item stays queued in the store; it is tried again after a restart (or, from a
                // broker, delivered again).
                LogStoreFailed(ex, item.Id);
                queue.Release(item);
            }
        }
    }

    internal async Task ProcessAsync(WorkItem item, CancellationToken cancellationToken)
    {
        InspectionRecord? record = await store.GetAsync(item.Id, cancellationToken);
        if (record is null || record.Status != InspectionStatus.Queued)
        {
            return; // delivered twice: the result is already stored
        }

        int attempts = await store.StartAttemptAsync(item.Id, cancellationToken);
        InspectionOutcome outcome = attempts > options.MaxAttempts
            ? Invalid($"judging was started {attempts - 1} times without finishing (the image stopped the service); given up")
            : await JudgeAsync(item, cancellationToken);
        InspectionRecord done = record with { Status = outcome.Status, Outcome = outcome };
        List<WebhookDelivery> deliveries = [];
        if (outcome.IsDefect == true)
        {
            deliveries.AddRange(webhooks.For(WebhookEvents.Anomaly, EventPayload("anomaly", done)));
        }
        else if (outcome.Status != InspectionStatus.Done)
        {
            deliveries.AddRange(webhooks.For(WebhookEvents.Invalid, EventPayload("invalid", done)));
        }

        if (!await store.CompleteAsync(item.Id, outcome, deliveries, cancellationToken))
        {
            return;
        }

        metrics.Completed(outcome, item.ReceivedAt);
        if (deliveries.Count > 0)
        {
            webhooks.Notify();
        }

        if (outcome.Status != InspectionStatus.Done)
        {
            LogInvalid(item.Id, outcome.Error ?? "");
        }

        await alarms.EvaluateAsync(record.Metadata, cancellationToken);
    }

    private async Task<InspectionOutcome> JudgeAsync(WorkItem item, CancellationToken cancellationToken)
    {
        Image image;
        try
        {
            byte[] bytes = await File.ReadAllBytesAsync(item.ImagePath, cancellationToken);
            image = ImageCodecs.Decode(bytes, new DecoderOptions { MaxPixels = options.MaxImagePixels });
        }
        catch (Exception ex) when (ex is InvalidImageContentException or NotSupportedException or InvalidDataException or FormatException or ArgumentException or OverflowException or IndexOutOfRangeException)
        {
            return Invalid($"the image cannot be read: {ex.Message}");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Invalid("the stored image file is missing");
        }

        using (image)
        using (ModelLease lease = models.Acquire())
        {
            try
            {
                DefectPrediction p = lease.Model.Predict(image.View(), cancellationToken);
                string array = PredictionReport.ToJson([PredictionReport.From(p, item.Id)]);
                using JsonDocument doc = JsonDocument.Parse(array);
                return new InspectionOutcome
                {
                    Status = InspectionStatus.Done,
                    CompletedAt = time.GetUtcNow(),
                    ModelVersion = lease.Version,
                    IsDefect = p.IsDefect,
                    Label = p.Label,
                    Score = p.Score,
                    PredictionJson = doc.RootElement[0].GetRawText(),
                };
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                LogModelFailed(ex, item.Id);
                return new InspectionOutcome { Status = InspectionStatus.Failed, CompletedAt = time.GetUtcNow(), ModelVersion = lease.Version, Error = $"the model failed: {ex.Message}" };
            }
        }
    }

    private InspectionOutcome Invalid(string reason) => new() { Status = InspectionStatus.Invalid, CompletedAt = time.GetUtcNow(), Error = reason };

    private static string EventPayload(string name, InspectionRecord record) => ServiceJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("event", name);
        w.WritePropertyName("result");
        ServiceJson.WriteResult(w, record);
        w.WriteEndObject();
    });

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued {Count} images again that were accepted before the last stop")]
    private partial void LogRequeued(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Image {Id} is invalid: {Reason}")]
    private partial void LogInvalid(string id, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The model failed on image {Id}")]
    private partial void LogModelFailed(Exception ex, string id);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing the result of image {Id} failed; it stays queued until the next start")]
    private partial void LogStoreFailed(Exception ex, string id);
}
