using DefectDetection.Projects.Migrations;
using Microsoft.Data.Sqlite;

namespace DefectDetection.Projects.Tests;

/// <summary>Creating and opening projects; the schema: migrations from version 1, newer catalogs refused.</summary>
public sealed class ProjectCatalogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-project-catalog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void CreateThenOpen_KeepsTheSettings_AndASecondCreateIsRefused()
    {
        string folder = Path.Combine(_dir, "p");
        using (DefectProject p = DefectProject.Create(folder, new ProjectOptions { Name = "cookies", NormalLabels = ["ok"], Labels = ["ok", "cracked"] }))
        {
            Assert.Equal(Path.Combine(folder, DefectProject.CatalogFileName), p.CatalogPath);
        }

        using (DefectProject p = DefectProject.Open(folder))
        {
            Assert.Equal("cookies", p.Name);
            Assert.Equal(["ok"], p.NormalLabels);
            Assert.Equal(["ok", "cracked"], p.Labels);
            Assert.True(p.Recovery.IsEmpty);
            Assert.Equal(DefectProject.SchemaVersion, p.GetSummary().SchemaVersion);
        }

        ProjectException e = Assert.Throws<ProjectException>(() => DefectProject.Create(folder));
        Assert.Contains("already holds a project", e.Message);
        ProjectException none = Assert.Throws<ProjectException>(() => DefectProject.Open(Path.Combine(_dir, "nothing")));
        Assert.Contains("is not a project", none.Message);
    }

    [Fact]
    public void CatalogOfANewerVersion_IsRefusedNamingTheFileAndBothVersions()
    {
        string folder = Path.Combine(_dir, "newer");
        DefectProject.Create(folder).Dispose();
        string catalog = Path.Combine(folder, DefectProject.CatalogFileName);
        int newer = CatalogSchema.Current + 7;
        Sql(catalog, $"PRAGMA user_version = {newer}");

        ProjectException e = Assert.Throws<ProjectException>(() => DefectProject.Open(folder));
        Assert.Contains(catalog, e.Message);
        Assert.Contains($"schema {newer}", e.Message);
        Assert.Contains($"schema {CatalogSchema.Current} and older", e.Message);
    }

    [Fact]
    public void CatalogOfSchemaVersion1_IsMigratedOnOpen_WithItsDataIntact()
    {
        // A catalog as the first release wrote it: schema 1 only, with an entry, a trained version and its lineage.
        string folder = Path.Combine(_dir, "v1");
        Directory.CreateDirectory(folder);
        string catalog = Path.Combine(folder, DefectProject.CatalogFileName);
        using (var c = new SqliteConnection($"Data Source={catalog};Pooling=False"))
        {
            c.Open();
            Exec(c, CatalogSchema.Steps[0] + "\nPRAGMA user_version = 1;");
            Exec(c, """
                INSERT INTO meta VALUES ('name', 'old'), ('normal_labels', 'normal'), ('active_version', '1');
                INSERT INTO imports VALUES (1, '/data', 'done', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 1, '2026-01-01T00:00:00', 'h', 1, 0, NULL);
                INSERT INTO entries(id, sha256, ext, split, label, source, origin, import_id, added_at) VALUES (1, 'ab12', '.png', 'train', 'normal', '/data/a.png', 'import 1 (x)', 1, '2026-01-01T00:00:01.000Z');
                INSERT INTO versions(id, number, status, task, learner, config, model_file, started_at, pid, pid_started, host)
                    VALUES (1, 1, 'trained', 'classify', 'image_classifier', '{"task":"auto","resolved_task":"classify","backbone":null,"time_budget_seconds":300,"seed":0,"chosen":null,"threshold":0.5}', 'v1.ddmodel', '2026-01-01T00:00:02.000Z', 1, '2026-01-01T00:00:00', 'h');
                INSERT INTO version_entries VALUES (1, 1, 'train', 'normal');
                """);
        }

        using DefectProject p = DefectProject.Open(folder);
        Assert.Equal(CatalogSchema.Current, Convert.ToInt32(Scalar(catalog, "PRAGMA user_version")));
        Assert.Equal("old", p.Name);
        DatasetEntry entry = Assert.Single(p.Dataset.List());
        Assert.Equal("/data/a.png", entry.Source);
        ModelVersion v1 = Assert.Single(p.Models.List());
        Assert.True(v1.IsActive);
        Assert.Equal(1, v1.TrainImages);
        Assert.Equal(0, p.Revision); // version 2 added the counter
        Assert.NotNull(Scalar(catalog, "SELECT name FROM sqlite_master WHERE name = 'entries_by_sha'"));
    }

    [Fact]
    public void EveryMigrationStep_AppliesInOrder_AndOpeningTwiceChangesNothing()
    {
        string folder = Path.Combine(_dir, "steps");
        Directory.CreateDirectory(folder);
        string catalog = Path.Combine(folder, DefectProject.CatalogFileName);
        for (int target = 1; target <= CatalogSchema.Current; target++)
        {
            using var c = new SqliteConnection($"Data Source={catalog};Pooling=False");
            c.Open();
            CatalogSchema.Migrate(c, catalog, target);
            Assert.Equal(target, CatalogSchema.VersionOf(c));
            CatalogSchema.Migrate(c, catalog); // the rest
            Assert.Equal(CatalogSchema.Current, CatalogSchema.VersionOf(c));
            CatalogSchema.Migrate(c, catalog); // nothing left to do
            Assert.Equal(CatalogSchema.Current, CatalogSchema.VersionOf(c));
            c.Close();
            File.Delete(catalog);
        }
    }

    internal static void Sql(string catalog, string sql)
    {
        using var c = new SqliteConnection($"Data Source={catalog};Pooling=False");
        c.Open();
        Exec(c, sql);
    }

    internal static object? Scalar(string catalog, string sql)
    {
        using var c = new SqliteConnection($"Data Source={catalog};Mode=ReadOnly;Pooling=False");
        c.Open();
        using SqliteCommand command = c.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using SqliteCommand command = c.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
