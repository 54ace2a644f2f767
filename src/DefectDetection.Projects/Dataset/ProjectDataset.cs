using System.Globalization;
using System.Text;
using DefectDetection.Datasets;
using DefectDetection.Models;
using DefectDetection.Projects.Catalog;
using Microsoft.Data.Sqlite;

namespace DefectDetection.Projects;

/// <summary>
/// A project's dataset: images imported by copy (the user's files are only read), each with its split, label, optional
/// mask, origin and whether a person verified it.
/// </summary>
public sealed class ProjectDataset
{
    private const string Columns = "id, split, label, sha256, ext, mask_sha256, mask_ext, source, origin, added_at, verified, removed_at";

    private readonly DefectProject _project;

    internal ProjectDataset(DefectProject project) => _project = project;

    /// <summary>
    /// Imports images: the source is read and validated first (a missing or unreadable image or mask, a mask of
    /// another size, a label outside the project's labels: nothing is imported and a <see cref="DatasetException"/>
    /// lists the problems); each image is then copied into the project, and the entries are added in one transaction at
    /// the end, so that an import that fails, is cancelled or killed adds nothing. Images whose content the project
    /// already holds are skipped and reported as duplicates.
    /// </summary>
    /// <param name="options">What to import.</param>
    /// <param name="progress">Reports the copy (stage <c>copy</c>: done/total images).</param>
    /// <param name="cancellationToken">Stops the import; nothing is added.</param>
    /// <exception cref="DatasetException">The source cannot be read or has problems.</exception>
    public ImportResult Import(ImportOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TestFraction is < 0 or >= 1 || double.IsNaN(options.TestFraction))
        {
            throw new ArgumentException($"TestFraction: {options.TestFraction} is not in [0, 1).", nameof(options));
        }

        if (options.TestFraction > 0 && options.Split is not null)
        {
            throw new ArgumentException("TestFraction: give either a split for every image or a test fraction, not both.", nameof(options));
        }

        SourceImages source = SourceImages.Read(options);
        if (source.Items.Count == 0)
        {
            throw new DatasetException(Path.GetFullPath(options.Source), 0, null, $"no images to import ({source.Layout})");
        }

        var all = new ImageDataset(source.Items.Select(i => i.Image));
        DatasetValidationReport report = all.Validate(_project.Labels, readHeaders: true);
        DatasetProblem[] errors = [.. report.Problems.Where(p => p.IsError && p.Kind != DatasetProblemKind.EmptyLabel)];
        if (errors.Length > 0)
        {
            string more = errors.Length > 10 ? $"; and {errors.Length - 10} more" : string.Empty;
            throw new DatasetException(Path.GetFullPath(options.Source), 0, null,
                $"{errors.Length} problem{(errors.Length == 1 ? string.Empty : "s")}, nothing imported: {string.Join("; ", errors.Take(10).Select(p => p.Message))}{more}");
        }

        CatalogDb db = _project.Db;
        ProcessOwner me = ProcessOwner.Current;
        string sourceText = Path.GetFullPath(options.Source);
        long importId = db.Write(t =>
        {
            db.Execute("INSERT INTO imports(source, status, started_at, pid, pid_started, host) VALUES ($s, 'importing', $now, $pid, $ps, $host)", t,
                ("$s", sourceText), ("$now", CatalogDb.Now()), ("$pid", me.Pid), ("$ps", me.Started), ("$host", me.Host));
            return (long)db.Scalar("SELECT last_insert_rowid()", t)!;
        });

        try
        {
            // The copies: content-addressed, so that a copy left by a killed import is simply reused by the retry.
            var copied = new List<(SourceImage Item, string Sha, string Ext, string? MaskSha, string? MaskExt)>(source.Items.Count);
            for (int i = 0; i < source.Items.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                SourceImage item = source.Items[i];
                (string sha, string ext) = _project.Store.Put(item.Image.ImagePath, cancellationToken);
                (string? maskSha, string? maskExt) = item.Image.MaskPath is { } mask ? _project.Store.Put(mask, cancellationToken) : (null, null);
                copied.Add((item, sha, ext, maskSha, maskExt));
                progress?.Report(new TrainingProgress("copy", (i + 1) / (double)source.Items.Count) { Done = i + 1, Total = source.Items.Count });
            }

            cancellationToken.ThrowIfCancellationRequested();
            (List<long> ids, List<string> duplicates) = db.Write(t =>
            {
                List<long> added = [];
                List<string> skipped = [];
                HashSet<string> seen = new(StringComparer.Ordinal);
                string now = CatalogDb.Now();
                string origin = $"import {importId} ({source.Layout})";
                using SqliteCommand exists = db.Command("SELECT 1 FROM entries WHERE sha256 = $sha AND removed_at IS NULL LIMIT 1", t, ("$sha", ""));
                using SqliteCommand insert = db.Command(
                    "INSERT INTO entries(sha256, ext, split, label, mask_sha256, mask_ext, source, origin, import_id, added_at, verified) " +
                    "VALUES ($sha, $ext, $split, $label, $msha, $mext, $source, $origin, $import, $now, 0) RETURNING id", t,
                    ("$sha", ""), ("$ext", ""), ("$split", ""), ("$label", ""), ("$msha", null), ("$mext", null), ("$source", ""), ("$origin", origin), ("$import", importId), ("$now", now));
                foreach (var c in copied)
                {
                    exists.Parameters["$sha"].Value = c.Sha;
                    if (!seen.Add(c.Sha) || exists.ExecuteScalar() is not null)
                    {
                        skipped.Add(c.Item.Image.ImagePath);
                        continue;
                    }

                    insert.Parameters["$sha"].Value = c.Sha;
                    insert.Parameters["$ext"].Value = c.Ext;
                    insert.Parameters["$split"].Value = SplitText(c.Item.Split);
                    insert.Parameters["$label"].Value = c.Item.Image.Label;
                    insert.Parameters["$msha"].Value = (object?)c.MaskSha ?? DBNull.Value;
                    insert.Parameters["$mext"].Value = (object?)c.MaskExt ?? DBNull.Value;
                    insert.Parameters["$source"].Value = Path.GetFullPath(c.Item.Image.ImagePath);
                    added.Add((long)insert.ExecuteScalar()!);
                }

                db.Execute("UPDATE imports SET status = 'done', finished_at = $now, added = $a, skipped = $s WHERE id = $id", t,
                    ("$now", CatalogDb.Now()), ("$a", added.Count), ("$s", skipped.Count), ("$id", importId));
                return (added, skipped);
            });

            IReadOnlyList<DatasetEntry> entries = ids.Count == 0 ? [] : Get(ids);
            return new ImportResult(importId, source.Layout, entries, duplicates, report);
        }
        catch (Exception e)
        {
            MarkImportFailed(importId, e is OperationCanceledException ? "cancelled" : e.Message);
            throw;
        }
    }

    /// <summary>
    /// Adds one image a person verified (from a service's result, for example) to the training split with its true
    /// label, marked verified; the file is copied in, never moved. An image whose content the project already holds
    /// is relabelled and marked verified instead of added twice.
    /// </summary>
    /// <param name="imagePath">The image file.</param>
    /// <param name="label">Its true label.</param>
    /// <param name="origin">Where the verification came from (stored with the entry).</param>
    /// <param name="cancellationToken">Stops the copy.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="DatasetException">The image cannot be read, or the label is not one of the project's.</exception>
    public DatasetEntry AddVerified(string imagePath, string label, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(imagePath);
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        ArgumentException.ThrowIfNullOrWhiteSpace(origin);
        var one = new ImageDataset([new LabeledImage(Path.GetFullPath(imagePath), label)]);
        DatasetProblem[] errors = [.. one.Validate(_project.Labels, readHeaders: true).Problems.Where(p => p.IsError)];
        if (errors.Length > 0)
        {
            throw new DatasetException(Path.GetFullPath(imagePath), 0, null, string.Join("; ", errors.Select(p => p.Message)));
        }

        (string sha, string ext) = _project.Store.Put(imagePath, cancellationToken);
        CatalogDb db = _project.Db;
        long id = db.Write(t =>
        {
            if (db.Scalar("SELECT id FROM entries WHERE sha256 = $sha AND removed_at IS NULL LIMIT 1", t, ("$sha", sha)) is long existing)
            {
                db.Execute("UPDATE entries SET label = $l, verified = 1 WHERE id = $id", t, ("$l", label), ("$id", existing));
                return existing;
            }

            return (long)db.Scalar(
                "INSERT INTO entries(sha256, ext, split, label, source, origin, added_at, verified) VALUES ($sha, $ext, 'train', $l, $src, $o, $now, 1) RETURNING id", t,
                ("$sha", sha), ("$ext", ext), ("$l", label), ("$src", Path.GetFullPath(imagePath)), ("$o", origin), ("$now", CatalogDb.Now()))!;
        });
        return Get([id])[0];
    }

    /// <summary>The entries that match <paramref name="query"/> (all current entries by default), by id.</summary>
    public IReadOnlyList<DatasetEntry> List(DatasetQuery? query = null)
    {
        query ??= new DatasetQuery();
        (string where, (string, object?)[] parameters) = Where(query);
        string sql = $"SELECT {Columns} FROM entries{where} ORDER BY id LIMIT $limit OFFSET $offset";
        return _project.Db.Query(sql, Read, null, [.. parameters, ("$limit", query.Limit ?? -1), ("$offset", query.Offset)]);
    }

    /// <summary>How many entries match <paramref name="query"/> (its offset and limit aside).</summary>
    public int Count(DatasetQuery? query = null)
    {
        (string where, (string, object?)[] parameters) = Where(query ?? new DatasetQuery());
        return Convert.ToInt32(_project.Db.Scalar($"SELECT COUNT(*) FROM entries{where}", null, parameters), CultureInfo.InvariantCulture);
    }

    /// <summary>The entries with these ids (removed ones included), in the order asked.</summary>
    /// <exception cref="ProjectException">An id is not an entry of the project.</exception>
    public IReadOnlyList<DatasetEntry> Get(IReadOnlyCollection<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        Dictionary<long, DatasetEntry> found = [];
        foreach (long[] chunk in ids.Distinct().Chunk(500))
        {
            string list = string.Join(',', chunk.Select(i => i.ToString(CultureInfo.InvariantCulture)));
            foreach (DatasetEntry e in _project.Db.Query($"SELECT {Columns} FROM entries WHERE id IN ({list})", Read))
            {
                found[e.Id] = e;
            }
        }

        return [.. ids.Select(i => found.TryGetValue(i, out DatasetEntry? e) ? e : throw new ProjectException($"the project has no dataset entry {i}."))];
    }

    /// <summary>Gives entries a new label (and, optionally, a new split); returns how many changed.</summary>
    /// <exception cref="ProjectException">An id is not a current entry.</exception>
    public int Relabel(IReadOnlyCollection<long> ids, string label, EntrySplit? split = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        if (_project.Labels is { } allowed && !allowed.Contains(label, StringComparer.Ordinal))
        {
            throw new ProjectException($"the label '{label}' is not one of the project's labels ({string.Join(", ", allowed)}).");
        }

        return Change(ids, "relabel", (t, id) => _project.Db.Execute(
            "UPDATE entries SET label = $l, split = COALESCE($s, split) WHERE id = $id AND removed_at IS NULL", t,
            ("$l", label), ("$s", split is { } s ? SplitText(s) : null), ("$id", id)));
    }

    /// <summary>
    /// Removes entries from the dataset (later versions do not train or test on them). The rows and image copies stay, so
    /// that the versions trained on them keep their lineage.
    /// </summary>
    /// <exception cref="ProjectException">An id is not a current entry.</exception>
    public int Remove(IReadOnlyCollection<long> ids)
    {
        string now = CatalogDb.Now();
        return Change(ids, "remove", (t, id) => _project.Db.Execute(
            "UPDATE entries SET removed_at = $now WHERE id = $id AND removed_at IS NULL", t, ("$now", now), ("$id", id)));
    }

    internal static string SplitText(EntrySplit split) => split == EntrySplit.Test ? "test" : "train";

    internal static EntrySplit ParseSplit(string text) => text == "test" ? EntrySplit.Test : EntrySplit.Train;

    internal DatasetEntry Read(SqliteDataReader r) => new(
        r.GetInt64(0), ParseSplit(r.GetString(1)), r.GetString(2), _project.Store.PathOf(r.GetString(3), r.GetString(4)), r.GetString(3))
    {
        MaskPath = r.IsDBNull(5) ? null : _project.Store.PathOf(r.GetString(5), r.GetString(6)),
        Source = r.GetString(7),
        Origin = r.GetString(8),
        AddedAt = CatalogDb.Time(r.GetString(9)),
        Verified = r.GetInt32(10) != 0,
        RemovedAt = r.IsDBNull(11) ? null : CatalogDb.Time(r.GetString(11)),
    };

    private int Change(IReadOnlyCollection<long> ids, string what, Func<SqliteTransaction, long, int> change)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _project.Db.Write(t =>
        {
            int changed = 0;
            foreach (long id in ids.Distinct())
            {
                int n = change(t, id);
                if (n == 0)
                {
                    throw new ProjectException($"{what}: the project has no current dataset entry {id} (see 'defect dataset list').");
                }

                changed += n;
            }

            return changed;
        });
    }

    private void MarkImportFailed(long importId, string reason)
    {
        try
        {
            _project.Db.Write(t => _project.Db.Execute("UPDATE imports SET status = 'failed', finished_at = $now, error = $e WHERE id = $id AND status = 'importing'", t,
                ("$now", CatalogDb.Now()), ("$e", reason), ("$id", importId)));
        }
        catch (SqliteException)
        {
            // The next open marks it failed (its process will have gone).
        }
    }

    private static (string Where, (string, object?)[] Parameters) Where(DatasetQuery query)
    {
        StringBuilder where = new();
        List<(string, object?)> parameters = [];
        void And(string condition)
        {
            where.Append(where.Length == 0 ? " WHERE " : " AND ").Append(condition);
        }

        if (!query.IncludeRemoved)
        {
            And("removed_at IS NULL");
        }

        if (query.Split is { } split)
        {
            And("split = $split");
            parameters.Add(("$split", SplitText(split)));
        }

        if (query.Label is { } label)
        {
            And("label = $label");
            parameters.Add(("$label", label));
        }

        if (query.Verified is { } verified)
        {
            And("verified = $verified");
            parameters.Add(("$verified", verified ? 1 : 0));
        }

        return (where.ToString(), [.. parameters]);
    }
}
