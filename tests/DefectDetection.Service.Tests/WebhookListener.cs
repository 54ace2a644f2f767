using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace DefectDetection.Service.Tests;

/// <summary>
/// A real local HTTP listener that records webhook deliveries and answers with a chosen status (or what
/// <see cref="Respond"/> decides, after as long as it likes). Requests are handled concurrently; the most requests for
/// one delivery id in flight at once is kept in <see cref="MaxInFlightPerDelivery"/>.
/// </summary>
internal sealed class WebhookListener : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public WebhookListener()
    {
        int port = FreePort();
        Url = $"http://127.0.0.1:{port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public int Status { get; set; } = 200;

    /// <summary>When set, decides each answer's status (it may wait first); otherwise <see cref="Status"/> at once.</summary>
    public Func<Delivery, Task<int>>? Respond { get; set; }

    public int MaxInFlightPerDelivery => _maxInFlight;

    private readonly ConcurrentDictionary<string, int> _inFlight = new();
    private int _maxInFlight;

    public ConcurrentQueue<Delivery> Received { get; } = new();

    public sealed record Delivery(string? Event, string? Id, string? Timestamp, string? Signature, byte[] Body)
    {
        /// <summary>When the request arrived.</summary>
        public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;

        /// <summary>The sender's User-Agent header.</summary>
        public string? Agent { get; init; }
    }

    public async Task<List<Delivery>> WaitAsync(Func<List<Delivery>, bool> done, int timeoutMs = 30_000)
    {
        DateTime end = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!done(Received.ToList()))
        {
            Assert.True(DateTime.UtcNow < end, $"webhooks not received in time; got {Received.Count}");
            await Task.Delay(25);
        }

        return Received.ToList();
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        string id = ctx.Request.Headers["X-Defect-Delivery"] ?? "";
        int inFlight = _inFlight.AddOrUpdate(id, 1, (_, n) => n + 1);
        InterlockedMax(ref _maxInFlight, inFlight);
        try
        {
            using MemoryStream body = new();
            await ctx.Request.InputStream.CopyToAsync(body);
            Delivery d = new(ctx.Request.Headers["X-Defect-Event"], id, ctx.Request.Headers["X-Defect-Timestamp"], ctx.Request.Headers["X-Defect-Signature"], body.ToArray())
            {
                Agent = ctx.Request.UserAgent,
            };
            Received.Enqueue(d);
            int status = Respond is { } respond ? await respond(d) : Status;
            ctx.Response.StatusCode = status;
            ctx.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException or IOException)
        {
            // the sender gave up (or the listener stopped)
        }
        finally
        {
            _inFlight.AddOrUpdate(id, 0, (_, n) => n - 1);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private static int FreePort()
    {
        using TcpListener l = new(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(2000);
    }
}
