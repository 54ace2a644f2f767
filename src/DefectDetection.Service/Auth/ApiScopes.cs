namespace DefectDetection.Service.Auth;

/// <summary>What an API key may do. <see cref="Admin"/> implies every scope.</summary>
[Flags]
public enum ApiScopes
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Upload images.</summary>
    Ingest = 1,

    /// <summary>Read results, statistics, metrics and the OpenAPI document.</summary>
    Read = 2,

    /// <summary>Everything, including the webhook dead-letter list.</summary>
    Admin = 4,
}
