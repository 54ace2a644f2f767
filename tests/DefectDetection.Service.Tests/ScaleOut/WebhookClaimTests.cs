using System.Collections.Concurrent;
using DefectDetection.Service.Postgres;
using DefectDetection.Service.Storage;
using DefectDetection.Service.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace DefectDetection.Service.Tests.ScaleOut;

/// <summary>
/// Webhook deliveries when several processes share one PostgreSQL outbox: each store below has its own connection
/// pool, as each process has, and each dispatcher its own HTTP client (its User-Agent names it). Every attempt of a
/// delivery is claimed by exactly one dispatcher, no delivery is ever in flight twice at once, and the deliveries of a
/// claimer that died are sent again once its lease ends, not before.
/// </summary>
[Collection(ScaleOutCollection.Name)]
public sealed class WebhookClaimTests
{
    private const string Secret = "a-secret-of-some-length";

    [ScaleOutFact]
    public async Task TwoStores_ClaimingTheSameRowsAtOnce_NeverClaimOneRowTwice()
    {
        await using Outbox db = await Outbox.CreateAsync(2);
        await db.EnqueueAsync("http://127.0.0.1:9/hook", 200);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        ConcurrentBag<(int Store, long Id)> claims = [];

        // Both stores claim in small batches as fast as they can until nothing is due (at most 200 rounds: claims
        // that leave rows due would go on for ever); nothing is completed.
        await Task.WhenAll(db.Stores.Select((store, i) => Task.Run(async () =>
        {
            for (int round = 0; round < 200 && (await store.ClaimDueAsync(now, 7, TimeSpan.FromMinutes(5))) is { Count: > 0 } got; round++)
            {
                foreach (WebhookDelivery d in got)
                {
                    Assert.NotNull(d.Claim);
                    claims.Add((i, d.Id));
                }
            }
        })));

        Assert.Equal(200, claims.Count);
        Assert.Equal(200, claims.Select(c => c.Id).Distinct().Count());
        Assert.All(Enumerable.Range(0, 2), i => Assert.Contains(claims, c => c.Store == i));
        Assert.Equal(200, await db.ScalarAsync("SELECT COUNT(*) FROM webhook_outbox WHERE claim IS NOT NULL AND state = 'pending'"));

        // A claim whose lease has not ended is not due to anyone; an outcome needs the claim that leased the row.
        Assert.Empty(await db.Stores[0].ClaimDueAsync(now.AddMinutes(4), 50, TimeSpan.FromMinutes(5)));
        IReadOnlyList<WebhookDelivery> again = await db.Stores[1].ClaimDueAsync(now.AddMinutes(6), 1, TimeSpan.FromMinutes(5));
        WebhookDelivery retaken = Assert.Single(again);
        WebhookDelivery stale = retaken with { Claim = "an-earlier-claim" };
        Assert.False(await db.Stores[0].DeliveredAsync(stale));
        Assert.True(await db.Stores[1].DeliveredAsync(retaken));
        Assert.False(await db.Stores[1].DeliveredAsync(retaken));
    }

    [ScaleOutFact]
    public async Task TwoDispatchers_OverOneOutbox_SendEachAttemptOnce_NeverTwiceAtOnce()
    {
        using WebhookListener listener = new();
        ConcurrentDictionary<string, int> seen = new();
        listener.Respond = async d =>
        {
            await Task.Delay(150); // long enough for the other dispatcher to race for the same rows
            return seen.AddOrUpdate(d.Id!, 1, (_, n) => n + 1) == 1 ? 500 : 200; // each delivery fails once, then succeeds
        };
        await using Outbox db = await Outbox.CreateAsync(2);
        const int Count = 80;
        await db.EnqueueAsync(listener.Url, Count);

        await using Dispatchers dispatchers = await Dispatchers.StartAsync(db.Stores, Options(listener.Url, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5)));
        await db.WaitAsync($"SELECT COUNT(*) FROM webhook_outbox WHERE state = 'delivered'", Count, TimeSpan.FromSeconds(90));
        await Task.Delay(500); // anything sent twice would arrive now

        List<WebhookListener.Delivery> got = listener.Received.ToList();
        Assert.Equal(2 * Count, got.Count);
        Assert.All(got.GroupBy(d => d.Id), g => Assert.Equal(2, g.Count()));
        Assert.Equal(1, listener.MaxInFlightPerDelivery);
        Assert.All(got, d => Assert.True(WebhookSignature.Verify(Secret, d.Timestamp!, d.Body, d.Signature!), "signature"));
        Assert.All(Dispatchers.Agents, agent => Assert.Contains(got, d => d.Agent == agent));
        Assert.Equal(Count, await db.ScalarAsync("SELECT COUNT(*) FROM webhook_outbox WHERE state = 'delivered' AND attempts = 1 AND claim IS NULL"));
    }

    [ScaleOutFact]
    public async Task KilledClaimer_ItsDeliveryIsSentAgainWhenTheLeaseEnds_NotBefore()
    {
        TimeSpan lease = TimeSpan.FromSeconds(4);
        using WebhookListener listener = new();
        TaskCompletionSource firstArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.Respond = async d =>
        {
            if (d.Agent == Dispatchers.Agents[0])
            {
                firstArrived.TrySetResult();
                await never.Task; // the first claimer's request hangs until its process is gone
            }

            return 200;
        };
        await using Outbox db = await Outbox.CreateAsync(2);
        await db.EnqueueAsync(listener.Url, 1);
        InspectionServiceOptions options = Options(listener.Url, lease, TimeSpan.FromSeconds(2));

        // The first process claims the delivery and is killed while sending it: the claim is committed, no outcome.
        DateTimeOffset started = DateTimeOffset.UtcNow;
        Dispatchers first = await Dispatchers.StartAsync([db.Stores[0]], options);
        await firstArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        long leaseEnd = await db.ScalarAsync("SELECT next_at FROM webhook_outbox");
        Assert.True(leaseEnd >= (started + lease).ToUnixTimeMilliseconds(), "the claim did not lease the delivery");
        await first.KillAsync();
        db.Stores[0].Dispose();

        // The second process starts at once but leaves the leased delivery alone until the lease ends.
        await using Dispatchers second = await Dispatchers.StartAsync([db.Stores[1]], options, firstAgent: 1);
        await db.WaitAsync("SELECT COUNT(*) FROM webhook_outbox WHERE state = 'delivered'", 1, TimeSpan.FromSeconds(30));
        never.TrySetResult();

        List<WebhookListener.Delivery> got = listener.Received.ToList();
        Assert.Equal(2, got.Count);
        Assert.Equal(got[0].Id, got[1].Id);
        Assert.Equal(Dispatchers.Agents[1], got[1].Agent);
        Assert.True(got[1].At >= started + lease, $"sent again {(started + lease - got[1].At).TotalMilliseconds:F0} ms before the first claim's lease could have ended");
        Assert.True(got[1].At.ToUnixTimeMilliseconds() >= leaseEnd, $"sent again {leaseEnd - got[1].At.ToUnixTimeMilliseconds()} ms before the first claim's lease ended");
        Assert.Single(got, d => d.Agent == Dispatchers.Agents[1]);
    }

    private static InspectionServiceOptions Options(string url, TimeSpan lease, TimeSpan timeout) => new()
    {
        Webhooks = [new WebhookSubscription { Url = url, Secret = Secret, Events = WebhookEvents.Anomaly }],
        WebhookRetry = new WebhookRetryOptions
        {
            MaxAttempts = 4,
            InitialDelay = TimeSpan.FromMilliseconds(50),
            MaxDelay = TimeSpan.FromMilliseconds(200),
            Timeout = timeout,
            ClaimLease = lease,
        },
    };

    /// <summary>A fresh schema and one store per simulated process over it.</summary>
    private sealed class Outbox : IAsyncDisposable
    {
        private readonly string _schema;

        private Outbox(string schema, string connectionString, int stores)
        {
            _schema = schema;
            ConnectionString = connectionString;
            Stores = [.. Enumerable.Range(0, stores).Select(_ => new PostgresInspectionStore(connectionString, TimeProvider.System))];
        }

        public string ConnectionString { get; }

        public PostgresInspectionStore[] Stores { get; }

        public static async Task<Outbox> CreateAsync(int stores)
        {
            SharedInfrastructure.RequireReachable();
            string schema = "w" + Guid.NewGuid().ToString("N")[..16];
            Outbox o = new(schema, await SharedInfrastructure.NewSchemaAsync(schema), stores);
            await Task.WhenAll(o.Stores.Select(s => s.InitializeAsync()));
            return o;
        }

        public Task EnqueueAsync(string url, int count)
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            return Stores[0].EnqueueAsync([.. Enumerable.Range(0, count).Select(i => new WebhookDelivery
            {
                Url = url, Event = "anomaly", Payload = $"{{\"event\":\"anomaly\",\"n\":{i}}}", NextAttemptAt = now, CreatedAt = now,
            })]);
        }

        public async Task<long> ScalarAsync(string sql)
        {
            await using NpgsqlDataSource source = NpgsqlDataSource.Create(ConnectionString);
            await using NpgsqlCommand cmd = source.CreateCommand(sql);
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }

        public async Task WaitAsync(string countSql, long expected, TimeSpan timeout)
        {
            DateTime end = DateTime.UtcNow + timeout;
            long n;
            while ((n = await ScalarAsync(countSql)) < expected)
            {
                Assert.True(DateTime.UtcNow < end, $"{n} of {expected} after {timeout}: {countSql}");
                await Task.Delay(50);
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (PostgresInspectionStore s in Stores)
            {
                s.Dispose();
            }

            await SharedInfrastructure.DropSchemaAsync(_schema);
        }
    }

    /// <summary>Running dispatchers, one per store, each with its own HTTP client whose User-Agent names it.</summary>
    private sealed class Dispatchers : IAsyncDisposable
    {
        public static readonly string[] Agents = ["dispatcher-a", "dispatcher-b"];
        private readonly List<(ServiceProvider Services, WebhookDispatcher Dispatcher)> _running = [];

        public static async Task<Dispatchers> StartAsync(IReadOnlyList<PostgresInspectionStore> stores, InspectionServiceOptions options, int firstAgent = 0)
        {
            Dispatchers d = new();
            for (int i = 0; i < stores.Count; i++)
            {
                string agent = Agents[firstAgent + i];
                ServiceCollection services = new();
                services.AddHttpClient(WebhookDispatcher.HttpClientName, c => c.DefaultRequestHeaders.UserAgent.ParseAdd(agent));
                ServiceProvider provider = services.BuildServiceProvider();
                WebhookDispatcher dispatcher = new(options, stores[i], stores[i], provider.GetRequiredService<IHttpClientFactory>(), TimeProvider.System, NullLogger<WebhookDispatcher>.Instance);
                d._running.Add((provider, dispatcher));
                await dispatcher.StartAsync(CancellationToken.None);
            }

            return d;
        }

        /// <summary>Stops the dispatchers mid-send and drops their HTTP clients: what a killed process leaves behind.</summary>
        public async Task KillAsync()
        {
            foreach ((ServiceProvider services, WebhookDispatcher dispatcher) in _running)
            {
                await dispatcher.StopAsync(CancellationToken.None);
                dispatcher.Dispose();
                await services.DisposeAsync();
            }

            _running.Clear();
        }

        public async ValueTask DisposeAsync() => await KillAsync();
    }
}
