namespace DefectDetection.Projects;

/// <summary>
/// A project cannot be created, opened or changed as asked: the folder is not a project (or already one), the catalog
/// was written by a newer version, or a named entry, version or trial does not exist. The message names the file or
/// item and what is wrong.
/// </summary>
public sealed class ProjectException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file or item.</param>
    /// <param name="inner">The cause, if any.</param>
    public ProjectException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
