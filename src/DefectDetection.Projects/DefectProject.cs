using System.Globalization;
using DefectDetection.Projects.Catalog;
using DefectDetection.Projects.Migrations;
using DefectDetection.Projects.Storage;

namespace DefectDetection.Projects;

/// <summary>What <see cref="DefectProject.Create"/> records about a new project.</summary>
public sealed class ProjectOptions
{
    /// <summary>The project's name (default: the folder's name).</summary>
    public string? Name { get; init; }

    /// <summary>The labels that mean a good image (default <c>normal</c>, <c>good</c>).</summary>
    public IReadOnlyList<string> NormalLabels { get; init; } = DefectDetection.Models.Learners.DefaultNormalLabels;

    /// <summary>The only labels imports may use (null, the default: any label). An image with another label is reported as an unknown label and nothing is imported.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
}

/// <summary>What <see cref="DefectProject.Open(string)"/> found unfinished and closed: work whose process had ended.</summary>
/// <param name="FailedVersions">Model versions left in training, now failed.</param>
/// <param name="FailedImports">Imports left unfinished (none of their images were added), now failed.</param>
/// <param name="FailedTrials">Trial runs left unfinished, now failed.</param>
/// <param name="TemporaryFilesRemoved">Temporary files of ended processes that were deleted.</param>
public sealed record ProjectRecovery(IReadOnlyList<int> FailedVersions, IReadOnlyList<long> FailedImports, IReadOnlyList<int> FailedTrials, int TemporaryFilesRemoved)
{
    /// <summary>True when nothing had to be closed.</summary>
    public bool IsEmpty => FailedVersions.Count == 0 && FailedImports.Count == 0 && FailedTrials.Count == 0 && TemporaryFilesRemoved == 0;
}

/// <summary>A project at a glance (<c>defect project info</c>).</summary>
/// <param name="Name">The project's name.</param>
/// <param name="Folder">The project folder.</param>
/// <param name="SchemaVersion">The catalog's schema version.</param>
/// <param name="Revision">The change counter (see <see cref="DefectProject.Revision"/>).</param>
/// <param name="NormalLabels">The labels that mean a good image.</param>
/// <param name="Entries">Dataset entries per split and label (removed entries left out).</param>
/// <param name="Versions">Model versions by status.</param>
/// <param name="ActiveVersion">The active version's number, or null.</param>
/// <param name="Trials">Trial runs.</param>
public sealed record ProjectSummary(
    string Name,
    string Folder,
    int SchemaVersion,
    long Revision,
    IReadOnlyList<string> NormalLabels,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Entries,
    IReadOnlyDictionary<string, int> Versions,
    int? ActiveVersion,
    int Trials);

/// <summary>
/// An inspection project: one folder holding a SQLite catalog (<see cref="CatalogFileName"/>) and content-addressed
/// copies of its images, recording the dataset (<see cref="Dataset"/>), the model versions trained on it
/// (<see cref="Models"/>) and the trial detections with their verifications (<see cref="Trials"/>) — the Lookout for
/// Vision loop: import, train, trial, verify, accept, retrain, compare.
/// </summary>
/// <remarks>
/// Several processes may open one project at once: the catalog runs in WAL mode and every change is one
/// <c>BEGIN IMMEDIATE</c> transaction. One instance is not thread-safe; open one per thread. A service that serves the
/// active model polls <see cref="Revision"/> (or <see cref="ProjectModels.Active"/>) and reloads
/// <see cref="ModelVersion.ModelPath"/> when it changes.
/// </remarks>
public sealed class DefectProject : IDisposable
{
    /// <summary>The catalog's file name inside the project folder.</summary>
    public const string CatalogFileName = "defect-project.db";

    private readonly CatalogDb _db;

    private DefectProject(string folder, CatalogDb db, ProjectRecovery recovery)
    {
        Folder = folder;
        _db = db;
        Store = new ContentStore(folder);
        Recovery = recovery;
        Name = db.Meta("name") ?? Path.GetFileName(folder);
        NormalLabels = SplitList(db.Meta("normal_labels")) ?? DefectDetection.Models.Learners.DefaultNormalLabels;
        Labels = SplitList(db.Meta("labels"));
        Dataset = new ProjectDataset(this);
        Models = new ProjectModels(this);
        Trials = new ProjectTrials(this);
    }

    /// <summary>The schema version of the catalogs this library writes (older ones are migrated on open; newer ones refused).</summary>
    public static int SchemaVersion => CatalogSchema.Current;

    /// <summary>The project folder (full path).</summary>
    public string Folder { get; }

    /// <summary>The catalog file.</summary>
    public string CatalogPath => _db.Path;

    /// <summary>The project's name.</summary>
    public string Name { get; }

    /// <summary>The labels that mean a good image.</summary>
    public IReadOnlyList<string> NormalLabels { get; }

    /// <summary>The only labels imports may use, or null for any.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>What opening the project found unfinished (killed imports and training runs) and closed.</summary>
    public ProjectRecovery Recovery { get; }

    /// <summary>The dataset: import, list, relabel, remove.</summary>
    public ProjectDataset Dataset { get; }

    /// <summary>The model versions: train, retrain, list, activate, compare, delete.</summary>
    public ProjectModels Models { get; }

    /// <summary>Trial detections: run a version over new images, verify the results, accept them into the dataset.</summary>
    public ProjectTrials Trials { get; }

    /// <summary>
    /// A counter that every change to the project advances (by any process): poll it to notice a new active version,
    /// a new import or verification without reading anything else.
    /// </summary>
    public long Revision => long.Parse(_db.Meta("revision") ?? "0", CultureInfo.InvariantCulture);

    internal CatalogDb Db => _db;

    internal ContentStore Store { get; }

    /// <summary>Creates a project in <paramref name="folder"/> (created if needed; it must not hold a project already).</summary>
    /// <exception cref="ProjectException">The folder already holds a project.</exception>
    public static DefectProject Create(string folder, ProjectOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new ProjectOptions();
        if (options.NormalLabels.Count == 0 || options.NormalLabels.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("NormalLabels: name at least one label, none empty.", nameof(options));
        }

        string full = Path.GetFullPath(folder);
        string catalog = Path.Combine(full, CatalogFileName);
        if (File.Exists(catalog))
        {
            throw new ProjectException($"'{full}' already holds a project ({CatalogFileName}); open it instead.");
        }

        Directory.CreateDirectory(full);
        CatalogDb db = CatalogDb.Open(catalog, create: true);
        try
        {
            db.Write(t =>
            {
                if (db.Meta("created_at", t) is not null)
                {
                    throw new ProjectException($"'{full}' already holds a project ({CatalogFileName}); open it instead.");
                }

                db.SetMeta("name", options.Name ?? Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar)), t);
                db.SetMeta("created_at", CatalogDb.Now(), t);
                db.SetMeta("normal_labels", string.Join('\n', options.NormalLabels), t);
                if (options.Labels is not null)
                {
                    db.SetMeta("labels", string.Join('\n', options.Labels), t);
                }
            });
            Directory.CreateDirectory(Path.Combine(full, "images"));
            Directory.CreateDirectory(Path.Combine(full, "models"));
            return new DefectProject(full, db, new ProjectRecovery([], [], [], 0));
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the project in <paramref name="folder"/>, migrating an older catalog, and closes the work that processes
    /// which have ended left unfinished: a version left in training and an unfinished import or trial are marked failed,
    /// and their temporary files removed (see <see cref="Recovery"/>).
    /// </summary>
    /// <exception cref="ProjectException">The folder holds no project, or its catalog was written by a newer version.</exception>
    public static DefectProject Open(string folder) => Open(folder, migrateTo: null);

    internal static DefectProject Open(string folder, int? migrateTo)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string full = Path.GetFullPath(folder);
        string catalog = Path.Combine(full, CatalogFileName);
        if (!File.Exists(catalog))
        {
            throw new ProjectException($"'{full}' is not a project: it has no {CatalogFileName} (create one with 'defect project create').");
        }

        CatalogDb db = CatalogDb.Open(catalog, create: false, migrateTo);
        try
        {
            ProjectRecovery recovery = Recover(db, new ContentStore(full));
            return new DefectProject(full, db, recovery);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>The project at a glance.</summary>
    public ProjectSummary GetSummary() => _db.Read(t =>
    {
        var entries = new SortedDictionary<string, IReadOnlyDictionary<string, int>>(StringComparer.Ordinal);
        foreach (var row in _db.Query("SELECT split, label, COUNT(*) FROM entries WHERE removed_at IS NULL GROUP BY split, label",
            r => (Split: r.GetString(0), Label: r.GetString(1), Count: r.GetInt32(2)), t))
        {
            if (!entries.TryGetValue(row.Split, out IReadOnlyDictionary<string, int>? labels))
            {
                entries[row.Split] = labels = new SortedDictionary<string, int>(StringComparer.Ordinal);
            }

            ((SortedDictionary<string, int>)labels)[row.Label] = row.Count;
        }

        var versions = _db.Query("SELECT status, COUNT(*) FROM versions GROUP BY status", r => (r.GetString(0), r.GetInt32(1)), t)
            .ToDictionary(v => v.Item1, v => v.Item2, StringComparer.Ordinal);
        int trials = Convert.ToInt32(_db.Scalar("SELECT COUNT(*) FROM trials", t), CultureInfo.InvariantCulture);
        return new ProjectSummary(Name, Folder, Convert.ToInt32(_db.Scalar("PRAGMA user_version", t), CultureInfo.InvariantCulture), Revision, NormalLabels, entries, versions, Models.ActiveNumber(t), trials);
    });

    /// <summary>Closes the catalog.</summary>
    public void Dispose() => _db.Dispose();

    internal bool IsNormal(string label) => NormalLabels.Contains(label, StringComparer.Ordinal);

    private static ProjectRecovery Recover(CatalogDb db, ContentStore store)
    {
        const string Gone = "the process that ran it ended before it finished (killed or crashed)";
        static bool IsGone(Microsoft.Data.Sqlite.SqliteDataReader r) =>
            new ProcessOwner(r.GetInt32(1), r.GetString(2), r.GetString(3)).IsGone();

        // Looked for first, changed only when something was left: opening a project does not advance its revision.
        (List<int> Versions, List<long> Imports, List<int> Trials) found = db.Read(t => (
            db.Query("SELECT number, pid, pid_started, host FROM versions WHERE status = 'training'", r => (N: r.GetInt32(0), Gone: IsGone(r)), t).Where(v => v.Gone).Select(v => v.N).ToList(),
            db.Query("SELECT id, pid, pid_started, host FROM imports WHERE status = 'importing'", r => (N: r.GetInt64(0), Gone: IsGone(r)), t).Where(v => v.Gone).Select(v => v.N).ToList(),
            db.Query("SELECT number, pid, pid_started, host FROM trials WHERE status = 'running'", r => (N: r.GetInt32(0), Gone: IsGone(r)), t).Where(v => v.Gone).Select(v => v.N).ToList()));
        if (found.Versions.Count + found.Imports.Count + found.Trials.Count > 0)
        {
            db.Write(t =>
            {
                string now = CatalogDb.Now();
                foreach (int v in found.Versions)
                {
                    db.Execute("UPDATE versions SET status = 'failed', finished_at = $now, error = $e WHERE number = $n AND status = 'training'", t, ("$now", now), ("$e", Gone), ("$n", v));
                }

                foreach (long i in found.Imports)
                {
                    db.Execute("UPDATE imports SET status = 'failed', finished_at = $now, error = $e WHERE id = $n AND status = 'importing'", t, ("$now", now), ("$e", Gone), ("$n", i));
                }

                foreach (int n in found.Trials)
                {
                    db.Execute("UPDATE trials SET status = 'failed', finished_at = $now, error = $e WHERE number = $n AND status = 'running'", t, ("$now", now), ("$e", Gone), ("$n", n));
                }
            });
        }

        int removed = store.CleanTemporaryFiles();
        return new ProjectRecovery(found.Versions, found.Imports, found.Trials, removed);
    }

    private static IReadOnlyList<string>? SplitList(string? text) =>
        text is null ? null : text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
