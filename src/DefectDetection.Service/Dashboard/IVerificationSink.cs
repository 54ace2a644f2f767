namespace DefectDetection.Service.Dashboard;

/// <summary>
/// Where people's verifications of results go. The service keeps them in its own store
/// (<c>verifications.db</c> in the data folder); a project-aware sink (DefectDetection.Projects) can add verified
/// images to a project's training set by implementing this interface and being registered before the service.
/// </summary>
public interface IVerificationSink
{
    /// <summary>Records a verification (a later one for the same result replaces the earlier).</summary>
    /// <param name="verification">What was verified.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    Task RecordAsync(Verification verification, CancellationToken cancellationToken = default);

    /// <summary>The verification of a result, or null.</summary>
    /// <param name="resultId">The result's id.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    Task<Verification?> FindAsync(string resultId, CancellationToken cancellationToken = default);
}

/// <summary>A person's verdict on one result.</summary>
public sealed record Verification
{
    /// <summary>The result's id.</summary>
    public required string ResultId { get; init; }

    /// <summary>Whether the model's verdict was right.</summary>
    public required bool Correct { get; init; }

    /// <summary>The true label (<c>normal</c>, <c>anomaly</c> or a defect label).</summary>
    public required string TrueLabel { get; init; }

    /// <summary>The stored image, for adding it to a training set.</summary>
    public required string ImagePath { get; init; }

    /// <summary>Whether the image should go into the project's training set.</summary>
    public bool AddToTrainingSet { get; init; }

    /// <summary>The name of the API key that verified it.</summary>
    public required string VerifiedBy { get; init; }

    /// <summary>When.</summary>
    public required DateTimeOffset VerifiedAt { get; init; }
}
