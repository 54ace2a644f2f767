using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Projects;
using DefectDetection.Vision;

namespace DefectDetection.Service.Models;

/// <summary>
/// Serves a project's active model version (<see cref="DefectProject"/>) and follows it: the catalog's revision is
/// polled, and when another version is activated (<c>defect model activate</c>, or a retrain that activates) its model
/// replaces the served one without dropping requests; work in progress finishes on the version it started with.
/// </summary>
public sealed class ProjectModelSource : IModelSource
{
    private readonly SwitchableModelSource _inner;
    private readonly DefectModelLoadOptions? _load;
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private long _revision;
    private int _number;

    private ProjectModelSource(string folder, SwitchableModelSource inner, long revision, int number, TimeSpan poll, DefectModelLoadOptions? load)
    {
        Folder = folder;
        _inner = inner;
        _revision = revision;
        _number = number;
        _load = load;
        _timer = new Timer(_ => Poll(), null, poll, poll);
    }

    /// <summary>The project folder.</summary>
    public string Folder { get; }

    /// <summary>The version served now (<c>v1</c>, <c>v2</c>, ...).</summary>
    public string Version => _inner.Version;

    /// <summary>The last error met while following the project (a version that would not load), or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Opens the project and loads its active version.</summary>
    /// <param name="folder">The project folder.</param>
    /// <param name="poll">How often the catalog is checked for another active version (at least 100 ms).</param>
    /// <param name="load">How models are loaded (a backbone path).</param>
    /// <exception cref="ProjectException">The folder is not a project, or the project has no active version with a model file.</exception>
    public static ProjectModelSource Open(string folder, TimeSpan poll, DefectModelLoadOptions? load = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentOutOfRangeException.ThrowIfLessThan(poll, TimeSpan.FromMilliseconds(100));
        string full = Path.GetFullPath(folder);
        using DefectProject project = DefectProject.Open(full);
        long revision = project.Revision;
        var active = project.Models.Active;
        if (active?.ModelPath is not { } path)
        {
            throw new ProjectException($"{full}: the project has no active model version to serve; train one (defect model train) or activate one (defect model activate).");
        }

        return new ProjectModelSource(full, new SwitchableModelSource(DefectModel.Load(path, load), active.Name), revision, active.Number, poll, load);
    }

    /// <inheritdoc/>
    public ModelLease Acquire() => _inner.Acquire();

    /// <summary>Checks the catalog now and switches to the active version when it changed; true when it switched.</summary>
    public bool Refresh()
    {
        lock (_gate)
        {
            using DefectProject project = DefectProject.Open(Folder);
            long revision = project.Revision;
            if (revision == _revision)
            {
                return false;
            }

            var active = project.Models.Active;
            if (active?.ModelPath is not { } path || active.Number == _number)
            {
                _revision = revision;
                return false;
            }

            // A version that fails to load leaves the revision unseen: the next poll tries again.
            _inner.Switch(DefectModel.Load(path, _load), active.Name);
            _number = active.Number;
            _revision = revision;
            LastError = null;
            return true;
        }
    }

    /// <summary>Stops following the project and releases the model once work in progress ends.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        _inner.Dispose();
    }

    private void Poll()
    {
        try
        {
            Refresh();
        }
        catch (Exception e) when (e is ProjectException or IOException or ModelFileException or InvalidDataException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // Keep serving the current version; the error is visible on the source.
            LastError = e.Message;
        }
    }
}
