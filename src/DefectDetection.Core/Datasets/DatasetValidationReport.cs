using System.Text;

namespace DefectDetection.Datasets;

/// <summary>What kind of problem <see cref="ImageDataset.Validate"/> found.</summary>
public enum DatasetProblemKind
{
    /// <summary>An image or mask file does not exist.</summary>
    MissingFile,

    /// <summary>A file exists but is not an image we can read.</summary>
    UnreadableImage,

    /// <summary>An image carries a label outside the expected labels.</summary>
    UnknownLabel,

    /// <summary>A label has no images.</summary>
    EmptyLabel,

    /// <summary>A mask's size differs from its image's size.</summary>
    MaskSizeMismatch,

    /// <summary>The same image file is listed more than once.</summary>
    DuplicateImage,

    /// <summary>A file in a label folder was skipped because its extension is not an image extension.</summary>
    IgnoredFile,
}

/// <summary>One problem found in a dataset.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Path">The file concerned (or the label for <see cref="DatasetProblemKind.EmptyLabel"/>).</param>
/// <param name="Message">A sentence for people.</param>
/// <param name="IsError">False for warnings that do not stop training (ignored files, duplicates).</param>
public sealed record DatasetProblem(DatasetProblemKind Kind, string Path, string Message, bool IsError = true);

/// <summary>The result of <see cref="ImageDataset.Validate"/>: every problem found, none dropped silently.</summary>
public sealed class DatasetValidationReport
{
    internal DatasetValidationReport(IReadOnlyList<DatasetProblem> problems, int imageCount)
    {
        Problems = problems;
        ImageCount = imageCount;
    }

    /// <summary>All problems, errors and warnings, in dataset order.</summary>
    public IReadOnlyList<DatasetProblem> Problems { get; }

    /// <summary>Number of images checked.</summary>
    public int ImageCount { get; }

    /// <summary>True when no problem is an error.</summary>
    public bool IsValid => !Problems.Any(p => p.IsError);

    /// <summary>Throws a <see cref="DatasetException"/> listing the errors when the dataset is not valid.</summary>
    public void ThrowIfInvalid()
    {
        DatasetProblem[] errors = Problems.Where(p => p.IsError).ToArray();
        if (errors.Length == 0)
        {
            return;
        }

        StringBuilder sb = new();
        sb.Append(errors.Length).Append(errors.Length == 1 ? " problem" : " problems").Append(" in the dataset: ");
        for (int i = 0; i < Math.Min(errors.Length, 10); i++)
        {
            sb.Append(i == 0 ? string.Empty : "; ").Append(errors[i].Message);
        }

        if (errors.Length > 10)
        {
            sb.Append("; and ").Append(errors.Length - 10).Append(" more");
        }

        throw new DatasetException(errors[0].Path, 0, null, sb.ToString());
    }

    /// <inheritdoc />
    public override string ToString()
    {
        StringBuilder sb = new();
        sb.Append(ImageCount).Append(" images, ").Append(Problems.Count(p => p.IsError)).Append(" errors, ")
          .Append(Problems.Count(p => !p.IsError)).AppendLine(" warnings");
        foreach (DatasetProblem p in Problems)
        {
            sb.Append(p.IsError ? "error: " : "warning: ").AppendLine(p.Message);
        }

        return sb.ToString();
    }
}
