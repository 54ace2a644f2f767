using System.Text.Json;
using DefectDetection.Service.Models;
using DefectDetection.Vision;

namespace DefectDetection.Service.Dashboard;

/// <summary>One model version the dashboard can show and activate.</summary>
internal sealed record ModelVersionInfo(string Version, string? Path, bool Active, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// The model versions: the one served now and every <c>.ddmodel</c> file in <c>models/</c> under the data folder,
/// each with the numbers of a sidecar <c>&lt;file&gt;.metrics.json</c> (for example the output of
/// <c>defect evaluate --json</c>) when present. Activating loads the file and switches the served model with
/// <see cref="SwitchableModelSource.Switch"/>, so work in progress finishes on the old one.
/// </summary>
internal sealed class ModelCatalog(IModelSource source, InspectionServiceOptions options)
{
    private readonly SemaphoreSlim _switching = new(1, 1);

    public string Folder => System.IO.Path.Combine(options.DataDirectory, "models");

    public IReadOnlyList<ModelVersionInfo> List()
    {
        string active = Active();
        List<ModelVersionInfo> versions = [];
        if (Directory.Exists(Folder))
        {
            foreach (string file in Directory.EnumerateFiles(Folder, "*.ddmodel").Order(StringComparer.Ordinal))
            {
                string version = SwitchableModelSource.VersionOf(file);
                versions.Add(new ModelVersionInfo(version, file, version == active, MetricsOf(file)));
            }
        }

        if (!versions.Any(v => v.Active))
        {
            versions.Insert(0, new ModelVersionInfo(active, null, true, new Dictionary<string, double>()));
        }

        return versions;
    }

    /// <summary>Serves <paramref name="version"/>; false when no file has that version or the source cannot switch.</summary>
    public async Task<bool> ActivateAsync(string version, CancellationToken cancellationToken)
    {
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

            ModelVersionInfo? target = List().FirstOrDefault(v => v.Version == version && v.Path is not null);
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
