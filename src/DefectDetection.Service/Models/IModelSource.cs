using DefectDetection.Models;

namespace DefectDetection.Service.Models;

/// <summary>
/// Gives the service the model to judge with and its version. A source may switch models at any time: an image
/// holds a <see cref="ModelLease"/> while it is judged, and the old model is disposed once its last lease ends, so
/// no request is dropped or judged by a disposed model.
/// </summary>
public interface IModelSource : IDisposable
{
    /// <summary>Takes the current model for one piece of work; dispose the lease when done.</summary>
    ModelLease Acquire();
}

/// <summary>A model and its version, held for one piece of work. Dispose it to release the model.</summary>
public sealed class ModelLease : IDisposable
{
    private readonly LeasedModel _owner;
    private int _disposed;

    internal ModelLease(LeasedModel owner) => _owner = owner;

    /// <summary>The model.</summary>
    public IDefectModel Model => _owner.Model;

    /// <summary>The model version recorded with each result (for a model file, its name and content hash).</summary>
    public string Version => _owner.Version;

    /// <summary>Releases the model.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Release();
        }
    }
}

/// <summary>A model with a count of its holders: the source holds one, each lease one; the last release disposes it.</summary>
internal sealed class LeasedModel(IDefectModel model, string version)
{
    private int _holders = 1;

    public IDefectModel Model { get; } = model;

    public string Version { get; } = version;

    /// <summary>A lease, or null when the model was already released by everyone (the caller tries the newer one).</summary>
    public ModelLease? TryLease()
    {
        int n = Volatile.Read(ref _holders);
        while (n > 0)
        {
            int seen = Interlocked.CompareExchange(ref _holders, n + 1, n);
            if (seen == n)
            {
                return new ModelLease(this);
            }

            n = seen;
        }

        return null;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            Model.Dispose();
        }
    }
}
