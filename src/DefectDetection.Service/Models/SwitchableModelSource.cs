using System.Security.Cryptography;
using DefectDetection.Models;
using DefectDetection.Vision;

namespace DefectDetection.Service.Models;

/// <summary>
/// A model source holding one model at a time, which <see cref="Switch"/> replaces without dropping requests
/// (work in progress finishes on the model it started with). <see cref="FromFile"/> loads a <c>.ddmodel</c> file.
/// </summary>
public sealed class SwitchableModelSource : IModelSource
{
    private LeasedModel? _current;

    /// <summary>A source serving <paramref name="model"/> (now owned by the source) as <paramref name="version"/>.</summary>
    /// <param name="model">The model; the source disposes it when switched away and no longer in use.</param>
    /// <param name="version">The version recorded with each result.</param>
    public SwitchableModelSource(IDefectModel model, string version)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        _current = new LeasedModel(model, version);
    }

    /// <summary>The version served now.</summary>
    public string Version => Volatile.Read(ref _current)?.Version ?? throw new ObjectDisposedException(nameof(SwitchableModelSource));

    /// <summary>Loads a model file; its version is the file name and the first 12 hex digits of its SHA-256.</summary>
    /// <param name="path">The <c>.ddmodel</c> file.</param>
    /// <param name="options">How the model is loaded (a backbone path).</param>
    public static SwitchableModelSource FromFile(string path, DefectModelLoadOptions? options = null) =>
        new(DefectModel.Load(path, options), VersionOf(path));

    /// <summary>The version of a model file: its name and the first 12 hex digits of its SHA-256.</summary>
    /// <param name="path">The file.</param>
    public static string VersionOf(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return $"{Path.GetFileName(path)}@{Convert.ToHexStringLower(SHA256.HashData(stream))[..12]}";
    }

    /// <inheritdoc/>
    public ModelLease Acquire()
    {
        while (true)
        {
            LeasedModel current = Volatile.Read(ref _current) ?? throw new ObjectDisposedException(nameof(SwitchableModelSource));
            if (current.TryLease() is { } lease)
            {
                return lease;
            }
        }
    }

    /// <summary>Serves <paramref name="model"/> from now on; the previous model is disposed when its last lease ends.</summary>
    /// <param name="model">The new model (now owned by the source).</param>
    /// <param name="version">Its version.</param>
    /// <exception cref="ObjectDisposedException">The source was disposed (the model is not taken).</exception>
    public void Switch(IDefectModel model, string version)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        LeasedModel fresh = new(model, version);
        LeasedModel? old = Volatile.Read(ref _current);
        while (true)
        {
            ObjectDisposedException.ThrowIf(old is null, this);
            LeasedModel? seen = Interlocked.CompareExchange(ref _current, fresh, old);
            if (seen == old)
            {
                old.Release();
                return;
            }

            old = seen;
        }
    }

    /// <summary>Releases the model (it is disposed once work in progress ends).</summary>
    public void Dispose() => Interlocked.Exchange(ref _current, null)?.Release();
}
