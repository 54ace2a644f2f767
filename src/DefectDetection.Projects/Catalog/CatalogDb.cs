using System.Globalization;
using DefectDetection.Projects.Migrations;
using Microsoft.Data.Sqlite;

namespace DefectDetection.Projects.Catalog;

/// <summary>
/// The SQLite catalog of a project: one connection in WAL mode with a busy timeout, so that several processes can read
/// and write one project; each change runs in a <c>BEGIN IMMEDIATE</c> transaction that also advances the project's
/// revision.
/// </summary>
internal sealed class CatalogDb : IDisposable
{
    private readonly SqliteConnection _connection;

    // The transaction in progress on this connection: commands created without one join it.
    private SqliteTransaction? _current;

    private CatalogDb(string path, SqliteConnection connection)
    {
        Path = path;
        _connection = connection;
    }

    /// <summary>The catalog file.</summary>
    public string Path { get; }

    /// <summary>The open connection.</summary>
    public SqliteConnection Connection => _connection;

    /// <summary>Opens (or, with <paramref name="create"/>, creates) the catalog and migrates it to the current schema.</summary>
    /// <exception cref="ProjectException">The catalog was written by a newer version.</exception>
    public static CatalogDb Open(string path, bool create, int? migrateTo = null)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 60,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA busy_timeout = 60000;");
            int version = CatalogSchema.VersionOf(connection);
            if (version > CatalogSchema.Current)
            {
                throw CatalogSchema.Newer(path, version);
            }

            Execute(connection, "PRAGMA journal_mode = WAL;");
            Execute(connection, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
            CatalogSchema.Migrate(connection, path, migrateTo);
            return new CatalogDb(path, connection);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 26 or 11)
        {
            connection.Dispose();
            throw new ProjectException($"'{path}' is not a project catalog (SQLite: {e.Message}).", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>A command on the connection (inside <paramref name="transaction"/> when given).</summary>
    public SqliteCommand Command(string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction ?? _current;
        foreach ((string name, object? value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>Runs a statement; returns the rows changed.</summary>
    public int Execute(string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using SqliteCommand command = Command(sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row, or null.</summary>
    public object? Scalar(string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using SqliteCommand command = Command(sql, transaction, parameters);
        object? value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>Reads every row with <paramref name="map"/>.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using SqliteCommand command = Command(sql, transaction, parameters);
        using SqliteDataReader reader = command.ExecuteReader();
        List<T> rows = [];
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one <c>BEGIN IMMEDIATE</c> transaction (waiting for another writer up to the busy
    /// timeout) and advances the revision; commits when it returns, rolls back when it throws.
    /// </summary>
    public T Write<T>(Func<SqliteTransaction, T> work)
    {
        using SqliteTransaction transaction = _connection.BeginTransaction(deferred: false);
        _current = transaction;
        try
        {
            T result = work(transaction);
            Execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'", transaction);
            transaction.Commit();
            return result;
        }
        finally
        {
            _current = null;
        }
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction.</summary>
    public void Write(Action<SqliteTransaction> work) => Write(t =>
    {
        work(t);
        return 0;
    });

    /// <summary>Reads several statements as one consistent snapshot.</summary>
    public T Read<T>(Func<SqliteTransaction, T> work)
    {
        if (_current is not null)
        {
            return work(_current); // already inside a transaction
        }

        using SqliteTransaction transaction = _connection.BeginTransaction(deferred: true);
        _current = transaction;
        try
        {
            T result = work(transaction);
            transaction.Commit();
            return result;
        }
        finally
        {
            _current = null;
        }
    }

    /// <summary>A meta value, or null.</summary>
    public string? Meta(string key, SqliteTransaction? transaction = null) =>
        Scalar("SELECT value FROM meta WHERE key = $k", transaction, ("$k", key)) as string;

    /// <summary>Sets a meta value.</summary>
    public void SetMeta(string key, string? value, SqliteTransaction transaction)
    {
        if (value is null)
        {
            Execute("DELETE FROM meta WHERE key = $k", transaction, ("$k", key));
        }
        else
        {
            Execute("INSERT INTO meta(key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value", transaction, ("$k", key), ("$v", value));
        }
    }

    /// <summary>Now, as stored: ISO 8601 UTC to the millisecond.</summary>
    public static string Now() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>A stored time back as UTC.</summary>
    public static DateTime Time(string text) => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    public void Dispose()
    {
        _connection.Dispose();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
