namespace DefectDetection.ModelFiles;

/// <summary>
/// Raised when a <c>.ddmodel</c> file cannot be loaded: it is corrupt or truncated, made by a newer version of the
/// library, or made for a different backbone. The message names the file, the entry where known, and the reason.
/// </summary>
public sealed class ModelFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The model file.</param>
    /// <param name="entry">The entry inside the file, or null.</param>
    /// <param name="reason">What is wrong, in words for people.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public ModelFileException(string filePath, string? entry, string reason, Exception? inner = null)
        : base(entry is null ? $"{filePath}: {reason}." : $"{filePath} ({entry}): {reason}.", inner)
    {
        FilePath = filePath;
        Entry = entry;
        Reason = reason;
    }

    /// <summary>The model file.</summary>
    public string FilePath { get; }

    /// <summary>The entry inside the file, or null.</summary>
    public string? Entry { get; }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }
}
