using DefectDetection.Datasets;

namespace DefectDetection.Annotations;

/// <summary>The boxes of one image.</summary>
/// <param name="FileName">The image file name (relative to the annotation's image folder).</param>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="Boxes">The boxes.</param>
public sealed record ImageAnnotation(string FileName, int Width, int Height, IReadOnlyList<LabeledBox> Boxes);

/// <summary>Raised when an annotation file is malformed; names the file and what is wrong.</summary>
public sealed class AnnotationFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file (or a description of the source).</param>
    /// <param name="reason">What is wrong.</param>
    /// <param name="inner">The underlying exception.</param>
    public AnnotationFormatException(string path, string reason, Exception? inner = null)
        : base($"{path}: {reason}", inner)
    {
        Path = path;
        Reason = reason;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }
}
