using DefectDetection.Onnx;
using Microsoft.ML.OnnxRuntime;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace DefectDetection.OnnxRuntime;

/// <summary>An ONNX Runtime <see cref="InferenceSession"/> behind the library's <see cref="IOnnxSession"/>. Thread-safe.</summary>
internal sealed class OnnxRuntimeSession : IOnnxSession
{
    private readonly InferenceSession _session;
    private readonly string[] _outputNames;
    private bool _disposed;

    public OnnxRuntimeSession(byte[] model, OnnxRuntimeBackendOptions backend, OnnxSessionOptions options)
    {
        using SessionOptions so = new()
        {
            IntraOpNumThreads = backend.IntraOpThreads ?? options.IntraOpThreads,
            InterOpNumThreads = backend.InterOpThreads,
            ExecutionMode = backend.InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = backend.OptimizationLevel,
        };
        try
        {
            AddProvider(so, backend);
            backend.Configure?.Invoke(so);
            _session = new InferenceSession(model, so);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxModelException($"ONNX Runtime cannot run the model: {e.Message}", e);
        }

        Inputs = [.. _session.InputNames.Select(n => Info(n, _session.InputMetadata[n]))];
        Outputs = [.. _session.OutputNames.Select(n => Info(n, _session.OutputMetadata[n]))];
        _outputNames = [.. _session.OutputNames];
    }

    public IReadOnlyList<TensorInfo> Inputs { get; }

    public IReadOnlyList<TensorInfo> Outputs { get; }

    public IReadOnlyDictionary<string, OnnxTensor> Run(IReadOnlyDictionary<string, OnnxTensor> inputs, IReadOnlyList<string>? outputNames = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(inputs);
        cancellationToken.ThrowIfCancellationRequested();
        string[] wanted = outputNames is null ? _outputNames : [.. outputNames];
        List<string> names = [];
        List<OrtValue> values = [];
        try
        {
            foreach (TensorInfo info in Inputs)
            {
                if (!inputs.TryGetValue(info.Name, out OnnxTensor? tensor) || tensor is null)
                {
                    throw new OnnxModelException($"The input '{info.Name}' is missing.");
                }

                names.Add(info.Name);
                values.Add(ToOrt(tensor));
            }

            using RunOptions run = new();
            using CancellationTokenRegistration stop = cancellationToken.Register(() => run.Terminate = true);
            using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(run, names, values, wanted);
            Dictionary<string, OnnxTensor> outputs = new(StringComparer.Ordinal);
            for (int i = 0; i < wanted.Length; i++)
            {
                outputs[wanted[i]] = FromOrt(results[i], wanted[i]);
            }

            return outputs;
        }
        catch (OnnxRuntimeException e)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new OnnxModelException($"ONNX Runtime failed: {e.Message}", e);
        }
        finally
        {
            foreach (OrtValue v in values)
            {
                v.Dispose();
            }
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _session.Dispose();
        }
    }

    private static void AddProvider(SessionOptions so, OnnxRuntimeBackendOptions backend)
    {
        switch (backend.ExecutionProvider.ToUpperInvariant())
        {
            case "CPU":
                break;
            case "CUDA":
                so.AppendExecutionProvider_CUDA(backend.ProviderOptions.TryGetValue("device_id", out string? id) ? int.Parse(id, System.Globalization.CultureInfo.InvariantCulture) : 0);
                break;
            default:
                so.AppendExecutionProvider(backend.ExecutionProvider, backend.ProviderOptions.ToDictionary(kv => kv.Key, kv => kv.Value));
                break;
        }
    }

    private static TensorInfo Info(string name, NodeMetadata meta)
    {
        int[] dims = meta.IsTensor ? meta.Dimensions : [];
        string[] symbols = meta.IsTensor ? meta.SymbolicDimensions : [];
        Dimension[] shape = new Dimension[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            shape[i] = dims[i] >= 0 ? new Dimension(dims[i], null) : new Dimension(null, i < symbols.Length && symbols[i].Length > 0 ? symbols[i] : null);
        }

        TensorElementType type = meta.IsTensor ? (TensorElementType)(int)meta.ElementDataType : TensorElementType.Float32;
        return new TensorInfo(name, type, shape);
    }

    private static OrtValue ToOrt(OnnxTensor tensor)
    {
        long[] shape = [.. tensor.Shape.Select(d => (long)d)];
        return tensor switch
        {
            OnnxTensor<float> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<byte> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<sbyte> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<short> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<ushort> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<int> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<uint> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<long> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<ulong> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<double> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            OnnxTensor<bool> t => OrtValue.CreateTensorValueFromMemory(t.Data, shape),
            _ => throw new OnnxModelException($"A {tensor.ElementType} input cannot be passed to ONNX Runtime by this backend."),
        };
    }

    private static OnnxTensor FromOrt(OrtValue value, string name)
    {
        if (!value.IsTensor)
        {
            throw new OnnxModelException($"The output '{name}' is not a tensor.");
        }

        OrtTensorTypeAndShapeInfo info = value.GetTensorTypeAndShape();
        int[] shape = [.. info.Shape.Select(d => checked((int)d))];
        return info.ElementDataType switch
        {
            OrtElementType.Float => Copy<float>(value, shape),
            OrtElementType.UInt8 => Copy<byte>(value, shape),
            OrtElementType.Int8 => Copy<sbyte>(value, shape),
            OrtElementType.Int16 => Copy<short>(value, shape),
            OrtElementType.UInt16 => Copy<ushort>(value, shape),
            OrtElementType.Int32 => Copy<int>(value, shape),
            OrtElementType.UInt32 => Copy<uint>(value, shape),
            OrtElementType.Int64 => Copy<long>(value, shape),
            OrtElementType.UInt64 => Copy<ulong>(value, shape),
            OrtElementType.Double => Copy<double>(value, shape),
            OrtElementType.Bool => Copy<bool>(value, shape),
            _ => throw new OnnxModelException($"The output '{name}' is a {info.ElementDataType} tensor, which this backend does not return."),
        };
    }

    private static OnnxTensor<T> Copy<T>(OrtValue value, int[] shape)
        where T : unmanaged => new(value.GetTensorDataAsSpan<T>().ToArray(), shape);
}
