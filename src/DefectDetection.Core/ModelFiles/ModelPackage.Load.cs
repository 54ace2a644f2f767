using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace DefectDetection.ModelFiles;

public sealed partial class ModelPackage
{
    // Files declaring at most this much are not held to the compression ratio.
    private const long RatioFreeBytes = 16 << 20;

    private const string StreamName = "(stream)";

    /// <summary>Reads only the manifest of a model file (checks the format version and the manifest's fields).</summary>
    /// <exception cref="ModelFileException">The file is missing, corrupt, truncated, of another format version, or its manifest is malformed.</exception>
    public static ModelManifest ReadManifest(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        using FileStream stream = OpenExisting(full);
        return WithArchive(stream, full, new ModelLoadOptions(), zip => ReadManifest(Inventory(zip, full), full));
    }

    /// <summary>
    /// Loads a model file, verifying every entry's size and SHA-256, and the backbone against
    /// <paramref name="options"/>; see <see cref="Load(Stream, ModelLoadOptions?, string?)"/>.
    /// </summary>
    /// <exception cref="ModelFileException">
    /// The file is missing, corrupt or truncated, of another format version, malformed, over a limit of
    /// <paramref name="options"/>, holds a non-finite value, or its backbone hash differs from the backbone given in
    /// <paramref name="options"/>.
    /// </exception>
    /// <exception cref="FileNotFoundException"><see cref="ModelLoadOptions.BackbonePath"/> does not exist.</exception>
    public static ModelPackage Load(string path, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        using FileStream stream = OpenExisting(full);
        return Load(stream, options, full);
    }

    /// <summary>
    /// Loads a model from a stream holding a <c>.ddmodel</c> zip (left open; a stream that cannot seek is first copied
    /// to memory, up to the limits). The file is treated as hostile; before anything is inflated:
    /// <list type="bullet">
    /// <item><c>manifest.json</c> may hold at most <see cref="MaxManifestBytes"/>;</item>
    /// <item>the zip may hold only the entries the manifest lists (each once), and each tensor entry's declared size must
    /// be 4 bytes times the product of its shape;</item>
    /// <item>all entries together may hold at most <see cref="ModelLoadOptions.MaxTotalBytes"/>, and, when they hold over
    /// 16 MiB, at most <see cref="ModelLoadOptions.MaxCompressionRatio"/> times their compressed size.</item>
    /// </list>
    /// While inflating, no entry may yield more or fewer bytes than declared. Then each entry's SHA-256 is checked, and
    /// every tensor value must be finite (no NaN, no infinity).
    /// </summary>
    /// <param name="stream">The model file's bytes.</param>
    /// <param name="options">The backbone to check against and the limits, or null for the defaults.</param>
    /// <param name="nameForMessages">What to call the file in error messages, or null for <c>(stream)</c>.</param>
    /// <exception cref="ModelFileException">
    /// The bytes are corrupt or truncated, of another format version, malformed, over a limit, hold a non-finite value,
    /// or the backbone hash differs from the backbone given in <paramref name="options"/>.
    /// </exception>
    /// <exception cref="FileNotFoundException"><see cref="ModelLoadOptions.BackbonePath"/> does not exist.</exception>
    public static ModelPackage Load(Stream stream, ModelLoadOptions? options = null, string? nameForMessages = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= new ModelLoadOptions();
        string name = nameForMessages ?? StreamName;
        ModelPackage package = WithArchive(stream, name, options, zip => ReadPackage(zip, name, options));
        CheckBackbone(package, name, options);
        return package;
    }

    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or -1.</summary>
    internal static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        // A float is NaN or infinite exactly when its exponent bits are all ones.
        ReadOnlySpan<int> bits = MemoryMarshal.Cast<float, int>(values);
        Vector<int> exponent = new(0x7F800000);
        int i = 0;
        for (; i <= bits.Length - Vector<int>.Count; i += Vector<int>.Count)
        {
            if (Vector.EqualsAny(new Vector<int>(bits[i..]) & exponent, exponent))
            {
                break;
            }
        }

        for (; i < bits.Length; i++)
        {
            if ((bits[i] & 0x7F800000) == 0x7F800000)
            {
                return i;
            }
        }

        return -1;
    }

    private static FileStream OpenExisting(string full) =>
        File.Exists(full)
            ? new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read)
            : throw new ModelFileException(full, null, "the file does not exist");

    private static T WithArchive<T>(Stream stream, string name, ModelLoadOptions options, Func<ZipArchive, T> read)
    {
        MemoryStream? copy = null;
        try
        {
            if (!stream.CanSeek)
            {
                copy = CopyBounded(stream, name, Math.Min(Array.MaxLength, options.MaxTotalBytes + MaxManifestBytes + RatioFreeBytes));
            }

            using ZipArchive zip = new(copy ?? stream, ZipArchiveMode.Read, leaveOpen: true);
            return read(zip);
        }
        catch (InvalidDataException ex)
        {
            throw new ModelFileException(name, null, $"not a valid model file: the zip container is corrupt or truncated ({ex.Message})", ex);
        }
        catch (IOException ex)
        {
            throw new ModelFileException(name, null, $"not a valid model file: it cannot be read to the end ({ex.Message})", ex);
        }
        finally
        {
            copy?.Dispose();
        }
    }

    private static MemoryStream CopyBounded(Stream stream, string name, long limit)
    {
        MemoryStream copy = new();
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            if (copy.Length + n > limit)
            {
                copy.Dispose();
                throw new ModelFileException(name, null, $"the stream holds more than {limit:N0} bytes, more than a model within the limits can; pass a seekable stream");
            }

            copy.Write(buffer, 0, n);
        }

        copy.Position = 0;
        return copy;
    }

    // Every entry by name; a name given twice is refused (a reader could otherwise see a different entry than the hash check).
    private static Dictionary<string, ZipArchiveEntry> Inventory(ZipArchive zip, string name)
    {
        Dictionary<string, ZipArchiveEntry> entries = new(StringComparer.Ordinal);
        foreach (ZipArchiveEntry e in zip.Entries)
        {
            if (!entries.TryAdd(e.FullName, e))
            {
                throw new ModelFileException(name, e.FullName, "the zip holds this entry twice");
            }
        }

        return entries;
    }

    private static ModelManifest ReadManifest(Dictionary<string, ZipArchiveEntry> entries, string name)
    {
        ZipArchiveEntry entry = entries.GetValueOrDefault(ManifestEntry) ?? throw new ModelFileException(name, ManifestEntry, "the entry is missing");
        if (entry.Length > MaxManifestBytes)
        {
            throw new ModelFileException(name, ManifestEntry, $"the entry declares {entry.Length:N0} bytes, more than the limit of {MaxManifestBytes:N0}");
        }

        byte[] bytes = new byte[entry.Length];
        ReadExactly(entry, bytes, name);
        return ModelManifestReader.Read(bytes, name);
    }

    private static ModelPackage ReadPackage(ZipArchive zip, string name, ModelLoadOptions options)
    {
        Dictionary<string, ZipArchiveEntry> entries = Inventory(zip, name);
        ModelManifest manifest = ReadManifest(entries, name);
        bool embedded = manifest.Backbone is { Embedded: true };

        // Every entry accounted for, and every size checked, before anything more is inflated.
        HashSet<string> listed = [ManifestEntry, .. manifest.Entries.Select(t => TensorPrefix + t.Name + TensorSuffix)];
        if (embedded)
        {
            listed.Add(BackboneEntry);
        }

        IReadOnlyList<CombinedMember> members = manifest.Combined?.Members ?? [];
        listed.UnionWith(members.Select(m => MemberPrefix + m.Name + MemberSuffix));

        string[] unknown = [.. entries.Keys.Where(k => !listed.Contains(k)).Order(StringComparer.Ordinal)];
        if (unknown.Length > 0)
        {
            throw new ModelFileException(name, unknown[0],
                $"the manifest does not list {(unknown.Length == 1 ? "this entry" : $"{unknown.Length} entries: " + string.Join(", ", unknown.Take(5).Select(u => $"'{u}'")) + (unknown.Length > 5 ? ", ..." : ""))}; a model file holds only what its manifest describes");
        }

        long total = entries[ManifestEntry].Length;
        List<(TensorEntryInfo Info, ZipArchiveEntry Entry)> tensors = [];
        foreach (TensorEntryInfo info in manifest.Entries)
        {
            ZipArchiveEntry entry = Require(entries, TensorPrefix + info.Name + TensorSuffix, name);
            long bytes = ModelTensor.ElementCount(info.Shape) * sizeof(float); // the manifest reader checked the shape
            if (entry.Length != bytes)
            {
                throw new ModelFileException(name, entry.FullName, $"the entry declares {entry.Length:N0} bytes, but the shape [{string.Join(", ", info.Shape)}] needs {bytes:N0}");
            }

            total += bytes;
            tensors.Add((info, entry));
        }

        ZipArchiveEntry? backboneEntry = embedded ? Require(entries, BackboneEntry, name) : null;
        if (backboneEntry is not null)
        {
            if (backboneEntry.Length > Array.MaxLength)
            {
                throw new ModelFileException(name, BackboneEntry, $"the entry declares {backboneEntry.Length:N0} bytes, more than an ONNX file can hold");
            }

            total += backboneEntry.Length;
        }

        List<(CombinedMember Info, ZipArchiveEntry Entry)> memberEntries = [];
        foreach (CombinedMember member in members)
        {
            ZipArchiveEntry entry = Require(entries, MemberPrefix + member.Name + MemberSuffix, name);
            if (entry.Length != member.Bytes || entry.Length > Array.MaxLength)
            {
                throw new ModelFileException(name, entry.FullName, $"the entry declares {entry.Length:N0} bytes, but the manifest's member '{member.Name}' has {member.Bytes:N0}");
            }

            total += entry.Length;
            memberEntries.Add((member, entry));
        }

        if (total > options.MaxTotalBytes)
        {
            throw new ModelFileException(name, null,
                $"the entries declare {total:N0} bytes uncompressed, more than the limit of {options.MaxTotalBytes:N0} (ModelLoadOptions.MaxTotalBytes)");
        }

        CheckRatio(entries.Values, total, name, options);
        Dictionary<string, ModelTensor> loaded = new(StringComparer.Ordinal);
        foreach ((TensorEntryInfo info, ZipArchiveEntry entry) in tensors)
        {
            float[] data = new float[entry.Length / sizeof(float)];
            Span<byte> bytes = MemoryMarshal.AsBytes(data.AsSpan());
            ReadExactly(entry, bytes, name);
            CheckHash(name, entry.FullName, bytes, info.Sha256);
            if (!BitConverter.IsLittleEndian)
            {
                Span<int> words = MemoryMarshal.Cast<float, int>(data.AsSpan());
                BinaryPrimitives.ReverseEndianness(words, words);
            }

            int bad = IndexOfNonFinite(data);
            if (bad >= 0)
            {
                throw new ModelFileException(name, entry.FullName,
                    $"the tensor '{info.Name}' holds {data[bad].ToString(CultureInfo.InvariantCulture)} at index {bad}; a model holds only finite values");
            }

            loaded[info.Name] = new ModelTensor(info.Shape, data);
        }

        byte[]? backbone = null;
        if (backboneEntry is not null)
        {
            backbone = new byte[backboneEntry.Length];
            ReadExactly(backboneEntry, backbone, name);
            CheckHash(name, BackboneEntry, backbone, manifest.Backbone!.Sha256!);
        }

        Dictionary<string, byte[]> memberBytes = new(StringComparer.Ordinal);
        foreach ((CombinedMember info, ZipArchiveEntry entry) in memberEntries)
        {
            byte[] bytes = new byte[entry.Length];
            ReadExactly(entry, bytes, name);
            CheckHash(name, entry.FullName, bytes, info.Sha256);
            memberBytes[info.Name] = bytes;
        }

        return new ModelPackage(manifest, loaded, backbone, memberBytes);
    }

    private static ZipArchiveEntry Require(Dictionary<string, ZipArchiveEntry> entries, string entry, string name) =>
        entries.GetValueOrDefault(entry) ?? throw new ModelFileException(name, entry, "the entry is missing");

    // The whole file's ratio, not an entry's: a large tensor of one repeated value (a zero spread) is legitimate, a
    // file that is almost nothing but one is a bomb.
    private static void CheckRatio(IEnumerable<ZipArchiveEntry> entries, long total, string name, ModelLoadOptions options)
    {
        long compressed = Math.Max(1, entries.Sum(e => e.CompressedLength));
        double ratio = (double)total / compressed;
        if (total > RatioFreeBytes && ratio > options.MaxCompressionRatio)
        {
            ZipArchiveEntry worst = entries.MaxBy(e => (double)e.Length / Math.Max(1, e.CompressedLength))!;
            throw new ModelFileException(name, worst.FullName,
                $"the entries declare {total:N0} bytes from {compressed:N0} compressed (ratio {ratio:F0}:1; this entry {worst.Length:N0} from {worst.CompressedLength:N0}), more than the limit of {options.MaxCompressionRatio:F0}:1 (ModelLoadOptions.MaxCompressionRatio)");
        }
    }

    // Inflates exactly the declared size into the buffer sized from it, and refuses an entry that yields more or less.
    private static void ReadExactly(ZipArchiveEntry entry, Span<byte> destination, string name)
    {
        using Stream s = entry.Open();
        try
        {
            s.ReadExactly(destination);
        }
        catch (EndOfStreamException ex)
        {
            throw new ModelFileException(name, entry.FullName, "the entry is truncated: it yields fewer bytes than it declares", ex);
        }

        if (s.ReadByte() >= 0)
        {
            throw new ModelFileException(name, entry.FullName, "the entry yields more bytes than it declares");
        }
    }

    private static void CheckHash(string name, string entry, ReadOnlySpan<byte> bytes, string expected)
    {
        string actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelFileException(name, entry, $"the entry is corrupt: its SHA-256 is {actual}, the manifest says {expected}");
        }
    }

    private static void CheckBackbone(ModelPackage package, string name, ModelLoadOptions options)
    {
        string? expected = package.Manifest.Backbone?.Sha256;
        string? given = options.BackboneSha256?.ToLowerInvariant();
        string what = "the given backbone hash";
        if (options.BackbonePath is not null)
        {
            if (!File.Exists(options.BackbonePath))
            {
                throw new FileNotFoundException($"The backbone file '{options.BackbonePath}' does not exist.", options.BackbonePath);
            }

            given = ComputeSha256(options.BackbonePath);
            what = $"the backbone '{options.BackbonePath}'";
        }

        if (given is null)
        {
            return;
        }

        if (expected is null)
        {
            throw new ModelFileException(name, ManifestEntry, "the model records no backbone hash, so it cannot be checked against " + what);
        }

        if (!string.Equals(expected, given, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelFileException(name, ManifestEntry,
                $"the model was trained on the backbone '{package.Manifest.Backbone!.Name}' with SHA-256 {expected}, but {what} has SHA-256 {given}; features from a different backbone would give wrong results");
        }
    }
}
