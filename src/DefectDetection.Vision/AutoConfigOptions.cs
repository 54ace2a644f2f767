namespace DefectDetection.Vision;

/// <summary>
/// Automatic configuration: settings a learner's options leave unset (null) are chosen from the training data by
/// validation, and the search is recorded in the model (<c>TrainingSearch</c>). Settings given explicitly are kept
/// and are not searched. See docs/auto-config.md for what each learner searches and how candidates are compared.
/// </summary>
public sealed record AutoConfigOptions
{
    /// <summary>Whether unset settings are searched (true, the default) or take their fixed defaults.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// The time the search may take, final training excluded. Candidates run from the cheapest; one whose estimated
    /// time would pass the budget is skipped and recorded as such. Default 5 minutes; <see cref="TimeSpan.Zero"/> or
    /// less: no limit.
    /// </summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Seed of the synthetic defects and image sampling. Default 1.</summary>
    public int Seed { get; init; } = 1;
}
