using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Onnx;

namespace DefectDetection.Vision.Anomaly;

/// <summary>
/// Runs the backbone on a batch and turns the tapped layers into patch features: each layer averaged over a k x k
/// neighbourhood (stride 1, edges averaged over the pixels inside), resized bilinearly to the grid of the first
/// layer, and concatenated per patch. Output layout: [image, patch (row-major grid), feature].
/// </summary>
internal sealed class PatchFeatureExtractor : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string[] _layers;
    private readonly int[] _channels;
    private readonly int[] _layerWidths;
    private readonly int[] _layerHeights;
    private readonly int _neighbourhood;

    public PatchFeatureExtractor(string backbonePath, IReadOnlyList<string> layers, int inputSize, int neighbourhood, int threads)
    {
        _layers = [.. layers];
        _neighbourhood = neighbourhood;
        Layout = new TensorLayoutOptions
        {
            Width = inputSize,
            Height = inputSize,
            Mean = TensorLayoutOptions.ImageNet.Mean,
            Std = TensorLayoutOptions.ImageNet.Std,
        };
        _session = new InferenceSession(backbonePath, new SessionOptions { IntraOpThreads = threads, ExtraOutputs = _layers });
        _inputName = _session.Inputs[0].Name;

        // One probe run fixes the layer shapes.
        var probe = new DenseTensor<float>([1, 3, inputSize, inputSize]);
        IReadOnlyDictionary<string, Tensor> outs = _session.Run(new Dictionary<string, Tensor> { [_inputName] = probe }, _layers);
        _channels = new int[_layers.Length];
        _layerWidths = new int[_layers.Length];
        _layerHeights = new int[_layers.Length];
        for (int l = 0; l < _layers.Length; l++)
        {
            ReadOnlySpan<int> dims = outs[_layers[l]].Dimensions;
            if (dims.Length != 4)
            {
                throw new ArgumentException($"The tapped layer '{_layers[l]}' has rank {dims.Length}; a [N, C, H, W] feature map is needed.", nameof(layers));
            }

            _channels[l] = dims[1];
            _layerHeights[l] = dims[2];
            _layerWidths[l] = dims[3];
            Dimension += dims[1];
        }

        GridHeight = _layerHeights[0];
        GridWidth = _layerWidths[0];
    }

    public TensorLayoutOptions Layout { get; }

    public int Dimension { get; }

    public int GridWidth { get; }

    public int GridHeight { get; }

    public int Patches => GridWidth * GridHeight;

    public InferenceSession Session => _session;

    /// <summary>Writes [images.Length, Patches, Dimension] floats to <paramref name="destination"/>.</summary>
    public void Extract(ReadOnlySpan<ImageView> images, Span<float> destination, CancellationToken cancellationToken)
    {
        int n = images.Length;
        var input = new DenseTensor<float>([n, 3, Layout.Height, Layout.Width]);
        TensorConversion.ToNchw(images, Layout, input.Span);
        IReadOnlyDictionary<string, Tensor> outs = _session.Run(new Dictionary<string, Tensor> { [_inputName] = input }, _layers, cancellationToken);
        int patches = Patches, dim = Dimension;
        float[] pooled = new float[_layerWidths.Max() * _layerHeights.Max()];
        float[] resized = new float[patches];
        int offset = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            float[] data = outs[_layers[l]].As<float>().Data;
            int c = _channels[l], h = _layerHeights[l], w = _layerWidths[l];
            for (int img = 0; img < n; img++)
            {
                Span<float> dest = destination.Slice(img * patches * dim, patches * dim);
                for (int ch = 0; ch < c; ch++)
                {
                    ReadOnlySpan<float> plane = data.AsSpan(((img * c) + ch) * h * w, h * w);
                    BoxAverage(plane, w, h, _neighbourhood, pooled);
                    ReadOnlySpan<float> onGrid = pooled.AsSpan(0, w * h);
                    if (w != GridWidth || h != GridHeight)
                    {
                        ImageResizer.Resize(onGrid, w, h, resized, GridWidth, GridHeight, ResizeMode.Bilinear);
                        onGrid = resized;
                    }

                    int col = offset + ch;
                    for (int p = 0; p < patches; p++)
                    {
                        dest[(p * dim) + col] = onGrid[p];
                    }
                }
            }

            offset += c;
        }
    }

    /// <summary>k x k mean with stride 1; at the edges the mean of the pixels inside the image.</summary>
    internal static void BoxAverage(ReadOnlySpan<float> plane, int w, int h, int k, Span<float> destination)
    {
        int r = k / 2;
        for (int y = 0; y < h; y++)
        {
            int y0 = Math.Max(0, y - r), y1 = Math.Min(h - 1, y + r);
            for (int x = 0; x < w; x++)
            {
                int x0 = Math.Max(0, x - r), x1 = Math.Min(w - 1, x + r);
                float sum = 0;
                for (int yy = y0; yy <= y1; yy++)
                {
                    for (int xx = x0; xx <= x1; xx++)
                    {
                        sum += plane[(yy * w) + xx];
                    }
                }

                destination[(y * w) + x] = sum / ((y1 - y0 + 1) * (x1 - x0 + 1));
            }
        }
    }

    public void Dispose() => _session.Dispose();
}
