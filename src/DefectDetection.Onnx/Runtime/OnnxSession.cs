using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Optimizer;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx;

/// <summary>
/// Runs an <see cref="OnnxModel"/>. Construction checks every operator (all unsupported ones are reported at once),
/// applies the enabled graph rewrites and creates the kernels. <see cref="Run"/> is thread-safe; after the first
/// call with a given input shape, a call allocates nothing but the returned outputs. A batch of several items may be
/// split into slices that the intra-op threads run side by side (see <see cref="OnnxSessionOptions.BatchParallelism"/>).
/// </summary>
public sealed class OnnxSession : IOnnxSession
{
    private readonly SessionCore _core;
    private readonly Dictionary<string, int> _outputPositions;
    private readonly IDisposable? _pool;
    private bool _disposed;

    /// <summary>Creates a session.</summary>
    /// <param name="model">The model.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <exception cref="OnnxModelException">Unsupported operators or attributes (all listed), or a malformed graph.</exception>
    public OnnxSession(OnnxModel model, OnnxSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        try
        {
            options ??= new OnnxSessionOptions();
            options.Validate();
            Options = options;
            Model = model;

            OnnxGraph graph = model.Graph.Clone();
            var outputs = new List<string>(graph.Outputs.Select(o => o.Name));
            var outputInfos = new List<TensorInfo>(graph.Outputs);
            var produced = new HashSet<string>(graph.Nodes.SelectMany(n => n.Outputs), StringComparer.Ordinal);
            Dictionary<string, TensorElementType>? types = options.ExtraOutputs.Count > 0 ? TypeInference.Infer(graph) : null;
            foreach (string extra in options.ExtraOutputs)
            {
                if (outputs.Contains(extra))
                {
                    continue;
                }

                if (!produced.Contains(extra) && !graph.Initializers.ContainsKey(extra) && !graph.Inputs.Any(i => i.Name == extra))
                {
                    throw new OnnxModelException($"Extra output '{extra}' is not a tensor of the graph.");
                }

                outputs.Add(extra);
                outputInfos.Add(graph.ValueInfo.TryGetValue(extra, out TensorInfo? vi) ? vi
                    : new TensorInfo(extra, types!.GetValueOrDefault(extra, TensorElementType.Float32), []));
                graph.Outputs.Add(outputInfos[^1]);
            }

            // Unsupported operators and attributes are collected by SessionCore, all at once.
            SessionThreads? pool = SessionThreads.Create(options.IntraOpThreads);
            _pool = pool;
            try
            {
                graph = GraphOptimizer.Optimize(graph, options, pool?.Pool);
                _core = new SessionCore(graph, options, outputs, pool?.Pool);
            }
            catch (Exception e) when (e is not OnnxModelException)
            {
                pool?.Dispose();
                throw new OnnxModelException($"The model is malformed: {e.Message}", e);
            }
            catch
            {
                pool?.Dispose();
                throw;
            }

            Inputs = model.Inputs;
            Outputs = outputInfos;
            _outputPositions = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < outputs.Count; i++)
            {
                _outputPositions[outputs[i]] = i;
            }

            AppliedRewrites = graph.AppliedRewrites;
        }
        catch (OnnxModelException e) when (model.SourcePath is not null && e.ModelPath is null)
        {
            throw e.ForModelFile(model.SourcePath);
        }
    }

    /// <summary>Loads a model file and creates a session.</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <exception cref="OnnxModelException">The file is malformed or uses unsupported operators.</exception>
    public OnnxSession(string modelPath, OnnxSessionOptions? options = null)
        : this(OnnxModel.Load(modelPath), options)
    {
    }

    /// <summary>
    /// The most elements any tensor a session computes may hold (2^28, 1 GiB of float32), so that a hostile shape
    /// cannot exhaust memory. Callers that create inputs from declared shapes should refuse larger ones.
    /// </summary>
    public const long MaxTensorElements = 1L << 28;

    /// <summary>The model's inputs.</summary>
    public IReadOnlyList<TensorInfo> Inputs { get; }

    /// <summary>The outputs: the model's, then <see cref="OnnxSessionOptions.ExtraOutputs"/>.</summary>
    public IReadOnlyList<TensorInfo> Outputs { get; }

    /// <summary>The options in force.</summary>
    public OnnxSessionOptions Options { get; }

    /// <summary>The model.</summary>
    public OnnxModel Model { get; }

    /// <summary>How many times each rewrite was applied ("ConstantFolding" -> 12).</summary>
    public IReadOnlyDictionary<string, int> AppliedRewrites { get; }

    internal SessionCore Core => _core;

    /// <summary>Runs the model.</summary>
    /// <param name="inputs">One tensor per model input, by name.</param>
    /// <param name="outputNames">The outputs wanted; null for all of <see cref="Outputs"/>.</param>
    /// <param name="cancellationToken">Checked between operators.</param>
    /// <returns>The requested outputs by name (new tensors owned by the caller).</returns>
    /// <exception cref="OnnxModelException">A missing or mismatched input, or an operator failing on the data.</exception>
    public IReadOnlyDictionary<string, OnnxTensor> Run(IReadOnlyDictionary<string, OnnxTensor> inputs, IReadOnlyList<string>? outputNames = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(inputs);
        try
        {
            return RunCore(inputs, outputNames, cancellationToken);
        }
        catch (OnnxModelException e) when (Model.SourcePath is not null && e.ModelPath is null)
        {
            throw e.ForModelFile(Model.SourcePath);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _pool?.Dispose();
        }
    }

    private IReadOnlyDictionary<string, OnnxTensor> RunCore(IReadOnlyDictionary<string, OnnxTensor> inputs, IReadOnlyList<string>? outputNames, CancellationToken cancellationToken)
    {
        var bound = new OnnxTensor[Inputs.Count];
        for (int i = 0; i < bound.Length; i++)
        {
            TensorInfo info = Inputs[i];
            if (!inputs.TryGetValue(info.Name, out OnnxTensor? t) || t is null)
            {
                throw new OnnxModelException($"Input '{info.Name}' is missing.");
            }

            CheckInput(info, t);
            bound[i] = t;
        }

        var results = new OnnxTensor?[_core.OutputNames.Length];
        _core.Execute(bound, results, cancellationToken);
        var map = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        if (outputNames is null)
        {
            for (int i = 0; i < results.Length; i++)
            {
                map[_core.OutputNames[i]] = results[i]!;
            }
        }
        else
        {
            foreach (string name in outputNames)
            {
                if (!_outputPositions.TryGetValue(name, out int pos))
                {
                    throw new OnnxModelException($"'{name}' is not an output of this session (add it to OnnxSessionOptions.ExtraOutputs).");
                }

                map[name] = results[pos]!;
            }
        }

        return map;
    }

    private static void CheckInput(TensorInfo info, OnnxTensor t)
    {
        if (t.ElementType != info.ElementType)
        {
            throw new OnnxModelException($"Input '{info.Name}' must be {info.ElementType}, got {t.ElementType}.");
        }

        if (info.Shape.Count > 0 || t.Rank == 0)
        {
            if (t.Rank != info.Shape.Count)
            {
                throw new OnnxModelException($"Input '{info.Name}' must have rank {info.Shape.Count} ({string.Join(",", info.Shape)}), got [{string.Join(",", t.Shape)}].");
            }

            for (int d = 0; d < t.Rank; d++)
            {
                if (info.Shape[d].Value is long v && v != t.Dimensions[d])
                {
                    throw new OnnxModelException($"Input '{info.Name}' dimension {d} must be {v}, got {t.Dimensions[d]} (shape [{string.Join(",", t.Shape)}]).");
                }
            }
        }
    }
}
