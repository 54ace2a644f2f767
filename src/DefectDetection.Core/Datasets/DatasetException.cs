namespace DefectDetection.Datasets;

/// <summary>
/// Raised when a dataset description (a folder layout, manifest, CSV list or splits file) cannot be read.
/// The message names the file and, where known, the line and field.
/// </summary>
public sealed class DatasetException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The file or folder being read.</param>
    /// <param name="line">1-based line number, or 0 when not tied to a line.</param>
    /// <param name="field">The field (JSON property or CSV column), or null.</param>
    /// <param name="reason">What is wrong, in words for people.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public DatasetException(string filePath, int line, string? field, string reason, Exception? inner = null)
        : base(BuildMessage(filePath, line, field, reason), inner)
    {
        FilePath = filePath;
        Line = line;
        Field = field;
        Reason = reason;
    }

    /// <summary>The file or folder being read.</summary>
    public string FilePath { get; }

    /// <summary>1-based line number, or 0 when not tied to a line.</summary>
    public int Line { get; }

    /// <summary>The field (JSON property or CSV column), or null.</summary>
    public string? Field { get; }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }

    private static string BuildMessage(string filePath, int line, string? field, string reason)
    {
        string where = line > 0 ? $"{filePath}, line {line}" : filePath;
        return field is null ? $"{where}: {reason}." : $"{where}, field '{field}': {reason}.";
    }
}
