using System.Data.Common;

namespace DefectDetection.Service.Storage;

/// <summary>
/// The webhook outbox's statements, shared by the SQLite and PostgreSQL stores (both take <c>@name</c> parameters).
/// A claim leases due deliveries to one dispatcher by moving their <c>next_at</c> to the lease's end and writing a new
/// claim token; an outcome is recorded only under the token that claimed the delivery.
/// </summary>
internal static class OutboxSql
{
    public const string Columns = "id, url, event, payload, attempts, next_at, created_at, last_error, claim";

    public const string NextDue = "SELECT MIN(next_at) FROM webhook_outbox WHERE state = 'pending'";

    public const string DeadLetters = $"SELECT {Columns} FROM webhook_outbox WHERE state = 'dead' ORDER BY id DESC LIMIT @limit";

    private const string Claimed = "WHERE id = @id AND claim = @claim AND state = 'pending'";

    public const string Delivered = $"UPDATE webhook_outbox SET state = 'delivered', claim = NULL {Claimed}";

    public const string RetryLater = $"UPDATE webhook_outbox SET attempts = @attempts, next_at = @next, last_error = @error, claim = NULL {Claimed}";

    public const string DeadLetter = $"UPDATE webhook_outbox SET state = 'dead', attempts = @attempts, last_error = @error, claim = NULL {Claimed}";

    /// <summary>
    /// Prepares the claim of due deliveries. <paramref name="rowLock"/> is PostgreSQL's <c>FOR UPDATE SKIP LOCKED</c>
    /// (concurrent claimers skip each other's rows, and a row another claimer just leased fails the re-checked
    /// <c>next_at</c> condition); SQLite has one writer and needs none.
    /// </summary>
    public static void PrepareClaim(DbCommand cmd, string rowLock, DateTimeOffset now, int max, TimeSpan lease)
    {
        cmd.CommandText = $"""
            UPDATE webhook_outbox SET claim = @claim, next_at = @until
            WHERE id IN (SELECT id FROM webhook_outbox WHERE state = 'pending' AND next_at <= @now ORDER BY next_at, id LIMIT @max {rowLock})
            RETURNING {Columns}
            """;
        Add(cmd, "@claim", Guid.NewGuid().ToString("N"));
        Add(cmd, "@until", (now + lease).ToUnixTimeMilliseconds());
        Add(cmd, "@now", now.ToUnixTimeMilliseconds());
        Add(cmd, "@max", max);
    }

    /// <summary>The parameters of <see cref="Delivered"/>, <see cref="RetryLater"/> and <see cref="DeadLetter"/>.</summary>
    public static (string Name, object Value)[] Outcome(WebhookDelivery claimed, int? attempts = null, DateTimeOffset? next = null, string? error = null)
    {
        List<(string, object)> p = [("@id", claimed.Id), ("@claim", claimed.Claim ?? throw new ArgumentException("The delivery was not claimed (ClaimDueAsync).", nameof(claimed)))];
        if (attempts is { } a)
        {
            p.Add(("@attempts", a));
        }

        if (next is { } n)
        {
            p.Add(("@next", n.ToUnixTimeMilliseconds()));
        }

        if (error is not null)
        {
            p.Add(("@error", error));
        }

        return [.. p];
    }

    private static void Add(DbCommand cmd, string name, object value)
    {
        DbParameter p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }
}
