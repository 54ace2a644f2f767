using System.Text.Json;
using DefectDetection.Projects;
using DefectDetection.Service.Models;
using DefectDetection.Vision;

namespace DefectDetection.Service.Dashboard;

/// <summary>One model version the dashboard can show and activate.</summary>
/// <param name="Version">Its name: a file's version, or a project's <c>vN</c>.</param>
/// <param name="Activatable">True when it can be served (a model file, or a trained project version).</param>
/// <param name="Active">True for the version served now.</param>
/// <param name="Metrics">Its test metrics by name.</param>
internal sealed record ModelVersionInfo(string Version, bool Activatable, bool Active, IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>The model file (a data folder's version), or null.</summary>
    public string? Path { get; init; }

    /// <summary>The project's record of the version (with <c>--project</c>), or null.</summary>
    public ModelVersion? Project { get; init; }
}

/// <summary>
/// The model versions. With a project (<c>defect serve --project</c>): the project's versions with their test metrics,
/// activated through <see cref="DashboardProject.Activate"/>. Otherwise: the one served now and every <c>.ddmodel</c>
/// file in <c>models/</c> under the data folder, each with the numbers of a sidecar <c>&lt;file&gt;.metrics.json</c>
/// (for example the output of <c>defect evaluate --json</c>) when present; activating loads the file and switches the
/// served model with <see cref="SwitchableModelSource.Switch"/>. Either way work in progress finishes on the old model.
/// </summary>
internal sealed class ModelCatalog(IModelSource source, InspectionServiceOptions options, DashboardProject project)
{
    private readonly SemaphoreSlim _switching = new(1, 1);

    public string Folder => System.IO.Path.Combine(options.DataDirectory, "models");

    public IReadOnlyList<ModelVersionInfo> List()
    {
        if (project.Exists)
        {
            return project.Use(p => p.Models.List()).Select(v => new ModelVersionInfo(v.Name, v.Status == ModelVersionStatus.Trained, v.IsActive, ProjectMetrics(v.Metrics)) { Project = v }).ToList();
        }

        string active = Active();
        List<ModelVersionInfo> versions = [];
        if (Directory.Exists(Folder))
        {
            foreach (string file in Directory.EnumerateFiles(Folder, "*.ddmodel").Order(StringComparer.Ordinal))
            {
                string version = SwitchableModelSource.VersionOf(file);
                versions.Add(new ModelVersionInfo(version, true, version == active, MetricsOf(file)) { Path = file });
            }
        }

        if (!versions.Any(v => v.Active))
        {
            versions.Insert(0, new ModelVersionInfo(active, false, true, new Dictionary<string, double>()));
        }

        return versions;
    }

    /// <summary>Serves <paramref name="version"/>; false when no file or project version has that name or the source cannot switch.</summary>
    /// <exception cref="ProjectException">The project's version is not trained.</exception>
    public async Task<bool> ActivateAsync(string version, CancellationToken cancellationToken)
    {
        if (project.Exists)
        {
            if (!version.StartsWith('v') || !int.TryParse(version.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number)
                || !List().Any(v => v.Version == version))
            {
                return false;
            }

            await Task.Run(() => project.Activate(number), cancellationToken);
            return true;
        }

        if (source is not SwitchableModelSource switchable)
        {
            return false;
        }

        await _switching.WaitAsync(cancellationToken);
        try
        {
            if (version == switchable.Version)
            {
                return true;
            }

            ModelVersionInfo? target = List().FirstOrDefault(v => v.Version == version && v.Activatable);
            if (target is null)
            {
                return false;
            }

            switchable.Switch(DefectModel.Load(target.Path!), version);
            return true;
        }
        finally
        {
            _switching.Release();
        }
    }

    public string Active()
    {
        using ModelLease lease = source.Acquire();
        return lease.Version;
    }

    /// <summary>A project version's test metrics under the names the page shows (none for a version without them).</summary>
    private static Dictionary<string, double> ProjectMetrics(TestMetrics? m)
    {
        Dictionary<string, double> metrics = new(StringComparer.Ordinal);
        if (m is not null)
        {
            metrics["accuracy"] = m.Accuracy;
            metrics["precision"] = m.Precision;
            metrics["recall"] = m.Recall;
            metrics["f1"] = m.F1;
            if (m.RocAuc is { } auc)
            {
                metrics["roc_auc"] = auc;
            }

            metrics["label_accuracy"] = m.LabelAccuracy;
        }

        return metrics;
    }

    private static Dictionary<string, double> MetricsOf(string modelFile)
    {
        Dictionary<string, double> metrics = new(StringComparer.Ordinal);
        string path = System.IO.Path.ChangeExtension(modelFile, ".metrics.json");
        if (!File.Exists(path))
        {
            return metrics;
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in doc.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Number)
                    {
                        metrics[p.Name] = p.Value.GetDouble();
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A broken sidecar shows no metrics rather than hiding the version.
        }

        return metrics;
    }
}
