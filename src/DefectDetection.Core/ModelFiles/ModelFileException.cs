namespace DefectDetection.ModelFiles;

/// <summary>
/// Raised when a <c>.ddmodel</c> file cannot be loaded: it is corrupt or truncated, made by a newer version of the
/// library, exceeds a size limit, or made for a different backbone. The message names the file, the entry and the
/// field (a JSON path in <c>manifest.json</c>) where known, and the reason.
/// </summary>
public sealed class ModelFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The model file.</param>
    /// <param name="entry">The entry inside the file, or null.</param>
    /// <param name="reason">What is wrong, in words for people.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public ModelFileException(string filePath, string? entry, string reason, Exception? inner = null)
        : this(filePath, entry, null, reason, inner)
    {
    }

    /// <summary>Creates the exception for a field of an entry.</summary>
    /// <param name="filePath">The model file.</param>
    /// <param name="entry">The entry inside the file, or null.</param>
    /// <param name="field">The field inside the entry as a JSON path (<c>$.entries[0].shape</c>), or null.</param>
    /// <param name="reason">What is wrong, in words for people.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public ModelFileException(string filePath, string? entry, string? field, string reason, Exception? inner = null)
        : base(FormatMessage(filePath, entry, field, reason), inner)
    {
        FilePath = filePath;
        Entry = entry;
        Field = field;
        Reason = reason;
    }

    /// <summary>The model file.</summary>
    public string FilePath { get; }

    /// <summary>The entry inside the file, or null.</summary>
    public string? Entry { get; }

    /// <summary>The field inside the entry as a JSON path (for example <c>$.entries[0].shape</c>), or null.</summary>
    public string? Field { get; }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }

    private static string FormatMessage(string filePath, string? entry, string? field, string reason) => (entry, field) switch
    {
        (null, null) => $"{filePath}: {reason}.",
        (_, null) => $"{filePath} ({entry}): {reason}.",
        _ => $"{filePath} ({entry ?? "?"}, field {field}): {reason}.",
    };
}
