namespace DefectDetection.Fuzzing;

/// <summary>How a target's inputs are structured, which picks the structure-aware mutations.</summary>
internal enum InputKind
{
    /// <summary>Opaque bytes: only byte-level mutations.</summary>
    Bytes,

    /// <summary>One JSON document.</summary>
    Json,

    /// <summary>JSON Lines (one document per line) or CSV lines.</summary>
    Lines,

    /// <summary>A zip whose entries are mutated and zipped again.</summary>
    Zip,
}

/// <summary>
/// One reader under test: seeds it accepts, how to run it on an input, and which exceptions it documents. Any other
/// exception (or a hang, or running out of memory) is a crash. Shared by tools/Fuzz and the corpus replay tests.
/// </summary>
internal abstract class FuzzTarget : IDisposable
{
    /// <summary>The target's name on the command line and its corpus folder's name.</summary>
    public abstract string Name { get; }

    public abstract InputKind Kind { get; }

    /// <summary>Small valid inputs that <see cref="Run"/> accepts without an exception.</summary>
    public abstract IReadOnlyList<byte[]> Seeds();

    /// <summary>Runs the reader on <paramref name="input"/>.</summary>
    public abstract void Run(byte[] input);

    /// <summary>True when <paramref name="e"/> is what the reader documents for bad input.</summary>
    public abstract bool IsDocumented(Exception e);

    /// <summary>
    /// Makes a mutated zip's entries consistent again where that lets inputs reach deeper checks (for example
    /// recomputing hashes); called on some zip mutations only.
    /// </summary>
    public virtual void Repair(List<(string Name, byte[] Bytes)> entries, Random random)
    {
    }

    public virtual void Dispose()
    {
    }

    /// <summary>The repository root: the folder holding DefectDetection.Core.sln above the running program.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>tests/fuzz-corpus/<paramref name="target"/>: the inputs that once crashed the target.</summary>
    public static string CorpusFolder(string target) => Path.Combine(RepoRoot, "tests", "fuzz-corpus", target);

    /// <summary>
    /// Runs every seed (each must pass) and every corpus file (each may only end in a documented exception); returns
    /// one line per failure.
    /// </summary>
    public IReadOnlyList<string> Replay()
    {
        List<string> failures = [];
        IReadOnlyList<byte[]> seeds = Seeds();
        for (int i = 0; i < seeds.Count; i++)
        {
            try
            {
                Run(seeds[i]);
            }
            catch (Exception e)
            {
                failures.Add($"seed {i} of {Name} failed: {e}");
            }
        }

        string folder = CorpusFolder(Name);
        string[] files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.bin") : [];
        foreach (string file in files.Order(StringComparer.Ordinal))
        {
            try
            {
                Run(File.ReadAllBytes(file));
            }
            catch (Exception e) when (IsDocumented(e))
            {
            }
            catch (Exception e)
            {
                failures.Add($"{Path.GetFileName(file)} ({Name}): undocumented {e}");
            }
        }

        return failures;
    }

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "DefectDetection.Core.sln")))
            {
                return d.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No DefectDetection.Core.sln above {AppContext.BaseDirectory}.");
    }
}
