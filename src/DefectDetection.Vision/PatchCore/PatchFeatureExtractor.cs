using System.Numerics.Tensors;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Onnx;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// Runs the backbone on a batch and turns the tapped layers into patch features: each layer averaged over a k x k
/// neighbourhood (stride 1, edges averaged over the pixels inside), resized bilinearly to the grid of the first
/// layer, and concatenated per patch (with a position weight, the patch's scaled grid column and row follow).
/// Output layout: [image, patch (row-major grid), feature].
/// </summary>
internal sealed class PatchFeatureExtractor : IDisposable
{
    private readonly OnnxBackbone _backbone;
    private readonly int _neighbourhood;

    private readonly int _tiles;

    public PatchFeatureExtractor(byte[] backboneBytes, string backboneName, IReadOnlyList<string> layers, int inputSize, int neighbourhood, int threads, int batchSize = 8, int tiles = 1,
        float positionWeight = 0, TensorLayoutOptions? layout = null, int maxLayerFeatures = 0, string? inputName = null)
    {
        BackboneBytes = backboneBytes;
        MaxLayerFeatures = maxLayerFeatures;
        TensorLayoutOptions l = layout ?? TensorLayoutOptions.ImageNet;
        PositionWeight = positionWeight;
        _neighbourhood = neighbourhood;
        _tiles = tiles;
        Layout = new TensorLayoutOptions
        {
            Width = inputSize,
            Height = inputSize,
            Channels = l.Channels,
            ChannelOrder = l.ChannelOrder,
            Scale = l.Scale,
            Mean = l.Mean,
            Std = l.Std,
            ResizeMode = l.ResizeMode,
        };
        string[] taps = layers.Count > 0 ? [.. layers] : OnnxBackbone.StageTaps(backboneBytes, Layout, inputName);
        _backbone = new OnnxBackbone(BackboneSpec.FromBytes(backboneBytes, backboneName) with { Layout = Layout, Taps = taps, InputName = inputName },
            new OnnxBackboneOptions { Threads = threads, BatchSize = batchSize });
        if (maxLayerFeatures == AutomaticLayerFeatures)
        {
            MaxLayerFeatures = _backbone.LayerShapes.Sum(s => s.Channels) > 192 ? 64 : 0;
        }

        foreach (FeatureMapShape s in _backbone.LayerShapes)
        {
            Dimension += LayerFeatures(s.Channels);
        }

        if (positionWeight > 0)
        {
            Dimension += 2;
        }

        GridHeight = _backbone.LayerShapes[0].Height * tiles;
        GridWidth = _backbone.LayerShapes[0].Width * tiles;
    }

    public TensorLayoutOptions Layout { get; }

    /// <summary>The backbone's ONNX bytes (kept to embed them in model files).</summary>
    public byte[] BackboneBytes { get; }

    /// <summary>The <c>maxLayerFeatures</c> that asks for the automatic rule of <see cref="PatchCoreOptions.MaxLayerFeatures"/>.</summary>
    public const int AutomaticLayerFeatures = -1;

    /// <summary>Features kept per tapped layer (0 = every channel; see <see cref="PatchCoreOptions.MaxLayerFeatures"/>).</summary>
    public int MaxLayerFeatures { get; }

    public int Dimension { get; }

    public int GridWidth { get; }

    public int GridHeight { get; }

    public int Patches => GridWidth * GridHeight;

    /// <summary>Weight of the two position features appended to each patch (0 = none; see <see cref="PatchCoreOptions.PositionWeight"/>).</summary>
    public float PositionWeight { get; }

    /// <summary>Tiles a side: the image is stretched to (tiles x input) pixels a side and run as tiles x tiles crops.</summary>
    public int Tiles => _tiles;

    /// <summary>The side of the stretched image the grid covers.</summary>
    public int CoveredSize => Layout.Width * _tiles;

    public OnnxBackbone Backbone => _backbone;

    /// <summary>Writes [images.Length, Patches, Dimension] floats to <paramref name="destination"/>.</summary>
    public void Extract(IReadOnlyList<ImageView> images, Span<float> destination, CancellationToken cancellationToken)
    {
        int n = images.Count, t = _tiles, tt = t * t;
        IReadOnlyList<OnnxTensor<float>> outs;
        if (t == 1)
        {
            outs = _backbone.Run(images, cancellationToken);
        }
        else
        {
            int side = Layout.Width;
            var big = new Image[n];
            try
            {
                var views = new ImageView[n * tt];
                for (int i = 0; i < n; i++)
                {
                    big[i] = ImageResizer.Resize(images[i], side * t, side * t, ResizeMode.Bilinear);
                    for (int k = 0; k < tt; k++)
                    {
                        views[(i * tt) + k] = big[i].View(new Rectangle(k % t * side, k / t * side, side, side));
                    }
                }

                outs = _backbone.Run(views, cancellationToken);
            }
            finally
            {
                foreach (Image? b in big)
                {
                    b?.Dispose();
                }
            }
        }

        int patches = Patches, dim = Dimension;
        int maxPlane = _backbone.LayerShapes.Max(s => s.Width * s.Height) * tt;
        float[] plane = new float[maxPlane];
        float[] pooled = new float[maxPlane];
        float[] resized = new float[patches];
        int offset = 0;
        for (int l = 0; l < outs.Count; l++)
        {
            float[] data = outs[l].Data;
            FeatureMapShape shape = _backbone.LayerShapes[l];
            int c = shape.Channels, d = LayerFeatures(c), th = shape.Height, tw = shape.Width, h = th * t, w = tw * t;
            for (int img = 0; img < n; img++)
            {
                Span<float> dest = destination.Slice(img * patches * dim, patches * dim);
                for (int j = 0; j < d; j++)
                {
                    // Feature j is the mean of channels [j*c/d, ceil((j+1)*c/d)) (PyTorch's adaptive average pooling;
                    // one channel each when nothing is reduced). The maps are linear in each channel, so the channels
                    // are averaged first and only d planes are aggregated and resized. The tiles' planes are stitched
                    // into one h x w plane as they are summed.
                    int start = j * c / d, end = (((j + 1) * c) + d - 1) / d;
                    Span<float> sum = plane.AsSpan(0, w * h);
                    for (int ch = start; ch < end; ch++)
                    {
                        for (int k = 0; k < tt; k++)
                        {
                            ReadOnlySpan<float> tile = data.AsSpan(((((img * tt) + k) * c) + ch) * th * tw, th * tw);
                            int ox = k % t * tw, oy = k / t * th;
                            for (int y = 0; y < th; y++)
                            {
                                Span<float> row = sum.Slice(((oy + y) * w) + ox, tw);
                                if (ch == start)
                                {
                                    tile.Slice(y * tw, tw).CopyTo(row);
                                }
                                else
                                {
                                    TensorPrimitives.Add(row, tile.Slice(y * tw, tw), row);
                                }
                            }
                        }
                    }

                    if (end - start > 1)
                    {
                        TensorPrimitives.Multiply(sum, 1f / (end - start), sum);
                    }

                    BoxAverage(sum, w, h, _neighbourhood, pooled);
                    ReadOnlySpan<float> onGrid = pooled.AsSpan(0, w * h);
                    if (w != GridWidth || h != GridHeight)
                    {
                        ImageResizer.Resize(onGrid, w, h, resized, GridWidth, GridHeight, ResizeMode.Bilinear);
                        onGrid = resized;
                    }

                    int col = offset + j;
                    for (int p = 0; p < patches; p++)
                    {
                        dest[(p * dim) + col] = onGrid[p];
                    }
                }
            }

            offset += d;
        }

        if (PositionWeight > 0)
        {
            for (int img = 0; img < n; img++)
            {
                WritePositions(destination.Slice(img * patches * dim, patches * dim), dim, offset, GridWidth, GridHeight, PositionWeight);
            }
        }
    }

    /// <summary>Features a layer of <paramref name="channels"/> channels contributes.</summary>
    private int LayerFeatures(int channels) => MaxLayerFeatures > 0 ? Math.Min(channels, MaxLayerFeatures) : channels;

    /// <summary>
    /// Writes each patch's position on a <paramref name="gw"/> x <paramref name="gh"/> grid, scaled to [0,
    /// <paramref name="weight"/>] along each axis (column, then row), into features <paramref name="column"/> and
    /// <paramref name="column"/> + 1 of one image's patch rows of <paramref name="dim"/> features.
    /// </summary>
    internal static void WritePositions(Span<float> features, int dim, int column, int gw, int gh, float weight)
    {
        float sx = gw > 1 ? weight / (gw - 1) : 0, sy = gh > 1 ? weight / (gh - 1) : 0;
        for (int p = 0; p < gw * gh; p++)
        {
            features[(p * dim) + column] = sx * (p % gw);
            features[(p * dim) + column + 1] = sy * (p / gw);
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

    public void Dispose() => _backbone.Dispose();
}
