using System.Security.Cryptography;
using DefectDetection.Projects.Catalog;

namespace DefectDetection.Projects.Storage;

/// <summary>
/// Files kept by their content: <c>images/ab/abcdef….ext</c> under the project folder, named by the SHA-256 of their
/// bytes. Every file is written to <c>tmp/</c> under a name that carries the writing process, then renamed into place,
/// so a reader never sees half a file and a crash leaves only temporary files, which <see cref="CleanTemporaryFiles"/>
/// removes once their process has gone.
/// </summary>
internal sealed class ContentStore(string projectFolder)
{
    /// <summary>The folder of temporary files.</summary>
    public string TempFolder { get; } = Path.Combine(projectFolder, "tmp");

    private string ImagesFolder { get; } = Path.Combine(projectFolder, "images");

    /// <summary>The path of stored content.</summary>
    public string PathOf(string sha256, string extension) => Path.Combine(ImagesFolder, sha256[..2], sha256 + extension);

    /// <summary>Copies a file into the store (the source is only read); returns its hash and stored extension.</summary>
    public (string Sha256, string Extension) Put(string sourcePath, CancellationToken cancellationToken = default)
    {
        string extension = Path.GetExtension(sourcePath).ToLowerInvariant();
        using FileStream source = new(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return (Put(source, extension, cancellationToken), extension);
    }

    /// <summary>Stores the bytes of a stream under the given extension; returns their hash.</summary>
    public string Put(Stream source, string extension, CancellationToken cancellationToken = default)
    {
        string temp = NewTempFile(".blob");
        string sha;
        try
        {
            using (FileStream target = new(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                byte[] buffer = new byte[1 << 16];
                int read;
                while ((read = source.Read(buffer)) > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    hash.AppendData(buffer, 0, read);
                    target.Write(buffer, 0, read);
                }

                target.Flush(flushToDisk: true);
                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            string final = PathOf(sha, extension);
            if (File.Exists(final))
            {
                File.Delete(temp); // the same content is stored already
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(final)!);
                File.Move(temp, final, overwrite: true);
            }

            return sha;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>A new temporary file name in <c>tmp/</c>, owned by this process.</summary>
    public string NewTempFile(string suffix)
    {
        Directory.CreateDirectory(TempFolder);
        ProcessOwner me = ProcessOwner.Current;
        return Path.Combine(TempFolder, $"{me.Pid}_{me.Started.Replace(':', '-')}_{Guid.NewGuid():N}{suffix}.tmp");
    }

    /// <summary>Removes the temporary files of processes that have ended; returns how many.</summary>
    public int CleanTemporaryFiles()
    {
        if (!Directory.Exists(TempFolder))
        {
            return 0;
        }

        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(TempFolder, "*.tmp"))
        {
            string[] parts = Path.GetFileName(file).Split('_');
            if (parts.Length >= 3 && int.TryParse(parts[0], out int pid)
                && new ProcessOwner(pid, RestoreDate(parts[1]), Environment.MachineName).IsGone()
                && TryDelete(file))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Deletes a file if it exists; false when it could not be deleted.</summary>
    public static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    // "2026-12-07T12-30-01" back to "2026-12-07T12:30:01": only the time part had its colons replaced.
    private static string RestoreDate(string text)
    {
        int t = text.IndexOf('T', StringComparison.Ordinal);
        return t < 0 ? text : text[..t] + text[t..].Replace('-', ':');
    }
}
