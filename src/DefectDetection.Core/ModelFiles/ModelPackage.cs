using System.Buffers.Binary;
using System.IO.Compression;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace DefectDetection.ModelFiles;

/// <summary>Options of <see cref="ModelPackage.Save"/>.</summary>
public sealed class ModelSaveOptions
{
    /// <summary>Replace an existing file. Default false: saving over an existing file fails.</summary>
    public bool Overwrite { get; init; }
}

/// <summary>Options of <see cref="ModelPackage.Load"/>.</summary>
public sealed class ModelLoadOptions
{
    /// <summary>
    /// The backbone file the model will run with. Its SHA-256 must equal the manifest's
    /// <see cref="BackboneInfo.Sha256"/>, else loading fails. Null: no check against a file.
    /// </summary>
    public string? BackbonePath { get; init; }

    /// <summary>The SHA-256 (hex) of the backbone the model will run with; checked like <see cref="BackbonePath"/>.</summary>
    public string? BackboneSha256 { get; init; }
}

/// <summary>
/// A <c>.ddmodel</c> file: a zip holding <c>manifest.json</c> (<see cref="ModelManifest"/>), named float tensors
/// (<c>tensors/NAME.f32</c>, little-endian float32, shapes and SHA-256 hashes listed in the manifest) and optionally
/// the backbone itself (<c>backbone.onnx</c>). Immutable.
/// </summary>
public sealed class ModelPackage
{
    /// <summary>The format version this library writes and the newest it reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The usual file extension.</summary>
    public const string FileExtension = ".ddmodel";

    internal const string ManifestEntry = "manifest.json";
    internal const string BackboneEntry = "backbone.onnx";
    internal const string TensorPrefix = "tensors/";
    internal const string TensorSuffix = ".f32";

    /// <summary>Creates a package.</summary>
    /// <param name="manifest">The description.</param>
    /// <param name="tensors">Named tensors (names: letters, digits, <c>_ - . /</c>; no empty parts).</param>
    /// <param name="embeddedBackbone">The backbone's bytes to store in the file, or null to store only its hash.</param>
    /// <exception cref="ArgumentException">A tensor name is invalid.</exception>
    public ModelPackage(ModelManifest manifest, IReadOnlyDictionary<string, ModelTensor> tensors, byte[]? embeddedBackbone = null)
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

        Manifest = manifest;
        Tensors = new Dictionary<string, ModelTensor>(tensors, StringComparer.Ordinal);
        EmbeddedBackbone = embeddedBackbone;
    }

    /// <summary>The version of this library, as written into manifests.</summary>
    public static string LibraryVersion { get; } = GetLibraryVersion();

    /// <summary>The description.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The named tensors.</summary>
    public IReadOnlyDictionary<string, ModelTensor> Tensors { get; }

    /// <summary>The backbone's bytes when stored in the file, else null.</summary>
    public byte[]? EmbeddedBackbone { get; }

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
    public void Save(string path, ModelSaveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new ModelSaveOptions();
        string full = Path.GetFullPath(path);
        if (!options.Overwrite && File.Exists(full))
        {
            throw new IOException($"'{full}' already exists; set Overwrite to replace it.");
        }

        List<TensorEntryInfo> entries = [];
        string temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (FileStream stream = new(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (ZipArchive zip = new(stream, ZipArchiveMode.Create, leaveOpen: false))
            {
                foreach ((string name, ModelTensor tensor) in Tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    byte[] bytes = ToLittleEndian(tensor.Data);
                    WriteEntry(zip, TensorPrefix + name + TensorSuffix, bytes);
                    entries.Add(new TensorEntryInfo { Name = name, Shape = tensor.Shape, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) });
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
                    Labels = Manifest.Labels,
                    Preprocessing = Manifest.Preprocessing,
                    Backbone = backbone,
                    Threshold = Manifest.Threshold,
                    TrainingData = Manifest.TrainingData,
                    Metrics = Manifest.Metrics,
                    Properties = Manifest.Properties,
                    CreatedUtc = Manifest.CreatedUtc,
                    Entries = entries,
                };
                WriteEntry(zip, ManifestEntry, JsonSerializer.SerializeToUtf8Bytes(manifest, ModelJsonContext.Default.ModelManifest));
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

    /// <summary>Reads only the manifest of a model file (checks the format version).</summary>
    /// <exception cref="ModelFileException">The file is missing, corrupt, truncated or of a newer format.</exception>
    public static ModelManifest ReadManifest(string path)
    {
        string full = Path.GetFullPath(path);
        return WithArchive(full, zip => ReadManifest(zip, full));
    }

    /// <summary>
    /// Loads a model file, verifying every entry's size and SHA-256, and the backbone against
    /// <paramref name="options"/>.
    /// </summary>
    /// <exception cref="ModelFileException">
    /// The file is missing, corrupt or truncated, of a newer format version, or its backbone hash differs from the
    /// backbone given in <paramref name="options"/>.
    /// </exception>
    public static ModelPackage Load(string path, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new ModelLoadOptions();
        string full = Path.GetFullPath(path);
        ModelPackage package = WithArchive(full, zip =>
        {
            ModelManifest manifest = ReadManifest(zip, full);
            Dictionary<string, ModelTensor> tensors = new(StringComparer.Ordinal);
            foreach (TensorEntryInfo info in manifest.Entries)
            {
                string entryName = TensorPrefix + info.Name + TensorSuffix;
                if (!IsValidName(info.Name) || info.Dtype != "float32" || info.Shape is null)
                {
                    throw new ModelFileException(full, ManifestEntry, $"the entry '{info.Name}' is described wrongly (name, dtype '{info.Dtype}' or shape)");
                }

                long count = 1;
                foreach (int d in info.Shape)
                {
                    count = d < 0 ? -1 : count * d;
                    if (count < 0 || count > Array.MaxLength / 4)
                    {
                        throw new ModelFileException(full, entryName, $"the shape [{string.Join(", ", info.Shape)}] is invalid");
                    }
                }

                byte[] bytes = ReadEntry(zip, full, entryName, count * 4);
                CheckHash(full, entryName, bytes, info.Sha256);
                tensors[info.Name] = new ModelTensor(info.Shape, FromLittleEndian(bytes));
            }

            byte[]? backbone = null;
            if (manifest.Backbone is { Embedded: true } b)
            {
                backbone = ReadEntry(zip, full, BackboneEntry, -1);
                CheckHash(full, BackboneEntry, backbone, b.Sha256 ?? string.Empty);
            }

            return new ModelPackage(manifest, tensors, backbone);
        });

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

        if (given is not null)
        {
            if (expected is null)
            {
                throw new ModelFileException(full, ManifestEntry, "the model records no backbone hash, so it cannot be checked against " + what);
            }

            if (!string.Equals(expected, given, StringComparison.OrdinalIgnoreCase))
            {
                throw new ModelFileException(full, ManifestEntry,
                    $"the model was trained on the backbone '{package.Manifest.Backbone!.Name}' with SHA-256 {expected}, but {what} has SHA-256 {given}; features from a different backbone would give wrong results");
            }
        }

        return package;
    }

    private static T WithArchive<T>(string full, Func<ZipArchive, T> read)
    {
        if (!File.Exists(full))
        {
            throw new ModelFileException(full, null, "the file does not exist");
        }

        try
        {
            using FileStream stream = new(full, FileMode.Open, FileAccess.Read, FileShare.Read);
            using ZipArchive zip = new(stream, ZipArchiveMode.Read);
            return read(zip);
        }
        catch (InvalidDataException ex)
        {
            throw new ModelFileException(full, null, $"not a valid model file: the zip container is corrupt or truncated ({ex.Message})", ex);
        }
        catch (EndOfStreamException ex)
        {
            throw new ModelFileException(full, null, "not a valid model file: it is truncated", ex);
        }
    }

    private static ModelManifest ReadManifest(ZipArchive zip, string full)
    {
        byte[] bytes = ReadEntry(zip, full, ManifestEntry, -1);
        int version;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("format_version", out JsonElement v) || !v.TryGetInt32(out version))
            {
                throw new ModelFileException(full, ManifestEntry, "the manifest has no integer 'format_version'");
            }

            if (version > CurrentFormatVersion)
            {
                string writer = doc.RootElement.TryGetProperty("library_version", out JsonElement lv) && lv.ValueKind == JsonValueKind.String ? lv.GetString()! : "unknown";
                throw new ModelFileException(full, ManifestEntry,
                    $"the file has format version {version} (written by library version {writer}), but this library (version {LibraryVersion}) reads format versions up to {CurrentFormatVersion}; update the library");
            }

            if (version < 1)
            {
                throw new ModelFileException(full, ManifestEntry, $"the format version {version} is invalid");
            }

            return JsonSerializer.Deserialize(doc.RootElement, ModelJsonContext.Default.ModelManifest)
                ?? throw new ModelFileException(full, ManifestEntry, "the manifest is null");
        }
        catch (JsonException ex)
        {
            throw new ModelFileException(full, ManifestEntry, $"the manifest is not valid JSON ({ex.Message})", ex);
        }
    }

    private static byte[] ReadEntry(ZipArchive zip, string full, string name, long expectedLength)
    {
        ZipArchiveEntry entry = zip.GetEntry(name) ?? throw new ModelFileException(full, name, "the entry is missing");
        if (expectedLength >= 0 && entry.Length != expectedLength)
        {
            throw new ModelFileException(full, name, $"the entry holds {entry.Length} bytes, expected {expectedLength}");
        }

        if (entry.Length > Array.MaxLength)
        {
            throw new ModelFileException(full, name, $"the entry is too large ({entry.Length:N0} bytes)");
        }

        byte[] bytes = new byte[entry.Length];
        using Stream s = entry.Open();
        try
        {
            s.ReadExactly(bytes);
        }
        catch (EndOfStreamException ex)
        {
            throw new ModelFileException(full, name, "the entry is truncated", ex);
        }

        return bytes;
    }

    private static void CheckHash(string full, string name, byte[] bytes, string expected)
    {
        string actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelFileException(full, name, $"the entry is corrupt: its SHA-256 is {actual}, the manifest says {expected}");
        }
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

    private static float[] FromLittleEndian(byte[] bytes)
    {
        float[] data = new float[bytes.Length / 4];
        if (BitConverter.IsLittleEndian)
        {
            bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(data.AsSpan()));
        }
        else
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
            }
        }

        return data;
    }

    private static bool IsValidName(string name) =>
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
