using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.Models;
using DefectDetection.Projects.Catalog;
using DefectDetection.Projects.Storage;
using DefectDetection.Vision;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.LearnerChoice;
using DefectDetection.Vision.PatchCore;
using Microsoft.Data.Sqlite;

namespace DefectDetection.Projects;

/// <summary>
/// A project's model versions: each trained on the dataset as it was (the exact entries are recorded), tested on its
/// test split, kept as <c>models/vN.ddmodel</c>; one of them is active.
/// </summary>
public sealed class ProjectModels
{
    private const string Columns = "v.number, v.status, v.task, v.learner, v.config, v.model_file, v.started_at, v.finished_at, v.seconds, v.metrics, v.error, " +
        "(SELECT COUNT(*) FROM version_entries e WHERE e.version_id = v.id AND e.split = 'train'), (SELECT COUNT(*) FROM version_entries e WHERE e.version_id = v.id AND e.split = 'test')";

    private readonly DefectProject _project;

    internal ProjectModels(DefectProject project) => _project = project;

    /// <summary>The active version, or null when none is (the model a service should serve: <see cref="ModelVersion.ModelPath"/>).</summary>
    public ModelVersion? Active => ActiveNumber(null) is { } n ? Get(n) : null;

    /// <summary>
    /// Trains a new version on the current dataset: the version is recorded as training (with the exact entries and
    /// this process) before any work, then trained with the learner the labels call for (an anomaly detector when every
    /// training image is normal, else a classifier) and the automatic configuration, written to a temporary file and
    /// renamed to <c>models/vN.ddmodel</c>, tested on the test split, and marked trained. A failure or cancellation
    /// marks it failed and removes its files; a killed process's version is marked failed when the project is next opened.
    /// </summary>
    /// <param name="options">How to train (null: the defaults).</param>
    /// <param name="progress">Training stages as the learner reports them, then <c>test</c>.</param>
    /// <param name="cancellationToken">Stops training; the version is marked failed.</param>
    /// <returns>The trained version.</returns>
    /// <exception cref="ProjectException">The dataset has no training images, or the task needs a backbone.</exception>
    public ModelVersion Train(ModelTrainOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new ModelTrainOptions();
        if (options.KeepLast is < 1)
        {
            throw new ArgumentException($"KeepLast: {options.KeepLast} is less than 1.", nameof(options));
        }

        if (options.Backbone is { } b && !File.Exists(b))
        {
            throw new FileNotFoundException($"the backbone '{b}' does not exist.", b);
        }

        CatalogDb db = _project.Db;
        ProcessOwner me = ProcessOwner.Current;
        string backbone = options.Backbone is null ? string.Empty : Path.GetFullPath(options.Backbone);

        // The version row and its exact entries first, in one transaction: the lineage is fixed before any work.
        (long versionId, int number, List<DatasetEntry> entries, string resolved) = db.Write(t =>
        {
            List<DatasetEntry> current = db.Query("SELECT id, split, label, sha256, ext, mask_sha256, mask_ext, source, origin, added_at, verified, removed_at FROM entries WHERE removed_at IS NULL ORDER BY id", _project.Dataset.Read, t);
            List<DatasetEntry> train = [.. current.Where(e => e.Split == EntrySplit.Train)];
            if (train.Count == 0)
            {
                throw new ProjectException($"the project '{_project.Folder}' has no training images: import some first ('defect dataset import').");
            }

            string task = ResolveTask(options.Task, train, backbone);
            int next = Convert.ToInt32(db.Scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM versions", t), CultureInfo.InvariantCulture);
            var config = new ModelConfiguration(TaskName(options.Task), task, backbone.Length == 0 ? null : backbone, options.TimeBudget.TotalSeconds, options.Seed, null, null);
            long id = (long)db.Scalar(
                "INSERT INTO versions(number, status, task, config, started_at, pid, pid_started, host) VALUES ($n, 'training', $task, $config, $now, $pid, $ps, $host) RETURNING id", t,
                ("$n", next), ("$task", task), ("$config", JsonSerializer.Serialize(config, ProjectJsonContext.Default.ModelConfiguration)),
                ("$now", CatalogDb.Now()), ("$pid", me.Pid), ("$ps", me.Started), ("$host", me.Host))!;
            using SqliteCommand insert = db.Command("INSERT INTO version_entries(version_id, entry_id, split, label) VALUES ($v, $e, $s, $l)", t, ("$v", id), ("$e", 0L), ("$s", ""), ("$l", ""));
            foreach (DatasetEntry e in current)
            {
                insert.Parameters["$e"].Value = e.Id;
                insert.Parameters["$s"].Value = ProjectDataset.SplitText(e.Split);
                insert.Parameters["$l"].Value = e.Label;
                insert.ExecuteNonQuery();
            }

            return (id, next, current, task);
        });

        string modelsFolder = Path.Combine(_project.Folder, "models");
        string final = Path.Combine(modelsFolder, $"v{number}.ddmodel");
        string temp = _project.Store.NewTempFile(".ddmodel");
        try
        {
            Stopwatch sw = Stopwatch.StartNew();
            var train = new ImageDataset(entries.Where(e => e.Split == EntrySplit.Train).Select(e => new LabeledImage(e.ImagePath, e.Label) { MaskPath = e.MaskPath, Origin = $"entry {e.Id}" }));
            using IDefectModel model = Fit(resolved, train, options, backbone, progress, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            model.Save(temp, new DefectModelSaveOptions { Overwrite = true, DataSource = $"{_project.Folder} v{number}" });
            Directory.CreateDirectory(modelsFolder);
            File.Move(temp, final, overwrite: true);

            List<DatasetEntry> test = [.. entries.Where(e => e.Split == EntrySplit.Test)];
            var results = new List<(long Entry, DefectPrediction Prediction)>(test.Count);
            for (int i = 0; i < test.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using Image image = ImageCodecs.Load(test[i].ImagePath);
                results.Add((test[i].Id, model.Predict(image.View(), cancellationToken)));
                progress?.Report(new TrainingProgress("test", (i + 1) / (double)test.Count) { Done = i + 1, Total = test.Count });
            }

            TestMetrics? metrics = test.Count == 0 ? null : Score(test, results.Select(r => r.Prediction).ToList());
            double seconds = sw.Elapsed.TotalSeconds;
            var config = new ModelConfiguration(TaskName(options.Task), resolved, backbone.Length == 0 ? null : backbone, options.TimeBudget.TotalSeconds, options.Seed,
                (model as PatchCoreModel)?.Search?.Chosen, model.Threshold);
            db.Write(t =>
            {
                using SqliteCommand insert = db.Command("INSERT INTO version_results(version_id, entry_id, predicted, is_defect, score, confidence) VALUES ($v, $e, $p, $d, $s, $c)", t,
                    ("$v", versionId), ("$e", 0L), ("$p", ""), ("$d", 0), ("$s", 0.0), ("$c", 0.0));
                foreach ((long entry, DefectPrediction p) in results)
                {
                    insert.Parameters["$e"].Value = entry;
                    insert.Parameters["$p"].Value = p.Label;
                    insert.Parameters["$d"].Value = p.IsDefect ? 1 : 0;
                    insert.Parameters["$s"].Value = p.Score;
                    insert.Parameters["$c"].Value = (double)p.Confidence;
                    insert.ExecuteNonQuery();
                }

                db.Execute("UPDATE versions SET status = 'trained', learner = $l, config = $config, model_file = $f, finished_at = $now, seconds = $sec, metrics = $m WHERE id = $id", t,
                    ("$l", model.Learner), ("$config", JsonSerializer.Serialize(config, ProjectJsonContext.Default.ModelConfiguration)),
                    ("$f", Path.GetFileName(final)), ("$now", CatalogDb.Now()), ("$sec", seconds),
                    ("$m", metrics is null ? null : JsonSerializer.Serialize(StoredMetrics.From(metrics), ProjectJsonContext.Default.StoredMetrics)), ("$id", versionId));
                if (options.Activate || ActiveNumber(t) is null)
                {
                    db.SetMeta("active_version", number.ToString(CultureInfo.InvariantCulture), t);
                }
            });
        }
        catch (Exception e)
        {
            ContentStore.TryDelete(temp);
            ContentStore.TryDelete(final);
            MarkFailed(versionId, e is OperationCanceledException ? "cancelled" : e.Message);
            throw;
        }

        if (options.KeepLast is { } keep)
        {
            KeepLast(keep);
        }

        return Get(number);
    }

    /// <summary>
    /// Trains a new version on the current dataset with the configuration of the active version (else the newest
    /// trained one): the retraining step of the loop, after verified trial images were accepted.
    /// </summary>
    /// <exception cref="ProjectException">No version has been trained yet.</exception>
    public ModelVersion Retrain(bool activate = false, int? keepLast = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ModelVersion basis = Active ?? List().LastOrDefault(v => v.Status is ModelVersionStatus.Trained or ModelVersionStatus.Deleted)
            ?? throw new ProjectException("retrain: no version has been trained yet; train the first one with 'defect model train'.");
        ModelConfiguration c = basis.Configuration;
        ModelTrainOptions options = new()
        {
            Task = c.Task switch { "classify" => ProjectTask.Classify, "anomaly" => ProjectTask.Anomaly, _ => ProjectTask.Auto },
            Backbone = c.Backbone,
            TimeBudget = TimeSpan.FromSeconds(c.TimeBudgetSeconds),
            Seed = c.Seed,
            Activate = activate,
            KeepLast = keepLast,
        };
        return Train(options, progress, cancellationToken);
    }

    /// <summary>Every version, oldest first (deleted ones included).</summary>
    public IReadOnlyList<ModelVersion> List()
    {
        int? active = ActiveNumber(null);
        return _project.Db.Query($"SELECT {Columns} FROM versions v ORDER BY v.number", r => Read(r, active));
    }

    /// <summary>One version.</summary>
    /// <exception cref="ProjectException">The project has no such version.</exception>
    public ModelVersion Get(int number)
    {
        int? active = ActiveNumber(null);
        return _project.Db.Query($"SELECT {Columns} FROM versions v WHERE v.number = $n", r => Read(r, active), null, ("$n", number)).SingleOrDefault()
            ?? throw new ProjectException($"the project has no version v{number} (see 'defect model list').");
    }

    /// <summary>Makes a trained version the active one.</summary>
    /// <exception cref="ProjectException">The version does not exist or is not trained.</exception>
    public ModelVersion Activate(int number)
    {
        _project.Db.Write(t =>
        {
            string? status = _project.Db.Scalar("SELECT status FROM versions WHERE number = $n", t, ("$n", number)) as string;
            if (status != "trained")
            {
                throw new ProjectException(status is null
                    ? $"the project has no version v{number} (see 'defect model list')."
                    : $"v{number} is {status}, not trained: only a trained version can be active.");
            }

            _project.Db.SetMeta("active_version", number.ToString(CultureInfo.InvariantCulture), t);
        });
        return Get(number);
    }

    /// <summary>
    /// Deletes a version's model file; its record (configuration, lineage, metrics) stays with status deleted. The
    /// active version and a version still training cannot be deleted.
    /// </summary>
    /// <exception cref="ProjectException">The version does not exist, is active, or is training.</exception>
    public void Delete(int number)
    {
        string? file = _project.Db.Write(t =>
        {
            string? status = _project.Db.Scalar("SELECT status FROM versions WHERE number = $n", t, ("$n", number)) as string;
            if (status is null)
            {
                throw new ProjectException($"the project has no version v{number} (see 'defect model list').");
            }

            if (ActiveNumber(t) == number)
            {
                throw new ProjectException($"v{number} is the active version: activate another one before deleting it.");
            }

            if (status == "training")
            {
                throw new ProjectException($"v{number} is being trained; it cannot be deleted until it ends.");
            }

            string? f = _project.Db.Scalar("SELECT model_file FROM versions WHERE number = $n", t, ("$n", number)) as string;
            _project.Db.Execute("UPDATE versions SET status = CASE WHEN status = 'failed' THEN 'failed' ELSE 'deleted' END, model_file = NULL WHERE number = $n", t, ("$n", number));
            return f;
        });
        if (file is not null)
        {
            ContentStore.TryDelete(Path.Combine(_project.Folder, "models", file));
        }
    }

    /// <summary>Deletes all but the newest <paramref name="count"/> trained versions, never the active one; returns the numbers deleted.</summary>
    public IReadOnlyList<int> KeepLast(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int? active = ActiveNumber(null);
        List<int> trained = [.. List().Where(v => v.Status == ModelVersionStatus.Trained).Select(v => v.Number).OrderDescending()];
        List<int> kept = [.. trained.Take(count)];
        List<int> doomed = [.. trained.Where(n => !kept.Contains(n) && n != active)];
        foreach (int n in doomed)
        {
            Delete(n);
        }

        return doomed;
    }

    /// <summary>
    /// Two versions side by side: their metrics, and the test images both were tested on whose verdict changed (defect
    /// or good, or the label).
    /// </summary>
    /// <exception cref="ProjectException">A version does not exist.</exception>
    public VersionComparison Compare(int a, int b)
    {
        ModelVersion va = Get(a), vb = Get(b);
        var (common, changed) = _project.Db.Read(t =>
        {
            const string Join = "FROM version_results ra JOIN versions va ON va.id = ra.version_id AND va.number = $a " +
                "JOIN version_results rb ON rb.entry_id = ra.entry_id JOIN versions vb ON vb.id = rb.version_id AND vb.number = $b ";
            int count = Convert.ToInt32(_project.Db.Scalar("SELECT COUNT(*) " + Join, t, ("$a", a), ("$b", b)), CultureInfo.InvariantCulture);
            List<ChangedVerdict> rows = _project.Db.Query(
                "SELECT ra.entry_id, e.source, COALESCE(ve.label, e.label), ra.predicted, ra.is_defect, ra.confidence, rb.predicted, rb.is_defect, rb.confidence " + Join +
                "JOIN entries e ON e.id = ra.entry_id LEFT JOIN version_entries ve ON ve.version_id = vb.id AND ve.entry_id = ra.entry_id " +
                "WHERE ra.is_defect <> rb.is_defect OR ra.predicted <> rb.predicted ORDER BY ra.entry_id",
                r => new ChangedVerdict(r.GetInt64(0), r.GetString(1), r.GetString(2),
                    new Verdict(r.GetString(3), r.GetInt32(4) != 0, r.GetDouble(5)), new Verdict(r.GetString(6), r.GetInt32(7) != 0, r.GetDouble(8))),
                t, ("$a", a), ("$b", b));
            return (count, rows);
        });
        return new VersionComparison(va, vb, common, changed);
    }

    /// <summary>The dataset entries a version was trained and tested on, with their labels at the time (its lineage).</summary>
    /// <exception cref="ProjectException">The version does not exist.</exception>
    public IReadOnlyList<DatasetEntry> EntriesOf(int number)
    {
        _ = Get(number);
        return _project.Db.Query(
            "SELECT e.id, ve.split, ve.label, e.sha256, e.ext, e.mask_sha256, e.mask_ext, e.source, e.origin, e.added_at, e.verified, e.removed_at " +
            "FROM version_entries ve JOIN versions v ON v.id = ve.version_id JOIN entries e ON e.id = ve.entry_id WHERE v.number = $n ORDER BY e.id",
            _project.Dataset.Read, null, ("$n", number));
    }

    internal int? ActiveNumber(SqliteTransaction? t) =>
        _project.Db.Meta("active_version", t) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : null;

    internal long IdOf(int number, SqliteTransaction? t) =>
        _project.Db.Scalar("SELECT id FROM versions WHERE number = $n", t, ("$n", number)) as long?
            ?? throw new ProjectException($"the project has no version v{number} (see 'defect model list').");

    private string ResolveTask(ProjectTask task, List<DatasetEntry> train, string backbone)
    {
        bool onlyNormal = train.All(e => _project.IsNormal(e.Label));
        string resolved = task switch
        {
            ProjectTask.Classify => "classify",
            ProjectTask.Anomaly => "anomaly",
            // Labelled images with a backbone: the classifier, the anomaly model or both, by cross-validation.
            _ => onlyNormal ? "anomaly" : backbone.Length > 0 ? "auto" : "classify",
        };
        if (resolved == "anomaly" && backbone.Length == 0)
        {
            throw new ProjectException(onlyNormal && task == ProjectTask.Auto
                ? $"every training image is {string.Join(" or ", _project.NormalLabels)}, so this is anomaly detection, which needs an ONNX backbone (--backbone, for example MobileNetV2); or import labelled defects to train a classifier."
                : "the anomaly task needs an ONNX backbone (--backbone, for example MobileNetV2).");
        }

        if (resolved is "classify" or "auto" && train.Select(e => e.Label).Distinct().Count() < 2)
        {
            throw new ProjectException($"a classifier needs two labels or more in the training split; it has only '{train[0].Label}'.");
        }

        return resolved;
    }

    private IDefectModel Fit(string task, ImageDataset train, ModelTrainOptions options, string backbone, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        BackboneSpec? spec = backbone.Length == 0 ? null : BackboneSpec.FromFile(backbone);
        string[] normal = [.. _project.NormalLabels];
        if (task == "anomaly")
        {
            var trainer = new PatchCoreTrainer(new PatchCoreOptions
            {
                Backbone = spec,
                AutoConfig = new AutoConfigOptions { TimeBudget = options.TimeBudget },
                NormalLabels = normal,
            });
            return trainer.Fit(train, progress, cancellationToken);
        }

        string[] defects = [.. train.Select(i => i.Label).Distinct().Where(l => !_project.IsNormal(l))];
        var classifierOptions = new ImageClassificationOptions
        {
            Backbone = spec,
            Seed = options.Seed,
            NormalLabels = normal,
            PositiveLabel = defects.Length == 1 ? defects[0] : new ImageClassificationOptions().PositiveLabel,
            AutoConfig = new AutoConfigOptions { TimeBudget = options.TimeBudget },
        };
        if (task == "auto")
        {
            var choice = new LearnerChoiceTrainer(new LearnerChoiceOptions
            {
                Classifier = classifierOptions,
                Anomaly = new PatchCoreOptions { Backbone = spec, AutoConfig = new AutoConfigOptions { TimeBudget = options.TimeBudget }, NormalLabels = normal },
                Seed = options.Seed,
            });
            return choice.Fit(train, progress, cancellationToken);
        }

        using var classifier = new ImageClassificationTrainer(classifierOptions);
        return classifier.Fit(train, progress, cancellationToken);
    }

    private TestMetrics Score(List<DatasetEntry> test, List<DefectPrediction> predictions)
    {
        int tp = 0, fp = 0, tn = 0, fn = 0, exact = 0;
        double[] scores = new double[test.Count];
        bool[] positives = new bool[test.Count];
        for (int i = 0; i < test.Count; i++)
        {
            bool truth = !_project.IsNormal(test[i].Label);
            bool said = predictions[i].IsDefect;
            (tp, fp, tn, fn) = (truth, said) switch
            {
                (true, true) => (tp + 1, fp, tn, fn),
                (false, true) => (tp, fp + 1, tn, fn),
                (false, false) => (tp, fp, tn + 1, fn),
                _ => (tp, fp, tn, fn + 1),
            };
            exact += predictions[i].Label == test[i].Label || (!truth && !said) ? 1 : 0;
            scores[i] = predictions[i].Confidence;
            positives[i] = truth;
        }

        double? auc = positives.Contains(true) && positives.Contains(false) ? BinaryMetrics.RocAuc(scores, positives) : null;
        return new TestMetrics(test.Count, tp, fp, tn, fn, exact / (double)test.Count, auc);
    }

    private void MarkFailed(long versionId, string reason)
    {
        try
        {
            _project.Db.Write(t => _project.Db.Execute("UPDATE versions SET status = 'failed', finished_at = $now, error = $e WHERE id = $id AND status = 'training'", t,
                ("$now", CatalogDb.Now()), ("$e", reason), ("$id", versionId)));
        }
        catch (SqliteException)
        {
            // The next open marks it failed (its process will have gone).
        }
    }

    private ModelVersion Read(SqliteDataReader r, int? active)
    {
        int number = r.GetInt32(0);
        ModelConfiguration config = JsonSerializer.Deserialize(r.GetString(4), ProjectJsonContext.Default.ModelConfiguration)!;
        return new ModelVersion(number, r.GetString(1) switch
        {
            "training" => ModelVersionStatus.Training,
            "trained" => ModelVersionStatus.Trained,
            "deleted" => ModelVersionStatus.Deleted,
            _ => ModelVersionStatus.Failed,
        })
        {
            Learner = r.IsDBNull(3) ? null : r.GetString(3),
            Configuration = config,
            ModelPath = r.IsDBNull(5) ? null : Path.Combine(_project.Folder, "models", r.GetString(5)),
            StartedAt = CatalogDb.Time(r.GetString(6)),
            FinishedAt = r.IsDBNull(7) ? null : CatalogDb.Time(r.GetString(7)),
            TrainingSeconds = r.IsDBNull(8) ? null : r.GetDouble(8),
            Metrics = r.IsDBNull(9) ? null : JsonSerializer.Deserialize(r.GetString(9), ProjectJsonContext.Default.StoredMetrics)!.ToMetrics(),
            Error = r.IsDBNull(10) ? null : r.GetString(10),
            IsActive = active == number,
            TrainImages = r.GetInt32(11),
            TestImages = r.GetInt32(12),
        };
    }

    private static string TaskName(ProjectTask task) => task switch
    {
        ProjectTask.Classify => "classify",
        ProjectTask.Anomaly => "anomaly",
        _ => "auto",
    };
}
