namespace DefectDetection.Onnx;

/// <summary>
/// A session that runs one model and returns named outputs: the graph's outputs and the intermediate tensors asked
/// for when it was made (<see cref="OnnxSessionOptions.ExtraOutputs"/>). <see cref="OnnxSession"/> (the managed engine)
/// implements it, and so do other execution backends (<see cref="IOnnxBackend"/>). <see cref="Run"/> is thread-safe.
/// </summary>
public interface IOnnxSession : IDisposable
{
    /// <summary>The model's inputs.</summary>
    IReadOnlyList<TensorInfo> Inputs { get; }

    /// <summary>The outputs: the model's, then <see cref="OnnxSessionOptions.ExtraOutputs"/>.</summary>
    IReadOnlyList<TensorInfo> Outputs { get; }

    /// <summary>Runs the model.</summary>
    /// <param name="inputs">One tensor per model input, by name.</param>
    /// <param name="outputNames">The outputs wanted; null for all of <see cref="Outputs"/>.</param>
    /// <param name="cancellationToken">Stops the run early where the backend can.</param>
    /// <returns>The requested outputs by name (new tensors owned by the caller).</returns>
    /// <exception cref="OnnxModelException">A missing or mismatched input, or the model failing on the data.</exception>
    IReadOnlyDictionary<string, OnnxTensor> Run(IReadOnlyDictionary<string, OnnxTensor> inputs, IReadOnlyList<string>? outputNames = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// An execution backend: makes the sessions that run ONNX models. The library's own engine is
/// <see cref="OnnxBackends.Managed"/>; optional packages add others (DefectDetection.OnnxRuntime). Implementations are
/// thread-safe.
/// </summary>
public interface IOnnxBackend
{
    /// <summary>A short name for messages and reports (<c>managed</c>, <c>onnxruntime</c>).</summary>
    string Name { get; }

    /// <summary>Makes a session over <paramref name="model"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="options">Threads and extra outputs (backends that do not rewrite graphs ignore the rewrite switches).</param>
    /// <exception cref="OnnxModelException">The backend cannot run the model.</exception>
    IOnnxSession CreateSession(OnnxModel model, OnnxSessionOptions options);
}

/// <summary>
/// Chooses the backend that runs the library's ONNX models (backbones, detectors, users' models): globally with
/// <see cref="Default"/>, for the sessions made inside a scope with <see cref="Use"/> (for example around
/// <c>DefectModel.Load</c> or a trainer's <c>Fit</c>), or per backbone and detector in their options.
/// </summary>
public static class OnnxBackends
{
    private static readonly AsyncLocal<IOnnxBackend?> Scoped = new();

    /// <summary>The library's managed engine (<see cref="OnnxSession"/>).</summary>
    public static IOnnxBackend Managed { get; } = new ManagedOnnxBackend();

    // After Managed: static initializers run in textual order.
    private static IOnnxBackend _default = Managed;

    /// <summary>The backend used when neither a scope nor an option names one. Default <see cref="Managed"/>.</summary>
    public static IOnnxBackend Default
    {
        get => Volatile.Read(ref _default);
        set => Volatile.Write(ref _default, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>The backend in force here: the innermost <see cref="Use"/> scope's, else <see cref="Default"/>.</summary>
    public static IOnnxBackend Current => Scoped.Value ?? Default;

    /// <summary>
    /// Makes <paramref name="backend"/> the one in force for this async flow until the returned scope is disposed
    /// (scopes nest; sessions keep the backend they were made with).
    /// </summary>
    /// <param name="backend">The backend.</param>
    public static IDisposable Use(IOnnxBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        IOnnxBackend? previous = Scoped.Value;
        Scoped.Value = backend;
        return new Scope(previous);
    }

    /// <summary>Makes a session with <paramref name="backend"/>, or with <see cref="Current"/> when it is null.</summary>
    /// <param name="model">The model.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <param name="backend">The backend; null: <see cref="Current"/>.</param>
    /// <exception cref="OnnxModelException">The backend cannot run the model.</exception>
    public static IOnnxSession CreateSession(OnnxModel model, OnnxSessionOptions? options = null, IOnnxBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return (backend ?? Current).CreateSession(model, options ?? new OnnxSessionOptions());
    }

    private sealed class Scope(IOnnxBackend? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                Scoped.Value = previous;
            }
        }
    }

    private sealed class ManagedOnnxBackend : IOnnxBackend
    {
        public string Name => "managed";

        public IOnnxSession CreateSession(OnnxModel model, OnnxSessionOptions options) => new OnnxSession(model, options);
    }
}
