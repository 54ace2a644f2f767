namespace DefectDetection.Cli;

/// <summary>Where commands write, and the exit codes they return.</summary>
internal sealed class CliContext(TextWriter stdout, TextWriter stderr)
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The work failed (an I/O or internal error).</summary>
    public const int Failure = 1;

    /// <summary>The input was bad: a missing file, an invalid image or model, a wrong argument.</summary>
    public const int BadInput = 2;

    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    /// <summary>
    /// Runs a command body, turning known exceptions into a message and an exit code: bad input (a file, model,
    /// dataset, pipeline or argument the user gave) is exit 2, an I/O failure exit 1. Exceptions gathered by parallel
    /// work are unwrapped first.
    /// </summary>
    public int Guard(Func<int> body)
    {
        try
        {
            return Unwrapped(body);
        }
        catch (Exception ex) when (ex is ModelFiles.ModelFileException or Datasets.DatasetException or Onnx.OnnxModelException or Vision.PipelineFiles.PipelineFileException)
        {
            Error.WriteLine($"error: {ex.Message}");
            return BadInput;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            Error.WriteLine($"error: {ex.Message}");
            return BadInput;
        }
        catch (Exception ex) when (ex is Imaging.InvalidImageContentException or ArgumentException or NotSupportedException or FormatException or InvalidDataException)
        {
            Error.WriteLine($"error: {ex.Message}");
            return BadInput;
        }
        catch (IOException ex)
        {
            Error.WriteLine($"error: {ex.Message}");
            return Failure;
        }
        catch (UnauthorizedAccessException ex)
        {
            Error.WriteLine($"error: {ex.Message}");
            return Failure;
        }
    }

    // The body, with an AggregateException from parallel work replaced by its first inner exception (the others are
    // the same failure on other items, or cancellations it caused).
    private static int Unwrapped(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (AggregateException ex)
        {
            Exception first = ex.Flatten().InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? ex.InnerException ?? ex;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            throw;
        }
    }
}
