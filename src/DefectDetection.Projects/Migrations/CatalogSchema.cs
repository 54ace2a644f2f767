using Microsoft.Data.Sqlite;

namespace DefectDetection.Projects.Migrations;

/// <summary>
/// The catalog's schema as a list of migrations from version 1; <c>PRAGMA user_version</c> holds the version a catalog
/// is at. A migration is never changed once released: a change of schema is a new entry at the end.
/// </summary>
internal static class CatalogSchema
{
    /// <summary>The migrations, in order: entry i brings a catalog from version i to version i + 1.</summary>
    internal static readonly string[] Steps =
    [
        // 1: the first schema.
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE imports(
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('importing', 'done', 'failed')),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            pid INTEGER NOT NULL,
            pid_started TEXT NOT NULL,
            host TEXT NOT NULL,
            added INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            error TEXT);
        CREATE TABLE entries(
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL,
            ext TEXT NOT NULL,
            split TEXT NOT NULL CHECK (split IN ('train', 'test')),
            label TEXT NOT NULL,
            mask_sha256 TEXT,
            mask_ext TEXT,
            source TEXT NOT NULL,
            origin TEXT NOT NULL,
            import_id INTEGER REFERENCES imports(id),
            trial_result_id INTEGER,
            added_at TEXT NOT NULL,
            verified INTEGER NOT NULL DEFAULT 0,
            removed_at TEXT);
        CREATE TABLE versions(
            id INTEGER PRIMARY KEY,
            number INTEGER NOT NULL UNIQUE,
            status TEXT NOT NULL CHECK (status IN ('training', 'trained', 'failed', 'deleted')),
            task TEXT NOT NULL,
            learner TEXT,
            config TEXT NOT NULL,
            model_file TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            seconds REAL,
            metrics TEXT,
            error TEXT,
            pid INTEGER NOT NULL,
            pid_started TEXT NOT NULL,
            host TEXT NOT NULL);
        CREATE TABLE version_entries(
            version_id INTEGER NOT NULL REFERENCES versions(id),
            entry_id INTEGER NOT NULL REFERENCES entries(id),
            split TEXT NOT NULL,
            label TEXT NOT NULL,
            PRIMARY KEY (version_id, entry_id)) WITHOUT ROWID;
        CREATE TABLE version_results(
            version_id INTEGER NOT NULL REFERENCES versions(id),
            entry_id INTEGER NOT NULL REFERENCES entries(id),
            predicted TEXT NOT NULL,
            is_defect INTEGER NOT NULL,
            score REAL NOT NULL,
            confidence REAL NOT NULL,
            PRIMARY KEY (version_id, entry_id)) WITHOUT ROWID;
        CREATE TABLE trials(
            id INTEGER PRIMARY KEY,
            number INTEGER NOT NULL UNIQUE,
            version_id INTEGER NOT NULL REFERENCES versions(id),
            source TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            pid INTEGER NOT NULL,
            pid_started TEXT NOT NULL,
            host TEXT NOT NULL,
            error TEXT);
        CREATE TABLE trial_results(
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id),
            sha256 TEXT NOT NULL,
            ext TEXT NOT NULL,
            source TEXT NOT NULL,
            predicted TEXT NOT NULL,
            is_defect INTEGER NOT NULL,
            score REAL NOT NULL,
            confidence REAL NOT NULL,
            defects TEXT NOT NULL,
            overlay_sha256 TEXT,
            verified_at TEXT,
            correct INTEGER,
            true_label TEXT,
            mask_sha256 TEXT,
            mask_ext TEXT,
            accepted_entry_id INTEGER);
        """,

        // 2: the indexes that keep listing and comparing fast on large datasets, and the change counter.
        """
        CREATE INDEX entries_by_sha ON entries(sha256) WHERE removed_at IS NULL;
        CREATE INDEX entries_by_split_label ON entries(split, label) WHERE removed_at IS NULL;
        CREATE INDEX trial_results_by_trial ON trial_results(trial_id);
        CREATE INDEX versions_by_status ON versions(status);
        INSERT OR IGNORE INTO meta(key, value) VALUES ('revision', '0');
        """,
    ];

    /// <summary>The schema version this library writes and reads.</summary>
    internal static int Current => Steps.Length;

    /// <summary>The catalog's schema version (0 for a new, empty file).</summary>
    internal static int VersionOf(SqliteConnection connection)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Brings the catalog up to <paramref name="target"/> (default: <see cref="Current"/>), each step in its own
    /// immediate transaction together with its <c>user_version</c>, so that two processes never apply one step twice.
    /// </summary>
    internal static void Migrate(SqliteConnection connection, string catalogPath, int? target = null)
    {
        int to = target ?? Current;
        while (true)
        {
            using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
            int version = VersionOf(connection);
            if (version > Current)
            {
                throw Newer(catalogPath, version);
            }

            if (version >= to)
            {
                transaction.Commit();
                return;
            }

            using (SqliteCommand step = connection.CreateCommand())
            {
                step.Transaction = transaction;
                step.CommandText = Steps[version] + $"\nPRAGMA user_version = {version + 1};";
                step.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    internal static ProjectException Newer(string catalogPath, int version) => new(
        $"'{catalogPath}' was written by a newer version of DefectDetection (catalog schema {version}; this version reads schema {Current} and older): update DefectDetection to open this project.");
}
