using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace DefectDetection.Service.Tests;

/// <summary>A real local HTTP listener that records webhook deliveries and answers with a chosen status.</summary>
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

    public ConcurrentQueue<Delivery> Received { get; } = new();

    public sealed record Delivery(string? Event, string? Id, string? Timestamp, string? Signature, byte[] Body);

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

            using MemoryStream body = new();
            await ctx.Request.InputStream.CopyToAsync(body);
            Received.Enqueue(new Delivery(ctx.Request.Headers["X-Defect-Event"], ctx.Request.Headers["X-Defect-Delivery"], ctx.Request.Headers["X-Defect-Timestamp"], ctx.Request.Headers["X-Defect-Signature"], body.ToArray()));
            ctx.Response.StatusCode = Status;
            ctx.Response.Close();
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
