using DefectDetection.Models;
using DefectDetection.Projects;
using DefectDetection.Service.Models;

namespace DefectDetection.Service.Dashboard;

/// <summary>Where a retraining started from the dashboard is: running (with its stage), trained or failed.</summary>
/// <param name="Status"><c>running</c>, <c>trained</c> or <c>failed</c>.</param>
/// <param name="RequestedBy">The name of the key that started it.</param>
/// <param name="StartedAt">When it started.</param>
internal sealed record RetrainState(string Status, string RequestedBy, DateTimeOffset StartedAt)
{
    /// <summary>The training step being done (as the learner names it), while running.</summary>
    public string? Stage { get; init; }

    /// <summary>How far that step is, in [0, 1].</summary>
    public double Fraction { get; init; }

    /// <summary>Items done and in the step, when the step counts them.</summary>
    public (int Done, int Total) Items { get; init; }

    /// <summary>The version trained, once trained.</summary>
    public string? Version { get; init; }

    /// <summary>Why it failed.</summary>
    public string? Error { get; init; }

    /// <summary>When it ended.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>
/// The project behind <c>defect serve --project</c> as the dashboard uses it: opened per use (one
/// <see cref="DefectProject"/> instance is not thread-safe), activations passed on to the <see cref="ProjectModelSource"/>
/// at once, and one retraining at a time on a background thread, so that the service keeps judging images meanwhile.
/// Without a project (<c>--model</c>) <see cref="Exists"/> is false and the dashboard's project pages answer 404.
/// </summary>
internal sealed class DashboardProject(IModelSource models, TimeProvider clock) : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task _retraining = Task.CompletedTask;
    private RetrainState? _state;

    /// <summary>True when the service serves a project.</summary>
    public bool Exists => models is ProjectModelSource;

    /// <summary>The project folder; only when <see cref="Exists"/>.</summary>
    public string Folder => Source.Folder;

    /// <summary>The latest retraining started here (running or ended), or null.</summary>
    public RetrainState? Retraining => Volatile.Read(ref _state);

    private ProjectModelSource Source => models as ProjectModelSource ?? throw new InvalidOperationException("The service does not serve a project.");

    /// <summary>Opens the project, does <paramref name="work"/> and closes it.</summary>
    public T Use<T>(Func<DefectProject, T> work)
    {
        using DefectProject project = DefectProject.Open(Folder);
        return work(project);
    }

    /// <summary>Makes version <paramref name="number"/> the project's active one and serves it now (requests in progress finish on the old one).</summary>
    /// <exception cref="ProjectException">No such version, or it is not trained.</exception>
    public void Activate(int number)
    {
        Use(p => p.Models.Activate(number));
        Source.Refresh();
    }

    /// <summary>Starts training a new version on the current dataset (<see cref="ProjectModels.Retrain"/>) in the background; false when one is running.</summary>
    /// <param name="requestedBy">Who asked (shown with the progress).</param>
    public bool TryStartRetraining(string requestedBy)
    {
        lock (_gate)
        {
            if (!_retraining.IsCompleted)
            {
                return false;
            }

            RetrainState start = new("running", requestedBy, clock.GetUtcNow()) { Stage = "starting" };
            Volatile.Write(ref _state, start);
            _retraining = Task.Factory.StartNew(() => Retrain(start, _stopping.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            return true;
        }
    }

    /// <summary>Cancels a retraining in progress (its version is marked failed) and waits for it to end.</summary>
    /// <remarks>Synchronous, so that a host disposed with <c>Dispose</c> (as <c>defect serve</c> does) can release it.</remarks>
    public void Dispose()
    {
        _stopping.Cancel();
        _retraining.Wait();
        _stopping.Dispose();
    }

    private void Retrain(RetrainState start, CancellationToken cancellationToken)
    {
        try
        {
            ModelVersion version = Use(p => p.Models.Retrain(progress: new StateProgress(this, start), cancellationToken: cancellationToken));
            Volatile.Write(ref _state, start with { Status = "trained", Stage = null, Fraction = 1, Version = version.Name, FinishedAt = clock.GetUtcNow() });
        }
        catch (Exception e)
        {
            Volatile.Write(ref _state, start with { Status = "failed", Stage = null, Error = e is OperationCanceledException ? "cancelled (the service stopped)" : e.Message, FinishedAt = clock.GetUtcNow() });
        }
    }

    /// <summary>Writes each progress report into the state on the training thread (no queueing to the thread pool).</summary>
    private sealed class StateProgress(DashboardProject owner, RetrainState start) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) =>
            Volatile.Write(ref owner._state, start with { Stage = value.Stage, Fraction = value.Fraction, Items = (value.Done, value.Total) });
    }
}
