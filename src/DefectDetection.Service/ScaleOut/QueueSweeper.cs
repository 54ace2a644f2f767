using DefectDetection.Service.Postgres;
using DefectDetection.Service.Queue;
using DefectDetection.Service.RabbitMq;
using DefectDetection.Service.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DefectDetection.Service.ScaleOut;

/// <summary>
/// Runs in the API processes: creates the tables at start, then at start and every
/// <see cref="ScaleOutOptions.SweepInterval"/> publishes again the queued rows untouched for
/// <see cref="ScaleOutOptions.StaleAfter"/> that the broker never confirmed (accepted, but the process stopped or the
/// broker was away between storing the row and the confirm), and counts the broker's queue for the capacity check.
/// </summary>
internal sealed partial class QueueSweeper(
    ScaleOutOptions options, PostgresInspectionStore store, RabbitMqWorkQueue queue, TimeProvider time, ILogger<QueueSweeper> logger) : BackgroundService
{
    private const int Batch = 500;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
                await queue.RefreshDepthAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSweepFailed(ex); // PostgreSQL or the broker is away: the next round tries again
            }

            await Task.Delay(options.SweepInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Publishes the stale queued rows; returns how many.</summary>
    internal async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        int total = 0;
        while (true)
        {
            IReadOnlyList<InspectionRecord> stale = await store.ClaimStaleAsync(time.GetUtcNow() - options.StaleAfter, Batch, cancellationToken);
            foreach (InspectionRecord r in stale)
            {
                await queue.PublishAsync(new WorkItem(r.Id, r.ImagePath, r.ReceivedAt), cancellationToken);
                await store.MarkPublishedAsync(r.Id, cancellationToken);
            }

            total += stale.Count;
            if (stale.Count < Batch)
            {
                break;
            }
        }

        if (total > 0)
        {
            LogRepublished(total);
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {Count} queued images again that had no message")]
    private partial void LogRepublished(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The sweep failed; trying again")]
    private partial void LogSweepFailed(Exception ex);
}
