using System.Globalization;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Storage;
using Npgsql;

namespace DefectDetection.Service.Postgres;

/// <summary>
/// The scaled-out store: inspections, API keys, the webhook outbox and alarm states in PostgreSQL, shared by the API
/// and worker processes. The same idempotent writes as the embedded store (a result is stored only over a queued
/// row, guarded by its status), plus <see cref="ClaimStaleAsync"/> for the sweeper that republishes queued rows whose
/// message was lost.
/// </summary>
internal sealed class PostgresInspectionStore : SqlWebhookOutbox, IResultStore, IApiKeyStore, IDisposable
{
    private const string Columns = "seq, id, status, camera, line, facility, part_id, captured_at, idempotency_key, received_at, image_path, attempts, completed_at, model_version, is_defect, label, score, prediction, error";
    private readonly NpgsqlDataSource _source;
    private readonly TimeProvider _time;

    public PostgresInspectionStore(string connectionString, TimeProvider time)
    {
        _source = NpgsqlDataSource.Create(connectionString);
        _time = time;
    }

    public Task InitializeAsync(CancellationToken cancellationToken = default) =>
        InWriteAsync(async cmd =>
        {
            // Processes starting together: one creates the tables, the others wait on the lock and find them.
            cmd.CommandText = """
                SELECT pg_advisory_xact_lock(7345019);
                CREATE TABLE IF NOT EXISTS inspections (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    camera TEXT, line TEXT, facility TEXT, part_id TEXT,
                    captured_at BIGINT,
                    idempotency_key TEXT UNIQUE,
                    received_at BIGINT NOT NULL,
                    at BIGINT NOT NULL,
                    image_path TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    touched_at BIGINT NOT NULL DEFAULT 0,
                    published BOOLEAN NOT NULL DEFAULT FALSE,
                    completed_at BIGINT, model_version TEXT, is_defect BIGINT, label TEXT, score DOUBLE PRECISION, prediction TEXT, error TEXT);
                CREATE INDEX IF NOT EXISTS ix_inspections_line ON inspections (line, at);
                CREATE INDEX IF NOT EXISTS ix_inspections_camera ON inspections (camera, at);
                CREATE INDEX IF NOT EXISTS ix_inspections_status ON inspections (status, seq);
                CREATE TABLE IF NOT EXISTS api_keys (
                    key_id TEXT PRIMARY KEY, name TEXT NOT NULL, hash BYTEA NOT NULL, scopes BIGINT NOT NULL, created_at BIGINT NOT NULL);
                CREATE TABLE IF NOT EXISTS webhook_outbox (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    url TEXT NOT NULL, event TEXT NOT NULL, payload TEXT NOT NULL,
                    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                    next_at BIGINT NOT NULL, created_at BIGINT NOT NULL, last_error TEXT, claim TEXT);
                ALTER TABLE webhook_outbox ADD COLUMN IF NOT EXISTS claim TEXT;
                CREATE INDEX IF NOT EXISTS ix_outbox_due ON webhook_outbox (state, next_at);
                CREATE TABLE IF NOT EXISTS alarm_states (
                    rule TEXT NOT NULL, scope_value TEXT NOT NULL, fired BIGINT NOT NULL, changed_at BIGINT NOT NULL,
                    PRIMARY KEY (rule, scope_value));
                """;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task<(string Id, bool Created)> AddQueuedAsync(NewInspection inspection, CancellationToken cancellationToken = default) =>
        InWriteAsync(async cmd =>
        {
            ImageMetadata m = inspection.Metadata;
            if (m.IdempotencyKey is { } key && await ExistingAsync(cmd.Connection!, key, cancellationToken, cmd.Transaction) is { } existing)
            {
                return (existing, false);
            }

            cmd.CommandText = """
                INSERT INTO inspections (id, status, camera, line, facility, part_id, captured_at, idempotency_key, received_at, at, image_path, touched_at)
                VALUES (@id, 'queued', @camera, @line, @facility, @part, @captured, @key, @received, @at, @path, @received)
                ON CONFLICT (idempotency_key) DO NOTHING
                """;
            cmd.Parameters.AddWithValue("@id", inspection.Id);
            cmd.Parameters.AddWithValue("@camera", (object?)m.Camera ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@line", (object?)m.Line ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@facility", (object?)m.Facility ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@part", (object?)m.PartId ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@captured", m.CapturedAt is { } t ? t.ToUnixTimeMilliseconds() : DBNull.Value);
            cmd.Parameters.AddWithValue("@key", (object?)m.IdempotencyKey ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@received", inspection.ReceivedAt.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("@at", (m.CapturedAt ?? inspection.ReceivedAt).ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("@path", inspection.ImagePath);
            if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 0 && m.IdempotencyKey is { } raced)
            {
                return (await ExistingAsync(cmd.Connection!, raced, cancellationToken, cmd.Transaction) ?? inspection.Id, false);
            }

            return (inspection.Id, true);
        }, cancellationToken);

    public async Task<string?> FindByIdempotencyKeyAsync(string key, CancellationToken cancellationToken = default)
    {
        await using NpgsqlConnection c = await OpenAsync(cancellationToken);
        return await ExistingAsync(c, key, cancellationToken);
    }

    private static async Task<string?> ExistingAsync(NpgsqlConnection c, string key, CancellationToken cancellationToken, NpgsqlTransaction? tx = null)
    {
        await using NpgsqlCommand cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT id FROM inspections WHERE idempotency_key = @key";
        cmd.Parameters.AddWithValue("@key", key);
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    public Task<int> StartAttemptAsync(string id, CancellationToken cancellationToken = default) =>
        InWriteAsync(async cmd =>
        {
            cmd.CommandText = "UPDATE inspections SET attempts = attempts + 1, touched_at = @now WHERE id = @id RETURNING attempts";
            cmd.Parameters.AddWithValue("@id", id);
            cmd.Parameters.AddWithValue("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            return Convert.ToInt32(await cmd.ExecuteScalarAsync(cancellationToken) ?? 0, CultureInfo.InvariantCulture);
        }, cancellationToken);

    public Task AbandonAttemptAsync(string id, CancellationToken cancellationToken = default) =>
        WriteAsync("UPDATE inspections SET attempts = GREATEST(attempts - 1, 0) WHERE id = @id AND status = 'queued'", cancellationToken, ("@id", id));

    public Task<bool> CompleteAsync(string id, InspectionOutcome outcome, IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken = default) =>
        InWriteAsync(async cmd =>
        {
            cmd.CommandText = """
                UPDATE inspections SET status = @status, completed_at = @completed, model_version = @version, is_defect = @defect,
                    label = @label, score = @score, prediction = @prediction, error = @error
                WHERE id = @id AND status = 'queued'
                """;
            cmd.Parameters.AddWithValue("@id", id);
            cmd.Parameters.AddWithValue("@status", StoreRows.StatusText(outcome.Status));
            cmd.Parameters.AddWithValue("@completed", outcome.CompletedAt.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("@version", (object?)outcome.ModelVersion ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@defect", outcome.IsDefect is { } d ? (d ? 1 : 0) : DBNull.Value);
            cmd.Parameters.AddWithValue("@label", (object?)outcome.Label ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@score", outcome.Score is { } s && double.IsFinite(s) ? s : DBNull.Value);
            cmd.Parameters.AddWithValue("@prediction", (object?)outcome.PredictionJson ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@error", (object?)outcome.Error ?? DBNull.Value);
            if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false; // already has its result: nothing is written, no webhook is sent again
            }

            await InsertDeliveriesAsync(cmd, deliveries, cancellationToken);
            return true;
        }, cancellationToken);

    public async Task<InspectionRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        await using NpgsqlConnection c = await OpenAsync(cancellationToken);
        await using NpgsqlCommand cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM inspections WHERE id = @id";
        cmd.Parameters.AddWithValue("@id", id);
        IReadOnlyList<InspectionRecord> rows = await StoreRows.ReadRecordsAsync(cmd, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<IReadOnlyList<InspectionRecord>> QueryAsync(ResultQuery query, CancellationToken cancellationToken = default)
    {
        await using NpgsqlConnection c = await OpenAsync(cancellationToken);
        await using NpgsqlCommand cmd = c.CreateCommand();
        List<string> where = [];
        Filter(cmd, where, "line", query.Line);
        Filter(cmd, where, "camera", query.Camera);
        TimeRange(cmd, where, query.From, query.To);
        if (query.BeforeSequence is { } before)
        {
            where.Add("seq < @before");
            cmd.Parameters.AddWithValue("@before", before);
        }

        switch (query.Verdict)
        {
            case VerdictFilter.Normal: where.Add("status = 'done' AND is_defect = 0"); break;
            case VerdictFilter.Anomaly: where.Add("status = 'done' AND is_defect = 1"); break;
            case VerdictFilter.Invalid: where.Add("status IN ('invalid', 'failed')"); break;
            case VerdictFilter.Pending: where.Add("status = 'queued'"); break;
        }

        cmd.CommandText = $"SELECT {Columns} FROM inspections {Where(where)} ORDER BY seq DESC LIMIT @limit";
        cmd.Parameters.AddWithValue("@limit", query.Limit);
        return await StoreRows.ReadRecordsAsync(cmd, cancellationToken);
    }

    public async Task<IReadOnlyList<StatsRow>> StatsAsync(StatsQuery query, CancellationToken cancellationToken = default)
    {
        long bucketMs = query.Bucket == StatsBucket.Hour ? 3_600_000 : 86_400_000;
        await using NpgsqlConnection c = await OpenAsync(cancellationToken);
        await using NpgsqlCommand cmd = c.CreateCommand();
        List<string> where = ["status <> 'queued'"];
        Filter(cmd, where, "line", query.Line);
        TimeRange(cmd, where, query.From, query.To);
        cmd.CommandText = $"""
            SELECT line, (at / @bucket) * @bucket AS b, COUNT(*),
                   SUM(CASE WHEN status = 'done' AND is_defect = 1 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN status IN ('invalid', 'failed') THEN 1 ELSE 0 END)
            FROM inspections {Where(where)} GROUP BY line, b ORDER BY b, line
            """;
        cmd.Parameters.AddWithValue("@bucket", bucketMs);
        List<StatsRow> rows = [];
        await using NpgsqlDataReader r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            rows.Add(new StatsRow(r.IsDBNull(0) ? null : r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4)));
        }

        return rows;
    }

    public async Task<IReadOnlyList<InspectionRecord>> PendingAsync(CancellationToken cancellationToken = default)
    {
        await using NpgsqlConnection c = await OpenAsync(cancellationToken);
        await using NpgsqlCommand cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM inspections WHERE status = 'queued' ORDER BY seq";
        return await StoreRows.ReadRecordsAsync(cmd, cancellationToken);
    }

    public async Task<RecentCounts> RecentAsync(AlarmScope scope, string value, int? last, DateTimeOffset? since, CancellationToken cancellationToken = default)
    {
        string column = scope == AlarmScope.Line ? "line" : "camera";
        await using NpgsqlConnection c = await OpenAsync(cancellationToken);
        await using NpgsqlCommand cmd = c.CreateCommand();
        string inner = since is { } s
            ? $"SELECT status, is_defect FROM inspections WHERE {column} = @value AND status <> 'queued' AND completed_at >= @since"
            : $"SELECT status, is_defect FROM inspections WHERE {column} = @value AND status <> 'queued' ORDER BY completed_at DESC, seq DESC LIMIT @last";
        cmd.CommandText = $"""
            SELECT SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN status = 'done' AND is_defect = 1 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN status IN ('invalid', 'failed') THEN 1 ELSE 0 END)
            FROM ({inner}) AS recent
            """;
        cmd.Parameters.AddWithValue("@value", value);
        cmd.Parameters.AddWithValue("@since", since?.ToUnixTimeMilliseconds() ?? 0);
        cmd.Parameters.AddWithValue("@last", last ?? 0);
        await using NpgsqlDataReader r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        return new RecentCounts(r.IsDBNull(0) ? 0 : r.GetInt64(0), r.IsDBNull(1) ? 0 : r.GetInt64(1), r.IsDBNull(2) ? 0 : r.GetInt64(2));
    }

    public async Task<bool> GetAlarmAsync(string rule, string scopeValue, CancellationToken cancellationToken = default)
    {
        await using NpgsqlConnection c = await OpenAsync(cancellationToken);
        await using NpgsqlCommand cmd = c.CreateCommand();
        cmd.CommandText = "SELECT fired FROM alarm_states WHERE rule = @rule AND scope_value = @value";
        cmd.Parameters.AddWithValue("@rule", rule);
        cmd.Parameters.AddWithValue("@value", scopeValue);
        return await cmd.ExecuteScalarAsync(cancellationToken) is long fired && fired != 0;
    }

    public Task SetAlarmAsync(string rule, string scopeValue, bool fired, IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken = default) =>
        InWriteAsync(async cmd =>
        {
            cmd.CommandText = """
                INSERT INTO alarm_states (rule, scope_value, fired, changed_at) VALUES (@rule, @value, @fired, @now)
                ON CONFLICT (rule, scope_value) DO UPDATE SET fired = excluded.fired, changed_at = excluded.changed_at
                """;
            cmd.Parameters.AddWithValue("@rule", rule);
            cmd.Parameters.AddWithValue("@value", scopeValue);
            cmd.Parameters.AddWithValue("@fired", fired ? 1 : 0);
            cmd.Parameters.AddWithValue("@now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await cmd.ExecuteNonQueryAsync(cancellationToken);
            await InsertDeliveriesAsync(cmd, deliveries, cancellationToken);
            return true;
        }, cancellationToken);

    // ---- API keys ----

    public Task AddKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default) =>
        WriteAsync("INSERT INTO api_keys (key_id, name, hash, scopes, created_at) VALUES (@id, @name, @hash, @scopes, @created)", cancellationToken,
            ("@id", key.KeyId), ("@name", key.Name), ("@hash", key.Hash), ("@scopes", (long)key.Scopes), ("@created", key.CreatedAt.ToUnixTimeMilliseconds()));

    public async Task<ApiKeyRecord?> FindKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        await using NpgsqlConnection c = await OpenAsync(cancellationToken);
        await using NpgsqlCommand cmd = c.CreateCommand();
        cmd.CommandText = "SELECT key_id, name, hash, scopes, created_at FROM api_keys WHERE key_id = @id";
        cmd.Parameters.AddWithValue("@id", keyId);
        await using NpgsqlDataReader r = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new ApiKeyRecord
        {
            KeyId = r.GetString(0),
            Name = r.GetString(1),
            Hash = (byte[])r.GetValue(2),
            Scopes = (ApiScopes)r.GetInt64(3),
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)),
        };
    }

    /// <summary>Records that the broker confirmed an inspection's message (the sweeper leaves it alone from now on).</summary>
    public Task MarkPublishedAsync(string id, CancellationToken cancellationToken = default) =>
        WriteAsync("UPDATE inspections SET published = TRUE WHERE id = @id", cancellationToken, ("@id", id));

    /// <summary>
    /// Claims queued inspections never confirmed as published and untouched since <paramref name="olderThan"/> (the
    /// API stopped between storing the row and the broker's confirm): marks them touched now and returns them, for
    /// the sweeper to publish. Rows locked by another sweeper are skipped.
    /// </summary>
    public Task<IReadOnlyList<InspectionRecord>> ClaimStaleAsync(DateTimeOffset olderThan, int max, CancellationToken cancellationToken = default) =>
        InWriteAsync(async cmd =>
        {
            cmd.CommandText = $"""
                UPDATE inspections SET touched_at = @now WHERE id IN (
                    SELECT id FROM inspections WHERE status = 'queued' AND NOT published AND touched_at < @cutoff ORDER BY seq LIMIT @max FOR UPDATE SKIP LOCKED)
                RETURNING {Columns}
                """;
            cmd.Parameters.AddWithValue("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("@cutoff", olderThan.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("@max", max);
            return await StoreRows.ReadRecordsAsync(cmd, cancellationToken);
        }, cancellationToken);

    public void Dispose() => _source.Dispose();

    // ---- helpers ----

    protected override string ClaimRowLock => "FOR UPDATE SKIP LOCKED";

    protected override async Task<System.Data.Common.DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) => await OpenAsync(cancellationToken);

    protected override Task<T> InTransactionAsync<T>(Func<System.Data.Common.DbCommand, Task<T>> body, CancellationToken cancellationToken) =>
        InWriteAsync(cmd => body(cmd), cancellationToken);

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) => await _source.OpenConnectionAsync(cancellationToken);

    private static async Task ExecuteAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private Task<int> WriteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters) =>
        InWriteAsync(async cmd =>
        {
            cmd.CommandText = sql;
            foreach ((string name, object value) in parameters)
            {
                cmd.Parameters.AddWithValue(name, value);
            }

            return await cmd.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    // A write in a transaction committed when the body returns (PostgreSQL orders concurrent writers itself).
    private async Task<T> InWriteAsync<T>(Func<NpgsqlCommand, Task<T>> body, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection c = await OpenAsync(cancellationToken);
        await using NpgsqlTransaction tx = await c.BeginTransactionAsync(cancellationToken);
        await using NpgsqlCommand cmd = c.CreateCommand();
        cmd.Transaction = tx;
        T result = await body(cmd);
        await tx.CommitAsync(cancellationToken);
        return result;
    }

    private static void Filter(NpgsqlCommand cmd, List<string> where, string column, string? value)
    {
        if (value is not null)
        {
            where.Add($"{column} = @{column}");
            cmd.Parameters.AddWithValue($"@{column}", value);
        }
    }

    private static void TimeRange(NpgsqlCommand cmd, List<string> where, DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is { } f)
        {
            where.Add("at >= @from");
            cmd.Parameters.AddWithValue("@from", f.ToUnixTimeMilliseconds());
        }

        if (to is { } t)
        {
            where.Add("at < @to");
            cmd.Parameters.AddWithValue("@to", t.ToUnixTimeMilliseconds());
        }
    }

    private static string Where(List<string> where) => where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
}
