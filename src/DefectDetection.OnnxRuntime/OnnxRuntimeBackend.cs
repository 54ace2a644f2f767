using DefectDetection.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace DefectDetection.OnnxRuntime;

/// <summary>Options of <see cref="OnnxRuntimeBackend"/>: ONNX Runtime's threads, graph optimisation and execution provider.</summary>
public sealed class OnnxRuntimeBackendOptions
{
    /// <summary>
    /// Threads inside one operator. Null (default): the session options' <see cref="OnnxSessionOptions.IntraOpThreads"/>
    /// (what the backbone or detector asks for), so that both backends run with the same thread count.
    /// </summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>Threads running independent operators side by side (ONNX Runtime's parallel execution mode when above 1). Default 1.</summary>
    public int InterOpThreads { get; init; } = 1;

    /// <summary>
    /// ONNX Runtime's graph optimisation level. Default <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/> (its int8
    /// kernels for quantised models: on CPUs without AVX-512 VNNI they can saturate, see the README's exactness notes).
    /// <see cref="GraphOptimizationLevel.ORT_DISABLE_ALL"/> runs quantised models operator by operator in float
    /// (Quantize/DequantizeLinear around float convolutions).
    /// </summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>
    /// The execution provider: <c>CPU</c> (default), <c>CUDA</c> (needs the GPU build of ONNX Runtime;
    /// <c>device_id</c> in <see cref="ProviderOptions"/>), or any other name ONNX Runtime's
    /// <c>AppendExecutionProvider(name, options)</c> accepts (for example <c>XNNPACK</c>, <c>OpenVINO</c>). Operators the
    /// provider lacks fall back to the CPU.
    /// </summary>
    public string ExecutionProvider { get; init; } = "CPU";

    /// <summary>The provider's options (key to value), passed as given. Default: none.</summary>
    public IReadOnlyDictionary<string, string> ProviderOptions { get; init; } = new Dictionary<string, string>();

    /// <summary>Changes anything else on ONNX Runtime's session options before each session is made; null (default): nothing.</summary>
    public Action<SessionOptions>? Configure { get; init; }

    internal void Validate()
    {
        if (IntraOpThreads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "IntraOpThreads must be at least 1 (or null to follow the session options).");
        }

        if (InterOpThreads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(InterOpThreads), InterOpThreads, "InterOpThreads must be at least 1.");
        }

        ArgumentException.ThrowIfNullOrEmpty(ExecutionProvider, nameof(ExecutionProvider));
        ArgumentNullException.ThrowIfNull(ProviderOptions, nameof(ProviderOptions));
    }
}

/// <summary>
/// ONNX Runtime as an execution backend of the library: set it globally (<c>OnnxBackends.Default = new OnnxRuntimeBackend()</c>),
/// for the models loaded or trained inside a scope (<c>using (OnnxBackends.Use(backend)) { ... }</c>), or for one
/// backbone or detector (<c>OnnxBackboneOptions.Backend</c>, <c>OnnxDetectorOptions.Backend</c>). Tapped intermediate
/// tensors are made graph outputs before the model reaches ONNX Runtime (it returns nothing else). Thread-safe.
/// </summary>
public sealed class OnnxRuntimeBackend : IOnnxBackend
{
    /// <summary>Creates the backend.</summary>
    /// <param name="options">Threads, optimisation level and execution provider; null for the defaults.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public OnnxRuntimeBackend(OnnxRuntimeBackendOptions? options = null)
    {
        Options = options ?? new OnnxRuntimeBackendOptions();
        Options.Validate();
    }

    /// <summary>The options.</summary>
    public OnnxRuntimeBackendOptions Options { get; }

    /// <inheritdoc />
    public string Name => "onnxruntime";

    /// <summary>The version of the ONNX Runtime library loaded (for reports).</summary>
    public static string RuntimeVersion => OrtEnv.Instance().GetVersionString();

    /// <inheritdoc />
    public IOnnxSession CreateSession(OnnxModel model, OnnxSessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        return new OnnxRuntimeSession(model.ToBytes(options.ExtraOutputs), Options, options);
    }

    /// <summary>Makes a session over an ONNX file.</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="options">Threads and extra outputs; null for the defaults.</param>
    /// <exception cref="OnnxModelException">The file cannot be read, or ONNX Runtime refuses the model (its message is kept).</exception>
    public IOnnxSession CreateSession(string modelPath, OnnxSessionOptions? options = null) =>
        CreateSession(OnnxModel.Load(modelPath), options ?? new OnnxSessionOptions());
}
