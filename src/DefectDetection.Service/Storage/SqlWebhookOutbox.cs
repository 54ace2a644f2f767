using System.Data.Common;

namespace DefectDetection.Service.Storage;

/// <summary>
/// The webhook outbox over SQL, shared by the SQLite and PostgreSQL stores (both take <c>@name</c> parameters). A claim
/// leases due deliveries to one dispatcher by moving their <c>next_at</c> to the lease's end and writing a new claim
/// token; an outcome is recorded only under the token that claimed the delivery.
/// </summary>
internal abstract class SqlWebhookOutbox : IWebhookOutbox
{
    private const string Columns = "id, url, event, payload, attempts, next_at, created_at, last_error, claim";
    private const string Claimed = "WHERE id = @id AND claim = @claim AND state = 'pending'";

    /// <summary>
    /// What locks the rows a claim reads: PostgreSQL's <c>FOR UPDATE SKIP LOCKED</c> (concurrent claimers skip each
    /// other's rows, and a row another claimer has just leased fails the re-checked <c>next_at</c> condition); empty for
    /// SQLite, which has one writer.
    /// </summary>
    protected abstract string ClaimRowLock { get; }

    /// <summary>An open connection.</summary>
    protected abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Runs a command in a write transaction, committed when the body returns.</summary>
    protected abstract Task<T> InTransactionAsync<T>(Func<DbCommand, Task<T>> body, CancellationToken cancellationToken);

    public Task EnqueueAsync(IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async cmd =>
        {
            await InsertDeliveriesAsync(cmd, deliveries, cancellationToken);
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(DateTimeOffset now, int max, TimeSpan lease, CancellationToken cancellationToken = default) =>
        InTransactionAsync(cmd =>
        {
            cmd.CommandText = $"""
                UPDATE webhook_outbox SET claim = @claim, next_at = @until
                WHERE id IN (SELECT id FROM webhook_outbox WHERE state = 'pending' AND next_at <= @now ORDER BY next_at, id LIMIT @max {ClaimRowLock})
                RETURNING {Columns}
                """;
            Add(cmd, "@claim", Guid.NewGuid().ToString("N"));
            Add(cmd, "@until", (now + lease).ToUnixTimeMilliseconds());
            Add(cmd, "@now", now.ToUnixTimeMilliseconds());
            Add(cmd, "@max", max);
            return StoreRows.ReadDeliveriesAsync(cmd, cancellationToken);
        }, cancellationToken);

    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken = default)
    {
        await using DbConnection c = await OpenConnectionAsync(cancellationToken);
        await using DbCommand cmd = c.CreateCommand();
        cmd.CommandText = "SELECT MIN(next_at) FROM webhook_outbox WHERE state = 'pending'";
        return await cmd.ExecuteScalarAsync(cancellationToken) is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    public Task<bool> DeliveredAsync(WebhookDelivery claimed, CancellationToken cancellationToken = default) =>
        OutcomeAsync($"UPDATE webhook_outbox SET state = 'delivered', claim = NULL {Claimed}", claimed, cancellationToken);

    public Task<bool> RetryLaterAsync(WebhookDelivery claimed, int attempts, DateTimeOffset nextAttemptAt, string error, CancellationToken cancellationToken = default) =>
        OutcomeAsync($"UPDATE webhook_outbox SET attempts = @attempts, next_at = @next, last_error = @error, claim = NULL {Claimed}", claimed, cancellationToken,
            ("@attempts", attempts), ("@next", nextAttemptAt.ToUnixTimeMilliseconds()), ("@error", error));

    public Task<bool> DeadLetterAsync(WebhookDelivery claimed, int attempts, string error, CancellationToken cancellationToken = default) =>
        OutcomeAsync($"UPDATE webhook_outbox SET state = 'dead', attempts = @attempts, last_error = @error, claim = NULL {Claimed}", claimed, cancellationToken,
            ("@attempts", attempts), ("@error", error));

    public async Task<IReadOnlyList<WebhookDelivery>> DeadLettersAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using DbConnection c = await OpenConnectionAsync(cancellationToken);
        await using DbCommand cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM webhook_outbox WHERE state = 'dead' ORDER BY id DESC LIMIT @limit";
        Add(cmd, "@limit", limit);
        return await StoreRows.ReadDeliveriesAsync(cmd, cancellationToken);
    }

    /// <summary>Adds deliveries within the transaction of another write (a result, an alarm transition).</summary>
    protected static async Task InsertDeliveriesAsync(DbCommand within, IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken)
    {
        foreach (WebhookDelivery d in deliveries)
        {
            await using DbCommand cmd = within.Connection!.CreateCommand();
            cmd.Transaction = within.Transaction;
            cmd.CommandText = "INSERT INTO webhook_outbox (url, event, payload, state, attempts, next_at, created_at) VALUES (@url, @event, @payload, 'pending', 0, @next, @created)";
            Add(cmd, "@url", d.Url);
            Add(cmd, "@event", d.Event);
            Add(cmd, "@payload", d.Payload);
            Add(cmd, "@next", d.NextAttemptAt.ToUnixTimeMilliseconds());
            Add(cmd, "@created", d.CreatedAt.ToUnixTimeMilliseconds());
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private Task<bool> OutcomeAsync(string sql, WebhookDelivery claimed, CancellationToken cancellationToken, params (string Name, object Value)[] parameters) =>
        InTransactionAsync(async cmd =>
        {
            cmd.CommandText = sql;
            Add(cmd, "@id", claimed.Id);
            Add(cmd, "@claim", claimed.Claim ?? throw new ArgumentException("The delivery was not claimed (ClaimDueAsync).", nameof(claimed)));
            foreach ((string name, object value) in parameters)
            {
                Add(cmd, name, value);
            }

            return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    private static void Add(DbCommand cmd, string name, object value)
    {
        DbParameter p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }
}
