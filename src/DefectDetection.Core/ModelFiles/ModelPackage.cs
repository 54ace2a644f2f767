using System.Buffers.Binary;
using System.IO.Compression;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace DefectDetection.ModelFiles;

/// <summary>Options of <see cref="ModelPackage.Save(string, ModelSaveOptions?)"/>.</summary>
public sealed class ModelSaveOptions
{
    /// <summary>Replace an existing file. Default false: saving over an existing file fails.</summary>
    public bool Overwrite { get; init; }
}

/// <summary>Options of <see cref="ModelPackage.Load(string, ModelLoadOptions?)"/>.</summary>
public sealed class ModelLoadOptions
{
    /// <summary>The default of <see cref="MaxTotalBytes"/>: 4 GiB.</summary>
    public const long DefaultMaxTotalBytes = 4L << 30;

    /// <summary>The default of <see cref="MaxCompressionRatio"/>: 100.</summary>
    public const double DefaultMaxCompressionRatio = 100;

    /// <summary>
    /// The backbone file the model will run with. Its SHA-256 must equal the manifest's
    /// <see cref="BackboneInfo.Sha256"/>, else loading fails. Null: no check against a file.
    /// </summary>
    public string? BackbonePath { get; init; }

    /// <summary>The SHA-256 (hex) of the backbone the model will run with; checked like <see cref="BackbonePath"/>.</summary>
    public string? BackboneSha256 { get; init; }

    /// <summary>
    /// The most bytes the file's entries may hold uncompressed, all together (the manifest, the tensors and an embedded
    /// backbone), checked against the sizes the zip declares and the manifest's shapes before anything is inflated.
    /// Default <see cref="DefaultMaxTotalBytes"/> (4 GiB); raise it only for files from a trusted source.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public long MaxTotalBytes
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxTotalBytes), value, "The limit must be positive.");
    } = DefaultMaxTotalBytes;

    /// <summary>
    /// The largest ratio of the uncompressed to the compressed size of all entries together, checked when they declare
    /// over 16 MiB. Learned float values compress little (about 1.1:1, a tensor of one repeated value about 1000:1), so
    /// a file over 100:1 is almost nothing but repeated bytes: a zip bomb. Default
    /// <see cref="DefaultMaxCompressionRatio"/> (100:1); deflate cannot exceed about 1032:1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1 or NaN.</exception>
    public double MaxCompressionRatio
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxCompressionRatio), value, "The ratio must be 1 or more.");
    } = DefaultMaxCompressionRatio;
}

/// <summary>
/// A <c>.ddmodel</c> file: a zip holding <c>manifest.json</c> (<see cref="ModelManifest"/>), named float tensors
/// (<c>tensors/NAME.f32</c>, little-endian float32, shapes and SHA-256 hashes listed in the manifest) and optionally
/// the backbone itself (<c>backbone.onnx</c>). Immutable.
/// </summary>
/// <remarks>
/// Loading treats the file as hostile: see <see cref="Load(Stream, ModelLoadOptions?, string?)"/> for the limits.
/// </remarks>
public sealed partial class ModelPackage
{
    /// <summary>The format version this library writes and the newest it reads.</summary>
    public const int CurrentFormatVersion = 2;

    /// <summary>The oldest format version this library reads.</summary>
    public const int OldestFormatVersion = 1;

    /// <summary>The most bytes <c>manifest.json</c> may hold (64 MiB); a real manifest holds a few kilobytes.</summary>
    public const int MaxManifestBytes = 64 << 20;

    /// <summary>The usual file extension.</summary>
    public const string FileExtension = ".ddmodel";

    internal const string ManifestEntry = "manifest.json";
    internal const string BackboneEntry = "backbone.onnx";
    internal const string TensorPrefix = "tensors/";
    internal const string TensorSuffix = ".f32";
    internal const string MemberPrefix = "members/";
    internal const string MemberSuffix = ".ddmodel";

    /// <summary>Creates a package.</summary>
    /// <param name="manifest">The description.</param>
    /// <param name="tensors">Named tensors (names: letters, digits, <c>_ - . /</c>; no empty parts).</param>
    /// <param name="embeddedBackbone">The backbone's bytes to store in the file, or null to store only its hash.</param>
    /// <param name="members">
    /// A combined model's member model files by member name (entries <c>members/NAME.ddmodel</c>), each listed with its
    /// size and SHA-256 in the manifest's combined section; null for other learners.
    /// </param>
    /// <exception cref="ArgumentException">A tensor name is invalid, or the members do not match the manifest's combined section.</exception>
    public ModelPackage(ModelManifest manifest, IReadOnlyDictionary<string, ModelTensor> tensors, byte[]? embeddedBackbone = null, IReadOnlyDictionary<string, byte[]>? members = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(tensors);
        foreach ((string name, ModelTensor tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (!IsValidName(name))
            {
                throw new ArgumentException($"'{name}' is not a valid tensor name (letters, digits, '_', '-', '.', '/'; no empty or '..' parts).", nameof(tensors));
            }
        }

        IReadOnlyList<CombinedMember> listed = manifest.Combined?.Members ?? [];
        members ??= new Dictionary<string, byte[]>();
        if (listed.Count != members.Count || listed.Any(m => !members.TryGetValue(m.Name, out byte[]? b) || b.LongLength != m.Bytes))
        {
            throw new ArgumentException("The member files must be exactly those the manifest's combined section lists, with the sizes it gives.", nameof(members));
        }

        Manifest = manifest;
        Tensors = new Dictionary<string, ModelTensor>(tensors, StringComparer.Ordinal);
        EmbeddedBackbone = embeddedBackbone;
        Members = new Dictionary<string, byte[]>(members, StringComparer.Ordinal);
    }

    /// <summary>The version of this library, as written into manifests.</summary>
    public static string LibraryVersion { get; } = GetLibraryVersion();

    /// <summary>The description.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The named tensors.</summary>
    public IReadOnlyDictionary<string, ModelTensor> Tensors { get; }

    /// <summary>The backbone's bytes when stored in the file, else null.</summary>
    public byte[]? EmbeddedBackbone { get; }

    /// <summary>A combined model's member model files by member name (empty for other learners).</summary>
    public IReadOnlyDictionary<string, byte[]> Members { get; }

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">There is no such tensor; the message lists the names present.</exception>
    public ModelTensor GetTensor(string name) =>
        Tensors.TryGetValue(name, out ModelTensor? t)
            ? t
            : throw new KeyNotFoundException($"The model has no tensor '{name}' (it has: {string.Join(", ", Tensors.Keys)}).");

    /// <summary>Lower-case hex SHA-256 of a file's bytes.</summary>
    public static string ComputeSha256(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Writes the package to <paramref name="path"/>: to a temporary file beside it, then renamed into place, so a
    /// failure never leaves a half-written model. The manifest's format version, library version and entries are
    /// filled in; when a backbone is embedded its hash is recorded.
    /// </summary>
    /// <exception cref="IOException">The file exists and <see cref="ModelSaveOptions.Overwrite"/> is false, or writing fails.</exception>
    /// <exception cref="InvalidOperationException">A tensor holds NaN or an infinity (no model file may hold one).</exception>
    public void Save(string path, ModelSaveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new ModelSaveOptions();
        string full = Path.GetFullPath(path);
        if (!options.Overwrite && File.Exists(full))
        {
            throw new IOException($"'{full}' already exists; set Overwrite to replace it.");
        }

        string temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (FileStream stream = new(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Save(stream, options);
            }

            File.Move(temp, full, options.Overwrite);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Writes the package as a zip to <paramref name="stream"/> (left open), like <see cref="Save(string, ModelSaveOptions?)"/>;
    /// <see cref="ModelSaveOptions.Overwrite"/> does not apply.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot be written.</exception>
    /// <exception cref="InvalidOperationException">A tensor holds NaN or an infinity (no model file may hold one).</exception>
    public void Save(Stream stream, ModelSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream cannot be written.", nameof(stream));
        }

        foreach ((string name, ModelTensor tensor) in Tensors)
        {
            int bad = IndexOfNonFinite(tensor.Data);
            if (bad >= 0)
            {
                throw new InvalidOperationException($"The tensor '{name}' holds {tensor.Data[bad]} at index {bad}; a model file holds only finite values.");
            }
        }

        List<TensorEntryInfo> entries = [];
        using ZipArchive zip = new(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach ((string name, ModelTensor tensor) in Tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            byte[] bytes = ToLittleEndian(tensor.Data);
            WriteEntry(zip, TensorPrefix + name + TensorSuffix, bytes);
            entries.Add(new TensorEntryInfo { Name = name, Shape = tensor.Shape, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) });
        }

        foreach ((string name, byte[] bytes) in Members.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            WriteEntry(zip, MemberPrefix + name + MemberSuffix, bytes);
        }

        BackboneInfo? backbone = Manifest.Backbone;
        if (EmbeddedBackbone is not null)
        {
            WriteEntry(zip, BackboneEntry, EmbeddedBackbone);
            backbone = new BackboneInfo
            {
                Name = backbone?.Name ?? "backbone.onnx",
                TappedLayers = backbone?.TappedLayers ?? [],
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(EmbeddedBackbone)),
                Embedded = true,
            };
        }
        else if (backbone is { Embedded: true })
        {
            backbone = new BackboneInfo { Name = backbone.Name, TappedLayers = backbone.TappedLayers, Sha256 = backbone.Sha256, Embedded = false };
        }

        ModelManifest manifest = new()
        {
            FormatVersion = CurrentFormatVersion,
            LibraryVersion = LibraryVersion,
            Task = Manifest.Task,
            Learner = Manifest.Learner,
            Labels = Manifest.Labels,
            Preprocessing = Manifest.Preprocessing,
            Backbone = backbone,
            Threshold = Manifest.Threshold,
            TrainingData = Manifest.TrainingData,
            Metrics = Manifest.Metrics,
            ImageClassifier = Manifest.ImageClassifier,
            PatchCore = Manifest.PatchCore,
            Variation = Manifest.Variation,
            PinResidual = Manifest.PinResidual,
            TemplateDifference = Manifest.TemplateDifference,
            Combined = Manifest.Combined,
            Search = Manifest.Search,
            CreatedUtc = Manifest.CreatedUtc,
            Entries = entries,
        };
        WriteEntry(zip, ManifestEntry, JsonSerializer.SerializeToUtf8Bytes(manifest, ModelJsonContext.Default.ModelManifest));
    }

    private static void WriteEntry(ZipArchive zip, string name, byte[] bytes)
    {
        ZipArchiveEntry entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        entry.LastWriteTime = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using Stream s = entry.Open();
        s.Write(bytes);
    }

    private static byte[] ToLittleEndian(float[] data)
    {
        byte[] bytes = new byte[data.Length * 4];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(bytes);
        }
        else
        {
            for (int i = 0; i < data.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), data[i]);
            }
        }

        return bytes;
    }

    internal static bool IsValidName(string name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 200
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/')
        && name.Split('/').All(p => p.Length > 0 && p != "." && p != "..");

    private static string GetLibraryVersion()
    {
        string? v = typeof(ModelPackage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(v))
        {
            return typeof(ModelPackage).Assembly.GetName().Version?.ToString() ?? "0.0.0";
        }

        int plus = v.IndexOf('+');
        return plus < 0 ? v : v[..plus];
    }
}
