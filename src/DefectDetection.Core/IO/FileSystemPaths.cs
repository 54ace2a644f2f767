namespace DefectDetection.IO;

/// <summary>
/// Paths as the file system sees them: every symbolic link resolved, compared the way the platform compares names
/// (case-sensitively on Linux, case-insensitively on Windows and macOS). Used to tell whether two paths are one file,
/// whether a path stays inside a folder, and to walk a folder tree that holds link loops.
/// </summary>
public static class FileSystemPaths
{
    // Linux allows 40 links in one lookup (MAXSYMLINKS); more is a loop.
    private const int MaxLinks = 40;

    /// <summary>How the platform compares file names: ordinal on Linux, ordinal ignoring case elsewhere.</summary>
    public static StringComparer Comparer { get; } = OperatingSystem.IsLinux() ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;

    internal static StringComparison Comparison { get; } = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;

    /// <summary>
    /// The full path of <paramref name="path"/> with every symbolic link in it replaced by what it points to. Parts
    /// that do not exist are kept as written, so the path of a file about to be created resolves too.
    /// </summary>
    /// <param name="path">A relative or absolute path. <c>..</c> is removed before links are followed.</param>
    /// <exception cref="IOException">The links form a loop (more than 40 links in one lookup).</exception>
    public static string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Resolve(Path.GetFullPath(path), 0);
    }

    /// <summary>Whether <paramref name="path"/>, links resolved, is <paramref name="folder"/> or lies below it (links resolved).</summary>
    internal static bool IsWithin(string path, string folder)
    {
        string real = Resolve(path), root = Path.TrimEndingDirectorySeparator(Resolve(folder));
        return real.Equals(root, Comparison)
            || (real.Length > root.Length && real.StartsWith(root, Comparison)
                && (real[root.Length] == Path.DirectorySeparatorChar || root.EndsWith(Path.DirectorySeparatorChar)));
    }

    /// <summary>
    /// The files in <paramref name="folder"/> (and its sub-folders when <paramref name="recursive"/>), entering each
    /// real folder once and returning each real file once, whatever links lead to them: a link loop ends instead of
    /// repeating the same files. Folders that cannot be read, and links that lead nowhere or in a loop, are skipped.
    /// Files are returned by the path they were found under, folder by folder in ordinal order.
    /// </summary>
    /// <param name="folder">Where to start; always entered.</param>
    /// <param name="recursive">Also enter sub-folders.</param>
    /// <param name="seenFolders">Real folders not to enter (shared by several walks, e.g. the other label folders of a
    /// dataset); the folders entered are added. Null: a set of this walk only.</param>
    /// <param name="seenFiles">Real files not to return; the files returned are added. Null: a set of this walk only.</param>
    internal static IEnumerable<string> EnumerateFiles(string folder, bool recursive, HashSet<string>? seenFolders = null, HashSet<string>? seenFiles = null)
    {
        EnumerationOptions options = new() { IgnoreInaccessible = true, AttributesToSkip = 0, RecurseSubdirectories = false };
        seenFolders ??= new(Comparer);
        seenFiles ??= new(Comparer);
        string start = Path.GetFullPath(folder);
        Stack<string> pending = new();
        pending.Push(start);
        while (pending.TryPop(out string? dir))
        {
            string? realDir = TryResolve(dir);
            if (realDir is null || (!seenFolders.Add(realDir) && !ReferenceEquals(dir, start)))
            {
                continue;
            }

            string[] files, subfolders;
            try
            {
                files = [.. Directory.EnumerateFiles(dir, "*", options).Order(StringComparer.Ordinal)];
                subfolders = recursive ? [.. Directory.EnumerateDirectories(dir, "*", options).Order(StringComparer.Ordinal)] : [];
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (string file in files)
            {
                string? realFile = TryResolveChild(realDir, Path.GetFileName(file));
                if (realFile is not null && seenFiles.Add(realFile))
                {
                    yield return file;
                }
            }

            for (int i = subfolders.Length - 1; i >= 0; i--)
            {
                pending.Push(subfolders[i]);
            }
        }
    }

    private static string? TryResolve(string path)
    {
        try
        {
            return Resolve(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? TryResolveChild(string resolvedParent, string name)
    {
        try
        {
            return ResolveChild(resolvedParent, name, 0);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string Resolve(string full, int links)
    {
        string? parent = Path.GetDirectoryName(full);
        return parent is null ? full : ResolveChild(Resolve(parent, links), Path.GetFileName(full), links);
    }

    // The real path of 'name' inside a folder whose path is already resolved.
    private static string ResolveChild(string resolvedParent, string name, int links)
    {
        string path = Path.Combine(resolvedParent, name);
        string? target;
        try
        {
            target = new FileInfo(path).LinkTarget;
        }
        catch (UnauthorizedAccessException)
        {
            return path;
        }

        if (target is null)
        {
            return path;
        }

        if (links >= MaxLinks)
        {
            throw new IOException($"'{path}': too many levels of symbolic links (a link loop).");
        }

        return Resolve(Path.GetFullPath(target, resolvedParent), links + 1);
    }
}
