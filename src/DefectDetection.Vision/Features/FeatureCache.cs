using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using DefectDetection.Imaging;

namespace DefectDetection.Vision.Features;

/// <summary>Options of <see cref="FeatureCache"/>.</summary>
public sealed class FeatureCacheOptions
{
    /// <summary>
    /// A folder where features are also kept between runs (one small file per image and extractor). Null (default):
    /// memory only; nothing is ever written to disk unless a folder is set here.
    /// </summary>
    public string? Directory { get; init; }

    /// <summary>Decoder options for the images. Default: <see cref="DecoderOptions.Default"/>.</summary>
    public DecoderOptions? DecoderOptions { get; init; }
}

/// <summary>
/// Features of image files, computed once: keyed by the SHA-256 of the file's bytes together with the extractor's
/// <see cref="IFeatureExtractor.Identity"/>, so renamed or copied files hit the cache and changed files or changed
/// extractors miss it. Kept in memory, and on disk only in <see cref="FeatureCacheOptions.Directory"/> when set.
/// Safe to use from several threads.
/// </summary>
public sealed class FeatureCache
{
    private static readonly byte[] Magic = "DDF1"u8.ToArray();
    private readonly ConcurrentDictionary<string, float[]> _memory = new(StringComparer.Ordinal);
    private readonly string _identityHash;
    private readonly string? _directory;
    private readonly DecoderOptions _decoderOptions;
    private int _hits;

    private readonly Decode _decode;

    /// <summary>Creates a cache for one extractor.</summary>
    public FeatureCache(IFeatureExtractor extractor, FeatureCacheOptions? options = null)
        : this(extractor, options, null)
    {
    }

    /// <summary>Creates a cache with a given decoder (tests).</summary>
    internal FeatureCache(IFeatureExtractor extractor, FeatureCacheOptions? options, Decode? decode)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        options ??= new FeatureCacheOptions();
        Extractor = extractor;
        _identityHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(extractor.Identity)))[..16];
        _directory = options.Directory is null ? null : Path.GetFullPath(options.Directory);
        _decoderOptions = options.DecoderOptions ?? DecoderOptions.Default;
        _decode = decode ?? ((data, o) => ImageCodecs.Decode(data, o));
    }

    /// <summary>Decodes an encoded image.</summary>
    internal delegate Image Decode(ReadOnlySpan<byte> data, DecoderOptions options);

    /// <summary>The extractor whose features are cached.</summary>
    public IFeatureExtractor Extractor { get; }

    /// <summary>Number of feature vectors held in memory.</summary>
    public int Count => _memory.Count;

    /// <summary>Number of lookups answered from memory or disk since creation.</summary>
    public int Hits => _hits;

    /// <summary>The features of an image file, computed (decoding the file) only when not cached.</summary>
    /// <exception cref="InvalidImageContentException">The file is not a readable image; the message names it.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public float[] GetOrExtract(string imagePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        byte[] data = File.ReadAllBytes(imagePath);
        try
        {
            return GetOrExtract(data);
        }
        catch (InvalidImageContentException ex) when (ex.FilePath is null)
        {
            throw new InvalidImageContentException(ex.Format, ex.Offset, ex.Reason, ex) { FilePath = imagePath };
        }
    }

    /// <summary>The features of an encoded image held in memory, computed only when not cached.</summary>
    /// <exception cref="InvalidImageContentException">The bytes are not a readable image.</exception>
    public float[] GetOrExtract(ReadOnlySpan<byte> encodedImage)
    {
        string key = Convert.ToHexStringLower(SHA256.HashData(encodedImage)) + "-" + _identityHash;
        if (_memory.TryGetValue(key, out float[]? cached))
        {
            Interlocked.Increment(ref _hits);
            return (float[])cached.Clone();
        }

        float[]? features = _directory is null ? null : TryReadFile(Path.Combine(_directory, key + ".f32"));
        if (features is not null)
        {
            Interlocked.Increment(ref _hits);
        }
        else
        {
            using Image image = _decode(encodedImage, _decoderOptions);
            features = Extractor.Extract(image);
            if (_directory is not null)
            {
                WriteFile(Path.Combine(_directory, key + ".f32"), features);
            }
        }

        _memory[key] = features;
        return (float[])features.Clone();
    }

    /// <summary>The features of many image files, in parallel.</summary>
    public float[][] GetOrExtract(IReadOnlyList<string> imagePaths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        float[][] result = new float[imagePaths.Count][];
        try
        {
            Parallel.For(0, imagePaths.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => result[i] = GetOrExtract(imagePaths[i]));
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            // Report the first failure itself (it names the file), not a wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
        }

        return result;
    }

    /// <summary>Forgets the features held in memory (files on disk are kept).</summary>
    public void Clear() => _memory.Clear();

    private float[]? TryReadFile(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            byte[] bytes = File.ReadAllBytes(path);
            int n = Extractor.FeatureLength;
            if (bytes.Length != 8 + (4 * n) || !bytes.AsSpan(0, 4).SequenceEqual(Magic) || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)) != n)
            {
                return null; // a stale or damaged file: recompute and replace it
            }

            float[] f = new float[n];
            for (int i = 0; i < n; i++)
            {
                f[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (4 * i)));
            }

            return f.All(float.IsFinite) ? f : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void WriteFile(string path, float[] features)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        byte[] bytes = new byte[8 + (4 * features.Length)];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), features.Length);
        for (int i = 0; i < features.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(8 + (4 * i)), features[i]);
        }

        string temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
