using DefectDetection.Projects;

namespace DefectDetection.Service.Dashboard;

/// <summary>
/// The verification sink of <c>defect serve --project</c>: verifications are kept like the default sink's, and an
/// image marked "add to the training set" joins the project's dataset under its true label as a verified entry, for
/// the next <c>defect model retrain</c>.
/// </summary>
public sealed class ProjectVerificationSink : IVerificationSink
{
    private readonly string _project;
    private readonly SqliteVerificationSink _store;
    private readonly Lock _gate = new();

    /// <summary>A sink writing to the project in <paramref name="projectFolder"/>, keeping verifications in <paramref name="dataDirectory"/>.</summary>
    /// <param name="projectFolder">The project folder.</param>
    /// <param name="dataDirectory">The service's data folder.</param>
    public ProjectVerificationSink(string projectFolder, string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(projectFolder);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        _project = Path.GetFullPath(projectFolder);
        _store = new SqliteVerificationSink(SqliteVerificationSink.PathIn(dataDirectory));
    }

    /// <inheritdoc/>
    public async Task RecordAsync(Verification verification, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verification);
        if (verification.AddToTrainingSet)
        {
            // The project's catalog serialises writers itself; the lock keeps this process's copies in order.
            lock (_gate)
            {
                using DefectProject project = DefectProject.Open(_project);
                project.Dataset.AddVerified(verification.ImagePath, verification.TrueLabel, $"service result {verification.ResultId} verified by {verification.VerifiedBy}", cancellationToken);
            }
        }

        await _store.RecordAsync(verification, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<Verification?> FindAsync(string resultId, CancellationToken cancellationToken = default) => _store.FindAsync(resultId, cancellationToken);
}
