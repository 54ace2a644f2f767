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

    /// <summary>Runs a command body, turning known exceptions into a message and an exit code.</summary>
    public int Guard(Func<int> body)
    {
        try
        {
            return body();
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
}
