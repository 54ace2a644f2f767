using DefectDetection.Imaging;
using DefectDetection.Imaging.Formats;
using DefectDetection.IO;

namespace DefectDetection.Cli;

/// <summary>
/// The files one run of a command writes, with the rules every writing command follows:
/// <list type="bullet">
/// <item>an existing file is replaced only with <c>--overwrite</c>;</item>
/// <item>an input of the run is never written over, not even with <c>--overwrite</c> (paths are compared after
/// resolving symbolic links, case-sensitively on Linux);</item>
/// <item>two outputs of one run never share a file: <see cref="Claim"/> refuses the second, and
/// <see cref="ClaimEach"/> gives inputs with the same file name the names <c>x</c>, <c>x-2</c>, <c>x-3</c> ... in
/// the order of the inputs;</item>
/// <item>each file is written to a temporary name beside it and renamed into place, so a failure never leaves a
/// half-written file (<see cref="Write"/>, <see cref="Save"/>).</item>
/// </list>
/// Claim every output before the work starts, so that a refused name costs nothing. Problems end in an
/// <see cref="ArgumentException"/> naming the option and the file (exit code 2).
/// </summary>
internal sealed class OutputPlan
{
    private readonly HashSet<string> _inputs = new(FileSystemPaths.Comparer);
    private readonly HashSet<string> _claimed = new(FileSystemPaths.Comparer);
    private readonly HashSet<string> _claimedAsGiven = new(FileSystemPaths.Comparer);

    /// <summary>Creates the plan of one command run.</summary>
    /// <param name="inputs">Every file the run reads (images, models, tensors); null entries are ignored.</param>
    /// <param name="overwrite">The command's <c>--overwrite</c>: existing files may be replaced.</param>
    public OutputPlan(IEnumerable<string?> inputs, bool overwrite)
    {
        Overwrite = overwrite;
        foreach (string? input in inputs)
        {
            if (!string.IsNullOrEmpty(input))
            {
                _inputs.Add(FileSystemPaths.Resolve(input));
            }
        }
    }

    /// <summary>The help text of every command's <c>--overwrite</c> option.</summary>
    public const string OverwriteHelp = "Replace output files that already exist (inputs are never replaced).";

    /// <summary>Whether existing files may be replaced.</summary>
    public bool Overwrite { get; }

    /// <summary>
    /// Reserves <paramref name="path"/> for this run and returns its full path.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="option">The option or argument that named it (<c>--output</c>, <c>OUT</c>), for messages.</param>
    /// <exception cref="ArgumentException">The file is an input, a folder, already claimed by this run, or exists without <c>--overwrite</c>.</exception>
    public string Claim(string path, string option)
    {
        string full = Path.GetFullPath(path);
        string real = FileSystemPaths.Resolve(full);
        if (_inputs.Contains(real))
        {
            throw new ArgumentException($"{option}: '{full}' is an input of this command; refusing to overwrite it (even with --overwrite).");
        }

        if (_claimed.Contains(real))
        {
            throw new ArgumentException($"{option}: '{full}' would be written twice by this command.");
        }

        if (Directory.Exists(real))
        {
            throw new ArgumentException($"{option}: '{full}' is a folder, not a file.");
        }

        if (!Overwrite && (File.Exists(full) || new FileInfo(full).LinkTarget is not null))
        {
            throw new ArgumentException($"{option}: '{full}' already exists; add --overwrite to replace it.");
        }

        _claimed.Add(real);
        _claimedAsGiven.Add(full);
        return full;
    }

    /// <summary>
    /// Reserves, for each input, the files <c>stem + suffix</c> in <paramref name="folder"/> (one per suffix), where
    /// stem is the input's file name without extension. When an earlier input of this run already took a stem
    /// (<c>a/x.jpg</c> and <c>b/x.jpg</c>), the later one gets <c>x-2</c>, then <c>x-3</c> ...: the same inputs
    /// in the same order always get the same names.
    /// </summary>
    /// <param name="inputs">The input files, in order.</param>
    /// <param name="folder">The output folder.</param>
    /// <param name="option">The option that named the folder, for messages.</param>
    /// <param name="suffixes">The endings of the files written per input, e.g. <c>.overlay.png</c>.</param>
    /// <returns>Per input, its output paths in the order of <paramref name="suffixes"/>.</returns>
    /// <exception cref="ArgumentException">As for <see cref="Claim"/>.</exception>
    public IReadOnlyList<string[]> ClaimEach(IEnumerable<string> inputs, string folder, string option, params string[] suffixes)
    {
        List<string[]> result = [];
        foreach (string input in inputs)
        {
            string stem = Path.GetFileNameWithoutExtension(input);
            for (int n = 1; ; n++)
            {
                string name = n == 1 ? stem : $"{stem}-{n}";
                string[] paths = [.. suffixes.Select(s => Path.GetFullPath(Path.Combine(folder, name + s)))];
                if (!paths.Any(p => _claimed.Contains(FileSystemPaths.Resolve(p))))
                {
                    result.Add([.. paths.Select(p => Claim(p, option))]);
                    break;
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Writes a claimed file: <paramref name="write"/> fills a temporary file beside it, which then replaces the
    /// file in one rename. The folder is created if missing. On failure the temporary file is removed.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="path"/> was not claimed.</exception>
    public void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        if (!_claimedAsGiven.Contains(full))
        {
            throw new InvalidOperationException($"'{full}' was not claimed before it was written.");
        }

        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid().ToString("N")[..8]}.tmp");
        try
        {
            using (FileStream stream = new(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
            }

            File.Move(temp, full, Overwrite);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Saves an image to a claimed file, in the format its extension names (.png, .ppm, .pgm).</summary>
    public void Save(ImageView image, string path)
    {
        IImageEncoder encoder = ImageCodecs.GetEncoder(path);
        Write(path, stream => encoder.Encode(image, stream));
    }
}
