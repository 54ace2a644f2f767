using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using DefectDetection.Service.Postgres;
using DefectDetection.Service.Queue;
using DefectDetection.Service.ScaleOut;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace DefectDetection.Service.RabbitMq;

/// <summary>
/// The scaled-out queue: a durable RabbitMQ queue that API processes publish to (persistent messages, publisher
/// confirms: <see cref="EnqueueAsync"/> returns only once the broker holds the message) and worker processes consume
/// as competing consumers (manual acknowledgement after the result is stored, bounded prefetch). Delivery is at least
/// once; the store's idempotent writes leave one result. The connection is re-made after a broker restart; deliveries
/// of a lost connection are not acknowledged (the broker delivers them again).
/// </summary>
internal sealed partial class RabbitMqWorkQueue(ScaleOutOptions options, PostgresInspectionStore store, ILogger<RabbitMqWorkQueue> logger) : IWorkQueue, IAsyncDisposable
{
    private readonly Channel<WorkItem> _received = Channel.CreateUnbounded<WorkItem>();
    private readonly ConcurrentDictionary<WorkItem, (IChannel Channel, ulong Tag)> _unacked = new(ReferenceEqualityComparer.Instance);
    private readonly SemaphoreSlim _publishLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private IConnection? _publishConnection;
    private IChannel? _publishChannel;
    private Task? _consumer;
    private int _brokerDepth;
    private int _reserved;
    private int _disposed;

    /// <summary>Messages waiting in the broker (as last counted) plus uploads being accepted here.</summary>
    public int Depth => Volatile.Read(ref _brokerDepth) + Volatile.Read(ref _reserved) + _unacked.Count;

    public int Capacity => options.QueueCapacity;

    public bool TryReserve()
    {
        if (Volatile.Read(ref _brokerDepth) + Interlocked.Increment(ref _reserved) > Capacity)
        {
            Interlocked.Decrement(ref _reserved);
            return false;
        }

        return true;
    }

    public void CancelReservation() => Interlocked.Decrement(ref _reserved);

    public async ValueTask EnqueueAsync(WorkItem item, CancellationToken cancellationToken = default)
    {
        await PublishAsync(item, cancellationToken);
        Interlocked.Decrement(ref _reserved);
        Interlocked.Increment(ref _brokerDepth);
        try
        {
            await store.MarkPublishedAsync(item.Id, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogMarkFailed(ex, item.Id); // the sweeper publishes it once more later; the idempotent writes keep one result
        }
    }

    /// <summary>
    /// Does nothing: the broker keeps what was published across restarts, and a queued row whose message was lost is
    /// published again by the <see cref="QueueSweeper"/> (so N workers starting do not publish everything N times).
    /// </summary>
    public ValueTask RequeueAsync(WorkItem item, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask<WorkItem> DequeueAsync(CancellationToken cancellationToken)
    {
        _consumer ??= Task.Run(() => ConsumeAsync(_stopping.Token), CancellationToken.None);
        return _received.Reader.ReadAsync(cancellationToken);
    }

    public void Acknowledge(WorkItem item)
    {
        if (_unacked.TryRemove(item, out (IChannel Channel, ulong Tag) d) && d.Channel.IsOpen)
        {
            // A delivery of a closed channel is not acknowledged: the broker has queued it again.
            _ = AckAsync(d.Channel, d.Tag);
        }
    }

    /// <summary>Gives a delivery back to the broker (after a pause) because its result could not be stored; it comes again.</summary>
    public void Release(WorkItem item)
    {
        if (_unacked.TryRemove(item, out (IChannel Channel, ulong Tag) d) && d.Channel.IsOpen)
        {
            _ = NackLaterAsync(d.Channel, d.Tag);
        }
    }

    private async Task NackLaterAsync(IChannel channel, ulong tag)
    {
        try
        {
            await Task.Delay(options.ReconnectDelay, _stopping.Token);
            await channel.BasicNackAsync(tag, multiple: false, requeue: true);
        }
        catch (Exception ex)
        {
            LogAckFailed(ex); // the channel closed: the broker delivers it again anyway
        }
    }

    /// <summary>Publishes a message and waits for the broker's confirm, reconnecting once the broker is back.</summary>
    internal async Task PublishAsync(WorkItem item, CancellationToken cancellationToken)
    {
        byte[] body = Encoding.UTF8.GetBytes(string.Join('\n', item.Id, item.ReceivedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), item.ImagePath));
        BasicProperties properties = new() { Persistent = true, MessageId = item.Id, ContentType = "text/plain" };
        for (int attempt = 1; ; attempt++)
        {
            await _publishLock.WaitAsync(cancellationToken);
            try
            {
                if (_publishChannel is not { IsOpen: true })
                {
                    await ClosePublisherAsync();
                    _publishConnection = await Factory().CreateConnectionAsync("defect-publisher", cancellationToken);
                    _publishChannel = await _publishConnection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
                    await DeclareAsync(_publishChannel, cancellationToken);
                }

                // With confirmation tracking this returns once the broker confirmed the message (and throws on a nack).
                await _publishChannel.BasicPublishAsync("", options.QueueName, mandatory: true, properties, body, cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && attempt < options.PublishAttempts)
            {
                LogPublishRetry(ex, item.Id, attempt);
                await ClosePublisherAsync();
            }
            finally
            {
                _publishLock.Release();
            }

            await Task.Delay(options.ReconnectDelay, cancellationToken);
        }
    }

    /// <summary>Counts the messages waiting in the broker (for <see cref="Depth"/> and the capacity check).</summary>
    internal async Task RefreshDepthAsync(CancellationToken cancellationToken)
    {
        await _publishLock.WaitAsync(cancellationToken);
        try
        {
            if (_publishChannel is { IsOpen: true } channel)
            {
                QueueDeclareOk ok = await channel.QueueDeclarePassiveAsync(options.QueueName, cancellationToken);
                Volatile.Write(ref _brokerDepth, (int)Math.Min(ok.MessageCount, int.MaxValue));
            }
        }
        finally
        {
            _publishLock.Release();
        }
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using IConnection connection = await Factory().CreateConnectionAsync("defect-worker", stoppingToken);
                await using IChannel channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                await DeclareAsync(channel, stoppingToken);
                await channel.BasicQosAsync(0, (ushort)options.Prefetch, global: false, stoppingToken);
                TaskCompletionSource closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
                channel.ChannelShutdownAsync += (_, e) =>
                {
                    closed.TrySetResult();
                    return Task.CompletedTask;
                };
                AsyncEventingBasicConsumer consumer = new(channel);
                consumer.ReceivedAsync += async (_, e) =>
                {
                    WorkItem? item = Parse(e.Body.Span);
                    if (item is null)
                    {
                        await channel.BasicRejectAsync(e.DeliveryTag, requeue: false, CancellationToken.None); // not ours: dropped
                        return;
                    }

                    _unacked[item] = (channel, e.DeliveryTag);
                    await _received.Writer.WriteAsync(item, CancellationToken.None);
                };
                await channel.BasicConsumeAsync(options.QueueName, autoAck: false, consumer, stoppingToken);
                LogConsuming(options.QueueName, options.Prefetch);
                await closed.Task.WaitAsync(stoppingToken);
                LogConnectionLost();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogConnectFailed(ex);
            }

            await Task.Delay(options.ReconnectDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static WorkItem? Parse(ReadOnlySpan<byte> body)
    {
        string[] parts = Encoding.UTF8.GetString(body).Split('\n', 3);
        return parts.Length == 3 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms)
            ? new WorkItem(parts[0], parts[2], DateTimeOffset.FromUnixTimeMilliseconds(ms))
            : null;
    }

    private Task DeclareAsync(IChannel channel, CancellationToken cancellationToken) =>
        channel.QueueDeclareAsync(options.QueueName, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken);

    private ConnectionFactory Factory() => new()
    {
        Uri = new Uri(options.RabbitMqUri),
        AutomaticRecoveryEnabled = false, // re-made here, so that no delivery tag of a lost channel is acknowledged
        RequestedHeartbeat = TimeSpan.FromSeconds(10),
    };

    private async Task AckAsync(IChannel channel, ulong tag)
    {
        try
        {
            await channel.BasicAckAsync(tag, multiple: false);
        }
        catch (Exception ex)
        {
            LogAckFailed(ex);
        }
    }

    private async Task ClosePublisherAsync()
    {
        IChannel? channel = _publishChannel;
        IConnection? connection = _publishConnection;
        _publishChannel = null;
        _publishConnection = null;
        try
        {
            if (channel is not null)
            {
                await channel.DisposeAsync();
            }

            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
        catch (Exception ex)
        {
            LogAckFailed(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return; // registered as itself and as IWorkQueue: disposed by both
        }

        await _stopping.CancelAsync();
        if (_consumer is { } consumer)
        {
            await consumer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await ClosePublisherAsync();
        _stopping.Dispose();
        _publishLock.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing image {Id} failed (attempt {Attempt}); reconnecting")]
    private partial void LogPublishRetry(Exception ex, string id, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Image {Id} was published but could not be marked so; the sweeper publishes it again")]
    private partial void LogMarkFailed(Exception ex, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming queue {Queue} (prefetch {Prefetch})")]
    private partial void LogConsuming(string queue, int prefetch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The broker connection was lost; reconnecting (unacknowledged deliveries come again)")]
    private partial void LogConnectionLost();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connecting to the broker failed; retrying")]
    private partial void LogConnectFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing a broker channel failed")]
    private partial void LogAckFailed(Exception ex);
}
