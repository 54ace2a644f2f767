using System.Globalization;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Security.Cryptography;
using System.Text;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Onnx;

namespace DefectDetection.Vision.Backbones;

/// <summary>The shape of one tapped layer's feature map for one image.</summary>
/// <param name="Layer">The tensor name.</param>
/// <param name="Channels">Channels (C).</param>
/// <param name="Height">Rows (H); 1 for a 2-D tap.</param>
/// <param name="Width">Columns (W); 1 for a 2-D tap.</param>
public readonly record struct FeatureMapShape(string Layer, int Channels, int Height, int Width);

/// <summary>
/// A frozen ONNX network used as a feature source: images are resized and normalised into the input tensor
/// (<see cref="BackboneSpec.Layout"/>), the model runs in batches on the managed engine, and the tapped
/// intermediate tensors are returned as raw [N, C, H, W] float feature maps. Thread-safe; dispose it to release the
/// session's threads.
/// </summary>
public sealed partial class OnnxBackbone : IDisposable
{
    private const int ProbeTail = 96;
    private readonly IOnnxSession _session;
    private readonly string _inputName;
    private readonly string[] _layers;
    private readonly FeatureMapShape[] _shapes;

    // The last input tensor's buffer (4.8 MB for 8 crops of 224x224), reused by the next run of the same batch size
    // instead of allocating one on the large-object heap per call; taken and given back atomically.
    private float[]? _spareInput;

    /// <summary>Prepares a session over a backbone.</summary>
    /// <param name="spec">The model, its input layout and the taps (none: the default tap, see <see cref="FindDefaultLayer(OnnxModel)"/>).</param>
    /// <param name="options">Batch size and threads; null for the defaults.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="OnnxModelException">The model is malformed or unsupported, or a tap is not a 4-D or 2-D float tensor of it.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public OnnxBackbone(BackboneSpec spec, OnnxBackboneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        options ??= new OnnxBackboneOptions();
        options.Validate();
        byte[] modelBytes = spec.ReadModel();
        Options = options;
        Spec = spec;
        Name = spec.Name;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(modelBytes));
        Layout = spec.ResolveLayout(Sha256);
        try
        {
            OnnxModel model = OnnxModel.Load(modelBytes);
            _inputName = spec.InputName ?? (model.Inputs.Count > 0 ? model.Inputs[0].Name : throw new OnnxModelException("The model has no input."));
            if (!model.Inputs.Any(i => i.Name == _inputName))
            {
                throw new OnnxModelException($"The model has no input '{_inputName}' (inputs: {string.Join(", ", model.Inputs.Select(i => i.Name))}).");
            }

            model = WithInputSize(model, modelBytes, _inputName, Layout, options.BatchSize);

            _layers = spec.Taps.Count > 0 ? spec.Taps.ToArray() : [FindDefaultLayer(model, Layout, _inputName)];
            HashSet<string> produced = new(model.NodeOutputNames, StringComparer.Ordinal);
            foreach (string layer in _layers)
            {
                if (!produced.Contains(layer) && !model.Outputs.Any(o => o.Name == layer))
                {
                    throw new OnnxModelException($"The model has no tensor named '{layer}'. Run 'defect onnx info' to list the tensors.");
                }
            }

            _session = OnnxBackends.CreateSession(model, new OnnxSessionOptions { IntraOpThreads = options.Threads, ExtraOutputs = _layers }, options.Backend);
            try
            {
                _shapes = Probe();
            }
            catch
            {
                _session.Dispose();
                throw;
            }
        }
        catch (OnnxModelException e) when (spec.Path is not null && e.ModelPath is null)
        {
            throw e.ForModelFile(spec.Path);
        }

        Identity = string.Create(CultureInfo.InvariantCulture,
            $"onnx-v1;sha256={Sha256};input={_inputName};layers={string.Join(",", _layers)};{Describe(Layout)}");
    }

    /// <summary>The backbone as given.</summary>
    public BackboneSpec Spec { get; }

    /// <summary>Batch size and threads.</summary>
    public OnnxBackboneOptions Options { get; }

    /// <summary>The model input that is fed.</summary>
    public string InputName => _inputName;

    /// <summary>The display name (file name).</summary>
    public string Name { get; }

    /// <summary>SHA-256 (lower-case hex) of the model's bytes.</summary>
    public string Sha256 { get; }

    /// <summary>The tapped layers, in output order (the default layer when none was given).</summary>
    public IReadOnlyList<string> Layers => _layers;

    /// <summary>The per-image shape of each tapped layer.</summary>
    public IReadOnlyList<FeatureMapShape> LayerShapes => _shapes;

    /// <summary>The input layout in force (<see cref="BackboneSpec.Layout"/>, or the one chosen for a null layout).</summary>
    public TensorLayoutOptions Layout { get; }

    /// <summary>A string that changes whenever the features would: model hash, input, layers and preprocessing.</summary>
    public string Identity { get; }

    /// <summary>
    /// Runs the backbone on images (any sizes and pixel formats; each is stretched to the input size, which may differ
    /// from the size the model declares when only size-agnostic layers are tapped) in batches of
    /// <see cref="OnnxBackboneOptions.BatchSize"/> and returns one tensor per tapped layer, [images.Count, C, H, W].
    /// </summary>
    /// <param name="images">The images or views.</param>
    /// <param name="cancellationToken">Checked between batches and operators.</param>
    /// <returns>The feature maps, in the order of <see cref="Layers"/>.</returns>
    public IReadOnlyList<OnnxTensor<float>> Run(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        return InBatches(images.Count, (start, count) =>
        {
            ImageView[] batch = new ImageView[count];
            for (int i = 0; i < count; i++)
            {
                batch[i] = images[start + i];
            }

            return RunBatch(batch, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>
    /// Runs the backbone on regions of one image, each cut and resized straight into the input tensor (no crop images):
    /// one tensor per tapped layer, [regions.Count, C, H, W]. Regions may leave the image (filled by <paramref name="border"/>).
    /// </summary>
    internal IReadOnlyList<OnnxTensor<float>> Run(ImageView image, IReadOnlyList<Rectangle> regions, BorderMode border, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(regions);
        int n = regions.Count;
        if (n <= Options.BatchSize)
        {
            return RunBatch(Input(image, regions, 0, n, border), n, cancellationToken);
        }

        return InBatches(n, (start, count) => RunBatch(Input(image, regions, start, count, border), count, cancellationToken), cancellationToken);
    }

    // Runs n inputs in batches of Options.BatchSize (runBatch(start, count) gives one batch's maps) and gathers the
    // maps into one tensor per tapped layer, [n, C, H, W].
    private OnnxTensor<float>[] InBatches(int n, Func<int, int, IReadOnlyList<OnnxTensor<float>>> runBatch, CancellationToken cancellationToken)
    {
        OnnxTensor<float>[] result = new OnnxTensor<float>[_layers.Length];
        for (int l = 0; l < _layers.Length; l++)
        {
            FeatureMapShape s = _shapes[l];
            result[l] = new OnnxTensor<float>([n, s.Channels, s.Height, s.Width]);
        }

        for (int start = 0; start < n; start += Options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(Options.BatchSize, n - start);
            IReadOnlyList<OnnxTensor<float>> maps = runBatch(start, count);
            for (int l = 0; l < _layers.Length; l++)
            {
                int per = maps[l].Data.Length / count;
                maps[l].Data.AsSpan().CopyTo(result[l].Data.AsSpan(start * per, count * per));
            }
        }

        return result;
    }

    /// <summary>Runs the backbone on one image: one tensor per tapped layer, [1, C, H, W].</summary>
    /// <param name="image">The image or view.</param>
    /// <param name="cancellationToken">Checked between operators.</param>
    /// <returns>The feature maps, in the order of <see cref="Layers"/>.</returns>
    public IReadOnlyList<OnnxTensor<float>> Run(ImageView image, CancellationToken cancellationToken = default) =>
        RunBatch([image], cancellationToken);

    /// <summary>
    /// The default tap of a model: the last float tensor (in graph order) of rank 4 with more than one spatial
    /// position, which for a CNN classifier is the tensor its global pooling reads. Found by running the model once
    /// on a blank input with the ImageNet layout.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <returns>The tensor name.</returns>
    /// <exception cref="OnnxModelException">The model has no such tensor near its end.</exception>
    public static string FindDefaultLayer(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return FindDefaultLayer(model, TensorLayoutOptions.ImageNet, model.Inputs.Count > 0 ? model.Inputs[0].Name : string.Empty);
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    internal static string Describe(TensorLayoutOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"size={o.Width}x{o.Height};channels={o.Channels};order={o.ChannelOrder};scale={o.Scale:R};mean={string.Join(",", o.Mean.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))};std={string.Join(",", o.Std.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))};resize={o.ResizeMode}");

    private IReadOnlyList<OnnxTensor<float>> RunBatch(ImageView[] batch, CancellationToken cancellationToken)
    {
        TensorLayoutOptions layout = Layout;
        OnnxTensor<float> input = RentInput(batch.Length);
        TensorConversion.ToNchw(batch, layout, input.Span);

        return RunBatch(input, batch.Length, cancellationToken);
    }

    private OnnxTensor<float> Input(ImageView image, IReadOnlyList<Rectangle> regions, int start, int count, BorderMode border)
    {
        TensorLayoutOptions layout = Layout;
        OnnxTensor<float> input = RentInput(count);
        Rectangle[] part = new Rectangle[count];
        for (int i = 0; i < count; i++)
        {
            part[i] = regions[start + i];
        }

        TensorConversion.ToNchw(image, part, layout, input.Span, border);
        return input;
    }

    private IReadOnlyList<OnnxTensor<float>> RunBatch(OnnxTensor<float> input, int count, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, OnnxTensor> outputs = _session.Run(new Dictionary<string, OnnxTensor> { [_inputName] = input }, _layers, cancellationToken);
        OnnxTensor<float>[] maps = new OnnxTensor<float>[_layers.Length];
        bool aliased = false;
        for (int l = 0; l < _layers.Length; l++)
        {
            maps[l] = AsMap(outputs[_layers[l]], _layers[l], count);
            aliased |= ReferenceEquals(maps[l].Data, input.Data);
        }

        // The input's buffer goes back for the next call unless a tapped output is that very buffer.
        if (!aliased)
        {
            Volatile.Write(ref _spareInput, input.Data);
        }

        return maps;
    }

    // A zeroed input tensor for n images: the spare buffer, cleared, when it has the right size, else a new one.
    private OnnxTensor<float> RentInput(int n)
    {
        TensorLayoutOptions layout = Layout;
        int[] shape = [n, layout.Channels, layout.Height, layout.Width];
        long length = (long)n * layout.Channels * layout.Height * layout.Width;
        float[]? spare = Interlocked.Exchange(ref _spareInput, null);
        if (spare is null || spare.Length != length)
        {
            return new OnnxTensor<float>(shape);
        }

        spare.AsSpan().Clear();
        return new OnnxTensor<float>(spare, shape);
    }

    private FeatureMapShape[] Probe()
    {
        TensorLayoutOptions layout = Layout;
        OnnxTensor<float> input = new([1, layout.Channels, layout.Height, layout.Width]);
        IReadOnlyDictionary<string, OnnxTensor> outputs = _session.Run(new Dictionary<string, OnnxTensor> { [_inputName] = input }, _layers);
        FeatureMapShape[] shapes = new FeatureMapShape[_layers.Length];
        for (int l = 0; l < _layers.Length; l++)
        {
            OnnxTensor<float> map = AsMap(outputs[_layers[l]], _layers[l], 1);
            ReadOnlySpan<int> d = map.Dimensions;
            shapes[l] = new FeatureMapShape(_layers[l], d[1], d[2], d[3]);
        }

        return shapes;
    }

    private static OnnxTensor<float> AsMap(OnnxTensor t, string layer, int batch)
    {
        if (t.ElementType != TensorElementType.Float32)
        {
            throw new OnnxModelException($"The layer '{layer}' is a {t.ElementType} tensor; a float tensor is needed (tap the DequantizeLinear output in a quantized model).");
        }

        OnnxTensor<float> f = t.As<float>();
        ReadOnlySpan<int> d = f.Dimensions;
        if (d.Length == 4 && d[0] == batch)
        {
            return f;
        }

        if (d.Length == 2 && d[0] == batch)
        {
            return new OnnxTensor<float>(f.Data, [d[0], d[1], 1, 1]);
        }

        throw new OnnxModelException($"The layer '{layer}' has shape [{string.Join(",", f.Shape)}]; a [N, C, H, W] or [N, C] tensor with N = {batch} is needed.");
    }

    /// <summary>
    /// Chooses a backbone's taps for patch features when none are named: the outputs of its spatial stages at strides 8
    /// and 16 (the last tensor at each stride that ends a stage: a residual Add, or a tensor read by two or more nodes;
    /// behind a QuantizeLinear/DequantizeLinear pair its dequantized copy), or, for a backbone without both, its two
    /// deepest stages with a spatial size above 1. Reproduces PatchCore's layer2 + layer3 on ResNets and the
    /// features.6 + features.13 taps on MobileNetV2.
    /// </summary>
    /// <exception cref="OnnxModelException">The model has fewer than two such stages (name the taps).</exception>
    internal static string[] StageTaps(byte[] modelBytes, TensorLayoutOptions layout, string? inputName)
    {
        OnnxModel model = OnnxModel.Load(modelBytes);
        string input = inputName ?? (model.Inputs.Count > 0 ? model.Inputs[0].Name : throw new OnnxModelException("The model has no input."));
        model = WithInputSize(model, modelBytes, input, layout, 1);
        Dictionary<string, List<NodeInfo>> readers = new(StringComparer.Ordinal);
        foreach (NodeInfo n in model.Nodes)
        {
            foreach (string i in n.Inputs.Where(i => i.Length > 0))
            {
                if (!readers.TryGetValue(i, out List<NodeInfo>? list))
                {
                    readers[i] = list = [];
                }

                list.Add(n);
            }
        }

        // Stage ends, in graph order, each replaced by its dequantized copy when it is only quantized.
        List<string> candidates = [];
        foreach (NodeInfo n in model.Nodes)
        {
            foreach (string o in n.Outputs.Where(o => o.Length > 0))
            {
                int count = readers.TryGetValue(o, out List<NodeInfo>? r) ? r.Count : 0;
                if (n.OpType != "Add" && count < 2)
                {
                    continue;
                }

                string tap = o;
                if (count == 1 && r![0].OpType == "QuantizeLinear" && readers.TryGetValue(r[0].Outputs[0], out List<NodeInfo>? q)
                    && q.Count >= 1 && q.All(d => d.OpType == "DequantizeLinear"))
                {
                    tap = q[0].Outputs[0];
                }

                candidates.Add(tap);
            }
        }

        if (candidates.Count == 0)
        {
            throw new OnnxModelException("Found no stage outputs (residual Adds or tensors read twice) to tap; name the layers.");
        }

        using OnnxSession probe = new(model, new OnnxSessionOptions { IntraOpThreads = 1, ExtraOutputs = [.. candidates.Distinct(StringComparer.Ordinal)] });
        OnnxTensor<float> image = new([1, layout.Channels, layout.Height, layout.Width]);
        IReadOnlyDictionary<string, OnnxTensor> outputs = probe.Run(new Dictionary<string, OnnxTensor> { [input] = image }, [.. candidates.Distinct(StringComparer.Ordinal)]);
        SortedDictionary<int, string> lastByStride = [];
        foreach (string c in candidates)
        {
            OnnxTensor t = outputs[c];
            if (t.ElementType == TensorElementType.Float32 && t.Rank == 4 && t.Dimensions[2] > 1 && t.Dimensions[3] > 1)
            {
                lastByStride[(int)Math.Round((double)layout.Height / t.Dimensions[2])] = c;
            }
        }

        if (lastByStride.TryGetValue(8, out string? s8) && lastByStride.TryGetValue(16, out string? s16))
        {
            return [s8, s16];
        }

        return lastByStride.Count >= 2
            ? [.. lastByStride.Values.TakeLast(2)]
            : throw new OnnxModelException($"Found {lastByStride.Count} spatial stage output(s) to tap; name the layers.");
    }

    private static string FindDefaultLayer(OnnxModel model, TensorLayoutOptions layout, string inputName)
    {
        IReadOnlyList<string> names = model.NodeOutputNames;
        string[] tail = names.Skip(Math.Max(0, names.Count - ProbeTail)).ToArray();
        using OnnxSession probe = new(model, new OnnxSessionOptions { IntraOpThreads = 1, ExtraOutputs = tail });
        OnnxTensor<float> input = new([1, layout.Channels, layout.Height, layout.Width]);
        IReadOnlyDictionary<string, OnnxTensor> outputs = probe.Run(new Dictionary<string, OnnxTensor> { [inputName] = input }, tail);
        for (int i = tail.Length - 1; i >= 0; i--)
        {
            OnnxTensor t = outputs[tail[i]];
            if (t.ElementType == TensorElementType.Float32 && t.Rank == 4 && (long)t.Dimensions[2] * t.Dimensions[3] > 1)
            {
                return tail[i];
            }
        }

        throw new OnnxModelException($"Found no 4-D float feature map among the model's last {tail.Length} tensors; name the layer to tap.");
    }

    /// <summary>
    /// A model whose image input declares a fixed spatial size other than the layout's gets those two dimensions made
    /// symbolic, so that a fully convolutional backbone runs at the layout's size (MobileNetV2 exported at 224x224 run
    /// on 64x64 crops: its global pooling and classifier do not depend on the spatial size). A batch dimension fixed
    /// below the batch size (exports for one image, such as ML.NET's ResNet-18) is made symbolic the same way.
    /// </summary>
    private static OnnxModel WithInputSize(OnnxModel model, byte[] modelBytes, string inputName, TensorLayoutOptions layout, int batchSize)
    {
        TensorInfo input = model.Inputs.First(i => i.Name == inputName);
        IReadOnlyList<Dimension> shape = input.Shape;
        bool spatial = shape.Count == 4 && !((shape[2].Value is not long h || h == layout.Height) && (shape[3].Value is not long w || w == layout.Width));
        bool batch = shape.Count == 4 && shape[0].Value is long b && b < batchSize;
        if (!spatial && !batch)
        {
            return model;
        }

        byte[]? relaxed;
        try
        {
            relaxed = OnnxInputShapeRewriter.RelaxDimensions(modelBytes, inputName, batch, spatial);
        }
        catch (InvalidDataException e)
        {
            throw new OnnxModelException($"The input '{inputName}' is declared {string.Join("x", shape.Select(d => d.Value?.ToString(CultureInfo.InvariantCulture) ?? "?"))} and could not be relaxed to {layout.Height}x{layout.Width}: {e.Message}", e);
        }

        return relaxed is null ? model : OnnxModel.Load(relaxed);
    }
}
