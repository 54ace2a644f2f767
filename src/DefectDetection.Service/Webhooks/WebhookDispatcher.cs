using System.Globalization;
using System.Text;
using DefectDetection.Service.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DefectDetection.Service.Webhooks;

/// <summary>
/// Sends the outbox's due deliveries, signed, and retries failures with exponential backoff until
/// <see cref="WebhookRetryOptions.MaxAttempts"/>, after which a delivery goes to the dead-letter list. Every process
/// sharing a store runs one: each claims its deliveries for <see cref="WebhookRetryOptions.ClaimLease"/> before sending
/// them, and gives up a send that could outlast its lease, so one delivery is never sent by two processes at once.
/// </summary>
internal sealed partial class WebhookDispatcher(
    InspectionServiceOptions options, IResultStore store, IWebhookOutbox outbox, IHttpClientFactory clients, TimeProvider time, ILogger<WebhookDispatcher> logger)
    : BackgroundService
{
    public const string HttpClientName = "DefectDetection.Webhooks";
    private const int Batch = 32;
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    /// <summary>The deliveries for one event: one per subscription that takes it.</summary>
    public IReadOnlyList<WebhookDelivery> For(WebhookEvents kind, string payload)
    {
        DateTimeOffset now = time.GetUtcNow();
        string name = kind switch { WebhookEvents.Anomaly => "anomaly", WebhookEvents.Alarm => "alarm", _ => "invalid" };
        return options.Webhooks.Where(w => (w.Events & kind) != 0)
            .Select(w => new WebhookDelivery { Url = w.Url, Event = name, Payload = payload, NextAttemptAt = now, CreatedAt = now })
            .ToList();
    }

    /// <summary>Wakes the dispatcher: new deliveries were stored.</summary>
    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Webhooks.Count == 0)
        {
            return;
        }

        bool initialized = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!initialized)
                {
                    // An API process has no worker to create the tables first; the store makes them once, under a lock.
                    await store.InitializeAsync(stoppingToken);
                    initialized = true;
                }

                DateTimeOffset now = time.GetUtcNow();
                IReadOnlyList<WebhookDelivery> claimed = await outbox.ClaimDueAsync(now, Batch, options.WebhookRetry.ClaimLease, stoppingToken);
                DateTimeOffset leaseEnd = now + options.WebhookRetry.ClaimLease;
                await Task.WhenAll(claimed.Select(d => SendAsync(d, leaseEnd, stoppingToken)));
                if (claimed.Count == Batch)
                {
                    continue;
                }

                DateTimeOffset? next = await outbox.NextDueAsync(stoppingToken);
                TimeSpan wait = next is { } n ? n - time.GetUtcNow() : TimeSpan.FromSeconds(5);
                wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : wait;
                await _signal.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLoopFailed(ex);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task SendAsync(WebhookDelivery delivery, DateTimeOffset leaseEnd, CancellationToken cancellationToken)
    {
        WebhookSubscription? subscription = options.Webhooks.FirstOrDefault(w => w.Url == delivery.Url);
        if (subscription is null)
        {
            await outbox.DeadLetterAsync(delivery, delivery.Attempts, "no webhook subscription has this URL any more", cancellationToken);
            return;
        }

        // The send ends a whole Timeout before the lease does (room to record the outcome, and for clocks that
        // differ a little); when that is no longer possible the delivery is left to the next claim.
        TimeSpan left = leaseEnd - time.GetUtcNow() - options.WebhookRetry.Timeout;
        if (left <= TimeSpan.Zero)
        {
            return;
        }

        string? error;
        try
        {
            byte[] body = Encoding.UTF8.GetBytes(delivery.Payload);
            string timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            using HttpRequestMessage request = new(HttpMethod.Post, subscription.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.Add(WebhookSignature.EventHeader, delivery.Event);
            request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.Id.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp);
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(subscription.Secret, timestamp, body));
            using CancellationTokenSource timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(left < options.WebhookRetry.Timeout ? left : options.WebhookRetry.Timeout);
            using HttpResponseMessage response = await clients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            error = response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            error = ex is OperationCanceledException ? "timed out" : ex.Message;
        }

        bool recorded;
        int attempts = delivery.Attempts + 1;
        if (error is null)
        {
            recorded = await outbox.DeliveredAsync(delivery, CancellationToken.None);
        }
        else if (attempts >= options.WebhookRetry.MaxAttempts)
        {
            LogDeadLetter(delivery.Id, delivery.Event, attempts, error);
            recorded = await outbox.DeadLetterAsync(delivery, attempts, error, CancellationToken.None);
        }
        else
        {
            TimeSpan delay = options.WebhookRetry.InitialDelay * Math.Pow(2, attempts - 1);
            delay = delay > options.WebhookRetry.MaxDelay ? options.WebhookRetry.MaxDelay : delay;
            recorded = await outbox.RetryLaterAsync(delivery, attempts, time.GetUtcNow() + delay, error, CancellationToken.None);
        }

        if (!recorded)
        {
            LogClaimLost(delivery.Id, delivery.Event);
        }
    }

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The webhook dispatcher failed; it goes on in a second")]
    private partial void LogLoopFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} ({Event}): its claim ran out before the outcome was stored; it will be sent again")]
    private partial void LogClaimLost(long deliveryId, string @event);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} ({Event}) failed {Attempts} times ({Error}); moved to the dead-letter list")]
    private partial void LogDeadLetter(long deliveryId, string @event, int attempts, string error);
}
