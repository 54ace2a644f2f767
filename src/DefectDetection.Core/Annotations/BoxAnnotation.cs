using DefectDetection.Imaging;

namespace DefectDetection.Annotations;

/// <summary>A labelled box on an image (ground truth or a prediction).</summary>
/// <param name="Box">The box in pixels.</param>
/// <param name="Label">The class name.</param>
/// <param name="Score">Confidence for predictions; 1 for ground truth.</param>
public sealed record BoxAnnotation(Rectangle Box, string Label, float Score = 1f);

/// <summary>The boxes of one image.</summary>
/// <param name="FileName">The image file name (relative to the annotation's image folder).</param>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="Boxes">The boxes.</param>
public sealed record ImageAnnotation(string FileName, int Width, int Height, IReadOnlyList<BoxAnnotation> Boxes);

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
