using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Onnx;
using DefectDetection.Pipeline;

namespace DefectDetection.Vision.Roi;

/// <summary>Options of <see cref="OnnxDetectorRoiDetector"/>.</summary>
public sealed class OnnxDetectorOptions
{
    /// <summary>How the image becomes the network input (size, letterbox padding, channel order, scaling).
    /// Default: YOLOX's (416, pad 114, BGR, 0-255).</summary>
    public TensorLayoutOptions Input { get; init; } = TensorLayoutOptions.Yolox();

    /// <summary>How the network lays out its output. Default: YOLOX raw grid output.</summary>
    public DetectionOutputLayout Layout { get; init; } = DetectionOutputLayout.YoloxRaw;

    /// <summary>Smallest score kept. Default: 0.3.</summary>
    public float ScoreThreshold { get; init; } = 0.3f;

    /// <summary>Non-maximum suppression IoU (per class). Default: 0.45.</summary>
    public float NmsIou { get; init; } = 0.45f;

    /// <summary>Class names by index (labels of the regions); missing names become the index. Default: none.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Only these classes become regions (by name); empty keeps all. Default: all.</summary>
    public IReadOnlyList<string> KeepClasses { get; init; } = [];

    /// <summary>Intra-op threads of the engine. Default: the number of processors.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// The execution backend that runs the detector (for example ONNX Runtime from DefectDetection.OnnxRuntime).
    /// Null (default): <see cref="OnnxBackends.Current"/> when the detector is created.
    /// </summary>
    public IOnnxBackend? Backend { get; init; }
}

/// <summary>
/// Regions of interest from an object detector exported to ONNX (YOLOX, YOLOv5/v8, boxes+scores models), run by
/// the managed engine (or <see cref="OnnxDetectorOptions.Backend"/>): letterboxed input, output decoding, per-class NMS, boxes mapped back to the image.
/// Thread-safe.
/// </summary>
public sealed class OnnxDetectorRoiDetector : IRoiDetector, IDisposable
{
    private readonly IOnnxSession _session;
    private readonly OnnxDetectorOptions _options;
    private readonly string _inputName;

    /// <summary>Loads the detector.</summary>
    /// <param name="modelPath">The ONNX file.</param>
    /// <param name="options">Input layout, output layout, thresholds and class names.</param>
    public OnnxDetectorRoiDetector(string modelPath, OnnxDetectorOptions? options = null)
    {
        _options = options ?? new OnnxDetectorOptions();
        _options.Input.Validate();
        _session = OnnxBackends.CreateSession(OnnxModel.Load(modelPath), new OnnxSessionOptions { IntraOpThreads = Math.Max(1, _options.Threads) }, _options.Backend);
        _inputName = _session.Inputs[0].Name;
        int outputs = _options.Layout == DetectionOutputLayout.BoxesAndScores ? 2 : 1;
        if (_session.Outputs.Count < outputs)
        {
            throw new ArgumentException($"{modelPath}: the {_options.Layout} layout needs {outputs} outputs, the model has {_session.Outputs.Count}.", nameof(modelPath));
        }
    }

    /// <summary>Runs the detector and returns its detections in image coordinates (before class filtering).</summary>
    public IReadOnlyList<Detection> DetectObjects(ImageView image, CancellationToken cancellationToken = default)
    {
        TensorLayoutOptions input = _options.Input;
        float[] data = new float[input.ElementsPerImage];
        LetterboxTransform letterbox = TensorConversion.Letterbox(image, input, data);
        OnnxTensor<float> tensor = new(data, [1, input.Channels, input.Height, input.Width]);
        IReadOnlyDictionary<string, OnnxTensor> outputs = _session.Run(new Dictionary<string, OnnxTensor> { [_inputName] = tensor }, null, cancellationToken);

        List<Detection> candidates;
        if (_options.Layout == DetectionOutputLayout.BoxesAndScores)
        {
            OnnxTensor<float> boxes = outputs[_session.Outputs[0].Name].As<float>(), scores = outputs[_session.Outputs[1].Name].As<float>();
            int count = boxes.Shape[^2], classes = scores.Shape[^1];
            candidates = DetectionDecoding.DecodeBoxesAndScores(boxes.Span, scores.Span, count, classes, _options.ScoreThreshold);
        }
        else
        {
            OnnxTensor<float> output = outputs[_session.Outputs[0].Name].As<float>();
            int[] shape = output.Shape;
            if (shape.Length != 3 || shape[0] != 1)
            {
                throw new InvalidOperationException($"Expected a detector output of shape [1, N, K], got [{string.Join(", ", shape)}].");
            }

            candidates = DetectionDecoding.Decode(_options.Layout, output.Span, [shape[1], shape[2]], input.Width, input.Height, _options.ScoreThreshold);
        }

        List<Detection> kept = DetectionDecoding.NonMaxSuppression(candidates, _options.NmsIou);
        return [.. kept.Select(d => d with
        {
            X1 = letterbox.ToSourceX(d.X1),
            Y1 = letterbox.ToSourceY(d.Y1),
            X2 = letterbox.ToSourceX(d.X2),
            Y2 = letterbox.ToSourceY(d.Y2),
        })];
    }

    /// <inheritdoc />
    public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default)
    {
        List<RegionOfInterest> regions = [];
        foreach (Detection d in DetectObjects(image, cancellationToken))
        {
            string label = d.ClassId < _options.ClassNames.Count ? _options.ClassNames[d.ClassId] : d.ClassId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (_options.KeepClasses.Count > 0 && !_options.KeepClasses.Contains(label))
            {
                continue;
            }

            Rectangle box = Rectangle.FromEdges((int)MathF.Floor(d.X1), (int)MathF.Floor(d.Y1), (int)MathF.Ceiling(d.X2), (int)MathF.Ceiling(d.Y2));
            regions.Add(new RegionOfInterest(box, label, d.Score));
        }

        return regions;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
