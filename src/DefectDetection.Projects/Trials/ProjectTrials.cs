using System.Globalization;
using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Projects.Catalog;
using DefectDetection.Vision;
using DefectDetection.Vision.Anomaly;
using Microsoft.Data.Sqlite;

namespace DefectDetection.Projects;

/// <summary>
/// Trial detections: a model version run over new images, each verdict stored with a small overlay; a person verifies
/// each image (one by one or from a file), and the verified images join the dataset on request.
/// </summary>
public sealed class ProjectTrials
{
    /// <summary>The largest side of a stored overlay.</summary>
    public const int OverlaySide = 256;

    private const string ResultColumns = "id, source, sha256, ext, predicted, is_defect, score, confidence, defects, overlay_sha256, verified_at, correct, true_label, mask_sha256, mask_ext, accepted_entry_id";

    private readonly DefectProject _project;

    internal ProjectTrials(DefectProject project) => _project = project;

    /// <summary>
    /// Runs a version (default: the active one) over images: each is copied into the project, judged, and drawn as a
    /// small overlay; the results are stored together when all are done (a failed, cancelled or killed run stores none
    /// and is marked failed).
    /// </summary>
    /// <param name="images">Image files, or folders whose image files (not recursive) are taken.</param>
    /// <param name="version">The version number (null: the active version).</param>
    /// <param name="progress">Stage <c>trial</c>: done/total images.</param>
    /// <param name="cancellationToken">Stops the run; nothing is stored.</param>
    /// <exception cref="ProjectException">No version is active, or the version is not trained.</exception>
    public Trial Run(IReadOnlyList<string> images, int? version = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        List<string> files = [.. images.SelectMany(Expand)];
        if (files.Count == 0)
        {
            throw new ArgumentException($"no image files in {string.Join(", ", images)}.", nameof(images));
        }

        ModelVersion v = version is { } n ? _project.Models.Get(n) : _project.Models.Active
            ?? throw new ProjectException("no version is active: train one ('defect model train') or name one.");
        if (v.Status != ModelVersionStatus.Trained || v.ModelPath is null)
        {
            throw new ProjectException($"v{v.Number} is {v.Status.ToString().ToLowerInvariant()}: only a trained version can run a trial.");
        }

        CatalogDb db = _project.Db;
        ProcessOwner me = ProcessOwner.Current;
        string source = string.Join("; ", images.Select(Path.GetFullPath));
        (long trialId, int number) = db.Write(t =>
        {
            int next = Convert.ToInt32(db.Scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM trials", t), CultureInfo.InvariantCulture);
            long id = (long)db.Scalar("INSERT INTO trials(number, version_id, source, status, started_at, pid, pid_started, host) VALUES ($n, $v, $s, 'running', $now, $pid, $ps, $host) RETURNING id", t,
                ("$n", next), ("$v", _project.Models.IdOf(v.Number, t)), ("$s", source), ("$now", CatalogDb.Now()), ("$pid", me.Pid), ("$ps", me.Started), ("$host", me.Host))!;
            return (id, next);
        });

        try
        {
            using IDefectModel model = DefectModel.Load(v.ModelPath);
            var rows = new List<(string Source, string Sha, string Ext, DefectPrediction P, string? Overlay)>(files.Count);
            for (int i = 0; i < files.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                (string sha, string ext) = _project.Store.Put(files[i], cancellationToken);
                using Image image = ImageCodecs.Load(_project.Store.PathOf(sha, ext));
                DefectPrediction p = model.Predict(image.View(), cancellationToken);
                rows.Add((Path.GetFullPath(files[i]), sha, ext, p, StoreOverlay(image, p)));
                progress?.Report(new TrainingProgress("trial", (i + 1) / (double)files.Count) { Done = i + 1, Total = files.Count });
            }

            cancellationToken.ThrowIfCancellationRequested();
            db.Write(t =>
            {
                using SqliteCommand insert = db.Command(
                    "INSERT INTO trial_results(trial_id, sha256, ext, source, predicted, is_defect, score, confidence, defects, overlay_sha256) VALUES ($t, $sha, $ext, $src, $p, $d, $s, $c, $defects, $o)", t,
                    ("$t", trialId), ("$sha", ""), ("$ext", ""), ("$src", ""), ("$p", ""), ("$d", 0), ("$s", 0.0), ("$c", 0.0), ("$defects", ""), ("$o", null));
                foreach (var row in rows)
                {
                    List<TrialDefect> defects = [.. row.P.Defects.Select(d => new TrialDefect(d.Box.X, d.Box.Y, d.Box.Width, d.Box.Height, d.Label, d.Confidence))];
                    insert.Parameters["$sha"].Value = row.Sha;
                    insert.Parameters["$ext"].Value = row.Ext;
                    insert.Parameters["$src"].Value = row.Source;
                    insert.Parameters["$p"].Value = row.P.Label;
                    insert.Parameters["$d"].Value = row.P.IsDefect ? 1 : 0;
                    insert.Parameters["$s"].Value = row.P.Score;
                    insert.Parameters["$c"].Value = (double)row.P.Confidence;
                    insert.Parameters["$defects"].Value = JsonSerializer.Serialize(defects, ProjectJsonContext.Default.ListTrialDefect);
                    insert.Parameters["$o"].Value = (object?)row.Overlay ?? DBNull.Value;
                    insert.ExecuteNonQuery();
                }

                db.Execute("UPDATE trials SET status = 'done', finished_at = $now WHERE id = $id", t, ("$now", CatalogDb.Now()), ("$id", trialId));
            });
        }
        catch (Exception e)
        {
            try
            {
                db.Write(t => db.Execute("UPDATE trials SET status = 'failed', finished_at = $now, error = $e WHERE id = $id", t,
                    ("$now", CatalogDb.Now()), ("$e", e is OperationCanceledException ? "cancelled" : e.Message), ("$id", trialId)));
            }
            catch (SqliteException)
            {
                // The next open marks it failed.
            }

            throw;
        }

        return Get(number);
    }

    /// <summary>Every trial, oldest first, with counts (no results).</summary>
    public IReadOnlyList<Trial> List() => _project.Db.Query(
        "SELECT t.number, v.number, t.status, t.source, t.started_at, t.error, " +
        "(SELECT COUNT(*) FROM trial_results r WHERE r.trial_id = t.id), (SELECT COUNT(*) FROM trial_results r WHERE r.trial_id = t.id AND r.verified_at IS NOT NULL), " +
        "(SELECT COUNT(*) FROM trial_results r WHERE r.trial_id = t.id AND r.accepted_entry_id IS NOT NULL) FROM trials t JOIN versions v ON v.id = t.version_id ORDER BY t.number",
        ReadTrial);

    /// <summary>One trial with every result.</summary>
    /// <exception cref="ProjectException">The project has no such trial.</exception>
    public Trial Get(int number)
    {
        Trial trial = List().FirstOrDefault(t => t.Number == number) ?? throw new ProjectException($"the project has no trial {number} (see 'defect trial show').");
        List<TrialResult> results = _project.Db.Query(
            $"SELECT {ResultColumns} FROM trial_results WHERE trial_id = (SELECT id FROM trials WHERE number = $n) ORDER BY id", ReadResult, null, ("$n", number));
        return trial with { Results = results };
    }

    /// <summary>Records a person's verdict on one trial image, named by its file name or path (a second verification replaces the first).</summary>
    /// <exception cref="ProjectException">The trial or image does not exist, or the name fits several images.</exception>
    public TrialResult Verify(int trial, string image, VerificationInput verification)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        long id = _project.Db.Read(t => Find(trial, image, t));
        return Verify(id, verification);
    }

    /// <summary>Records a person's verdict on the trial result with this id (the entry point for services).</summary>
    /// <exception cref="ProjectException">No such result, or no true label can be told.</exception>
    public TrialResult Verify(long resultId, VerificationInput verification)
    {
        ArgumentNullException.ThrowIfNull(verification);
        (string? maskSha, string? maskExt) = verification.MaskPath is { } mask ? _project.Store.Put(mask) : (null, null);
        _project.Db.Write(t => Record(resultId, verification, maskSha, maskExt, t));
        return _project.Db.Query($"SELECT {ResultColumns} FROM trial_results WHERE id = $id", ReadResult, null, ("$id", resultId)).Single();
    }

    /// <summary>
    /// Records verifications from a file, all or none: CSV lines <c>image,label[,mask]</c> (or <c>image,correct|wrong</c>),
    /// or a JSON array of <c>{"image": ..., "label": ..., "correct": ..., "mask": ...}</c>; images are named by file name or
    /// path, masks relative to the file's folder. Returns how many images were verified.
    /// </summary>
    /// <exception cref="DatasetException">The file cannot be read or a line is malformed.</exception>
    /// <exception cref="ProjectException">An image is not in the trial.</exception>
    public int VerifyFromFile(int trial, string path)
    {
        List<(string Image, VerificationInput Input)> rows = VerificationFile.Read(path);
        var masks = rows.Select(r => r.Input.MaskPath is { } m ? _project.Store.Put(m) : ((string, string)?)null).ToList();
        return _project.Db.Write(t =>
        {
            for (int i = 0; i < rows.Count; i++)
            {
                long id = Find(trial, rows[i].Image, t);
                Record(id, rows[i].Input, masks[i]?.Item1, masks[i]?.Item2, t);
            }

            return rows.Count;
        });
    }

    /// <summary>
    /// Adds the verified images of a trial that are not in the dataset yet, with their true labels and masks, as verified
    /// entries of <paramref name="split"/> (default train); images whose content the dataset holds are skipped.
    /// </summary>
    /// <exception cref="ProjectException">The trial does not exist.</exception>
    public AcceptResult Accept(int trial, EntrySplit split = EntrySplit.Train)
    {
        Trial t0 = Get(trial);
        (List<long> ids, List<string> duplicates) = _project.Db.Write(t =>
        {
            List<long> added = [];
            List<string> skipped = [];
            string now = CatalogDb.Now();
            var pending = _project.Db.Query(
                "SELECT id, sha256, ext, true_label, mask_sha256, mask_ext, source FROM trial_results WHERE trial_id = (SELECT id FROM trials WHERE number = $n) AND verified_at IS NOT NULL AND accepted_entry_id IS NULL ORDER BY id",
                r => (Id: r.GetInt64(0), Sha: r.GetString(1), Ext: r.GetString(2), Label: r.GetString(3), MaskSha: r.IsDBNull(4) ? null : r.GetString(4), MaskExt: r.IsDBNull(5) ? null : r.GetString(5), Source: r.GetString(6)),
                t, ("$n", trial));
            foreach (var p in pending)
            {
                if (_project.Db.Scalar("SELECT 1 FROM entries WHERE sha256 = $sha AND removed_at IS NULL LIMIT 1", t, ("$sha", p.Sha)) is not null)
                {
                    skipped.Add(p.Source);
                    continue;
                }

                long entry = (long)_project.Db.Scalar(
                    "INSERT INTO entries(sha256, ext, split, label, mask_sha256, mask_ext, source, origin, trial_result_id, added_at, verified) VALUES ($sha, $ext, $split, $l, $ms, $me, $src, $o, $r, $now, 1) RETURNING id", t,
                    ("$sha", p.Sha), ("$ext", p.Ext), ("$split", ProjectDataset.SplitText(split)), ("$l", p.Label), ("$ms", p.MaskSha), ("$me", p.MaskExt),
                    ("$src", p.Source), ("$o", $"trial {trial} (v{t0.Version})"), ("$r", p.Id), ("$now", now))!;
                _project.Db.Execute("UPDATE trial_results SET accepted_entry_id = $e WHERE id = $id", t, ("$e", entry), ("$id", p.Id));
                added.Add(entry);
            }

            return (added, skipped);
        });
        return new AcceptResult(ids.Count == 0 ? [] : _project.Dataset.Get(ids), duplicates);
    }

    private void Record(long resultId, VerificationInput v, string? maskSha, string? maskExt, SqliteTransaction t)
    {
        var row = _project.Db.Query("SELECT predicted, is_defect, source FROM trial_results WHERE id = $id",
            r => (Predicted: r.GetString(0), IsDefect: r.GetInt32(1) != 0, Source: r.GetString(2)), t, ("$id", resultId)).SingleOrDefault();
        if (row.Source is null)
        {
            throw new ProjectException($"the project has no trial result {resultId}.");
        }

        string trueLabel = v.TrueLabel ?? v.Correct switch
        {
            true => row.IsDefect ? row.Predicted : _project.NormalLabels[0],
            false => row.IsDefect ? _project.NormalLabels[0] : DefectLabelOf(resultId, t)
                ?? throw new ProjectException($"'{row.Source}': the verdict was good and is wrong, but the version knows several defect labels: give the true label."),
            null => throw new ProjectException($"'{row.Source}': give the true label or whether the verdict was correct."),
        };
        if (_project.Labels is { } allowed && !allowed.Contains(trueLabel, StringComparer.Ordinal))
        {
            throw new ProjectException($"'{row.Source}': the label '{trueLabel}' is not one of the project's labels ({string.Join(", ", allowed)}).");
        }

        bool correct = v.Correct ?? (_project.IsNormal(trueLabel) ? !row.IsDefect : row.IsDefect && (row.Predicted == trueLabel || !IsClassLabel(row.Predicted, resultId, t)));
        _project.Db.Execute("UPDATE trial_results SET verified_at = $now, correct = $c, true_label = $l, mask_sha256 = COALESCE($ms, mask_sha256), mask_ext = COALESCE($me, mask_ext) WHERE id = $id", t,
            ("$now", CatalogDb.Now()), ("$c", correct ? 1 : 0), ("$l", trueLabel), ("$ms", maskSha), ("$me", maskExt), ("$id", resultId));
    }

    // The one defect label the trial's version was trained on, or null when it knows none or several.
    private string? DefectLabelOf(long resultId, SqliteTransaction t)
    {
        List<string> labels = _project.Db.Query(
            "SELECT DISTINCT ve.label FROM version_entries ve JOIN trials tr ON tr.version_id = ve.version_id JOIN trial_results r ON r.trial_id = tr.id WHERE r.id = $id",
            r => r.GetString(0), t, ("$id", resultId));
        string[] defects = [.. labels.Where(l => !_project.IsNormal(l))];
        return defects.Length == 1 ? defects[0] : defects.Length == 0 ? "anomaly" : null;
    }

    // True when the predicted label is one of the version's training labels (a classifier's label, not an anomaly model's generic one).
    private bool IsClassLabel(string predicted, long resultId, SqliteTransaction t) => _project.Db.Scalar(
        "SELECT 1 FROM version_entries ve JOIN trials tr ON tr.version_id = ve.version_id JOIN trial_results r ON r.trial_id = tr.id WHERE r.id = $id AND ve.label = $l LIMIT 1",
        t, ("$id", resultId), ("$l", predicted)) is not null;

    private long Find(int trial, string image, SqliteTransaction t)
    {
        if (_project.Db.Scalar("SELECT id FROM trials WHERE number = $n", t, ("$n", trial)) is null)
        {
            throw new ProjectException($"the project has no trial {trial} (see 'defect trial show').");
        }

        string full = Path.GetFullPath(image);
        List<(long Id, string Source)> results = _project.Db.Query("SELECT id, source FROM trial_results WHERE trial_id = (SELECT id FROM trials WHERE number = $n)",
            r => (r.GetInt64(0), r.GetString(1)), t, ("$n", trial));
        List<long> exact = [.. results.Where(r => r.Source == full).Select(r => r.Id)];
        List<long> byName = [.. results.Where(r => Path.GetFileName(r.Source) == Path.GetFileName(image)).Select(r => r.Id)];
        List<long> found = exact.Count > 0 ? exact : byName;
        return found.Count switch
        {
            1 => found[0],
            0 => throw new ProjectException($"trial {trial} has no image '{image}'."),
            _ => throw new ProjectException($"trial {trial} has {found.Count} images named '{Path.GetFileName(image)}': give the full path."),
        };
    }

    private string? StoreOverlay(Image image, DefectPrediction p)
    {
        using Image overlay = AnomalyVisualizer.Overlay(image.View(), p);
        double scale = Math.Min(1, OverlaySide / (double)Math.Max(overlay.Width, overlay.Height));
        using Image small = ImageResizer.Resize(overlay.View(), Math.Max(1, (int)Math.Round(overlay.Width * scale)), Math.Max(1, (int)Math.Round(overlay.Height * scale)));
        using var png = new MemoryStream();
        ImageCodecs.GetEncoder("overlay.png").Encode(small.View(), png);
        png.Position = 0;
        return _project.Store.Put(png, ".png");
    }

    private static IEnumerable<string> Expand(string path)
    {
        if (Directory.Exists(path))
        {
            IReadOnlyCollection<string> extensions = new FolderDatasetOptions().Extensions;
            return Directory.EnumerateFiles(path).Where(f => extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal);
        }

        return File.Exists(path) ? [path] : throw new FileNotFoundException($"'{path}' is neither an image file nor a folder.", path);
    }

    private static Trial ReadTrial(SqliteDataReader r) => new(r.GetInt32(0), r.GetInt32(1), r.GetString(2) switch
    {
        "running" => TrialStatus.Running,
        "done" => TrialStatus.Done,
        _ => TrialStatus.Failed,
    })
    {
        Source = r.GetString(3),
        StartedAt = CatalogDb.Time(r.GetString(4)),
        Error = r.IsDBNull(5) ? null : r.GetString(5),
        Images = r.GetInt32(6),
        Verified = r.GetInt32(7),
        Accepted = r.GetInt32(8),
    };

    private TrialResult ReadResult(SqliteDataReader r) => new(
        r.GetInt64(0), r.GetString(1), _project.Store.PathOf(r.GetString(2), r.GetString(3)), r.GetString(4), r.GetInt32(5) != 0, r.GetDouble(6), r.GetDouble(7))
    {
        Defects = JsonSerializer.Deserialize(r.GetString(8), ProjectJsonContext.Default.ListTrialDefect) ?? [],
        OverlayPath = r.IsDBNull(9) ? null : _project.Store.PathOf(r.GetString(9), ".png"),
        Verification = r.IsDBNull(10) ? null : new TrialVerification(r.GetInt32(11) != 0, r.GetString(12),
            r.IsDBNull(13) ? null : _project.Store.PathOf(r.GetString(13), r.GetString(14)), CatalogDb.Time(r.GetString(10))),
        AcceptedEntryId = r.IsDBNull(15) ? null : r.GetInt64(15),
    };
}
