using Microsoft.Data.Sqlite;

namespace DefectDetection.Service.Dashboard;

/// <summary>
/// The default <see cref="IVerificationSink"/>: a SQLite file of its own beside the results. The hook for the
/// project's training set (DefectDetection.Projects) belongs here: when <see cref="Verification.AddToTrainingSet"/>
/// is set, a project sink would copy the image under its true label.
/// </summary>
internal sealed class SqliteVerificationSink : IVerificationSink
{
    private readonly string _connection;

    public SqliteVerificationSink(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connection = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        using SqliteConnection c = Open();
        using SqliteCommand cmd = c.CreateCommand();
        cmd.CommandText = """
            CREATE TABLE IF NOT EXISTS verifications (
              result_id TEXT PRIMARY KEY, correct INTEGER NOT NULL, true_label TEXT NOT NULL, image_path TEXT NOT NULL,
              add_to_training INTEGER NOT NULL, verified_by TEXT NOT NULL, verified_at TEXT NOT NULL)
            """;
        cmd.ExecuteNonQuery();
    }

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, "verifications.db");

    public async Task RecordAsync(Verification verification, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verification);
        await using SqliteConnection c = Open();
        await using SqliteCommand cmd = c.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO verifications VALUES ($id, $ok, $label, $path, $add, $by, $at)";
        cmd.Parameters.AddWithValue("$id", verification.ResultId);
        cmd.Parameters.AddWithValue("$ok", verification.Correct ? 1 : 0);
        cmd.Parameters.AddWithValue("$label", verification.TrueLabel);
        cmd.Parameters.AddWithValue("$path", verification.ImagePath);
        cmd.Parameters.AddWithValue("$add", verification.AddToTrainingSet ? 1 : 0);
        cmd.Parameters.AddWithValue("$by", verification.VerifiedBy);
        cmd.Parameters.AddWithValue("$at", verification.VerifiedAt.UtcDateTime.ToString("O"));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Verification?> FindAsync(string resultId, CancellationToken cancellationToken = default)
    {
        await using SqliteConnection c = Open();
        await using SqliteCommand cmd = c.CreateCommand();
        cmd.CommandText = "SELECT correct, true_label, image_path, add_to_training, verified_by, verified_at FROM verifications WHERE result_id = $id";
        cmd.Parameters.AddWithValue("$id", resultId);
        await using SqliteDataReader r = await cmd.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken)
            ? new Verification
            {
                ResultId = resultId,
                Correct = r.GetInt64(0) != 0,
                TrueLabel = r.GetString(1),
                ImagePath = r.GetString(2),
                AddToTrainingSet = r.GetInt64(3) != 0,
                VerifiedBy = r.GetString(4),
                VerifiedAt = DateTimeOffset.Parse(r.GetString(5), System.Globalization.CultureInfo.InvariantCulture),
            }
            : null;
    }

    private SqliteConnection Open()
    {
        SqliteConnection c = new(_connection);
        c.Open();
        return c;
    }
}
