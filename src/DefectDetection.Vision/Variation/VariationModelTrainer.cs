using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.Vision.Variation;

/// <summary>
/// Trains a <see cref="VariationModel"/> (no weights): every normal image is turned to gray, stretched to the model
/// size, aligned to the first one by a translation search (template matching, coarse to fine), and the per-pixel mean
/// and standard deviation are accumulated.
/// </summary>
public sealed class VariationModelTrainer : IDefectTrainer
{
    /// <summary>Creates a trainer.</summary>
    /// <param name="options">The configuration (validated here).</param>
    public VariationModelTrainer(VariationModelOptions? options = null)
    {
        options ??= new VariationModelOptions();
        options.Validate();
        Options = options;
    }

    /// <summary>The configuration.</summary>
    public VariationModelOptions Options { get; }

    /// <summary>
    /// Fits the model. The images are taken in the order of a hash of their pixels (the first one is the alignment
    /// reference), so the model does not depend on the order of the list.
    /// </summary>
    /// <param name="normalImages">Aligned (or translation-only misaligned) normal images.</param>
    /// <param name="progress">Optional progress (stage <c>bank</c>, one report per image).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The model.</returns>
    public VariationModel Fit(IReadOnlyList<ImageView> normalImages, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(normalImages);
        int[] order = ContentOrder.Of(normalImages);
        return FitCore(normalImages.Count, (i, w, h) => Sized(normalImages[order[i]], w, h), progress, cancellationToken);
    }

    /// <summary>Fits the model on decoded images (what <see cref="ImageCodecs.Load"/> returns).</summary>
    /// <param name="normalImages">Aligned (or translation-only misaligned) normal images.</param>
    /// <param name="progress">Optional progress (stage <c>bank</c>, one report per image).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The model.</returns>
    public VariationModel Fit(IReadOnlyList<Image> normalImages, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(normalImages);
        return Fit([.. normalImages.Select(i => i.View())], progress, cancellationToken);
    }

    /// <summary>
    /// Fits the model on the images of a dataset labelled with one of <see cref="VariationModelOptions.NormalLabels"/>
    /// (read one at a time), taken in <see cref="ImageDataset.InContentOrder"/> (the first one is the alignment
    /// reference), so the model does not depend on the order they are listed in.
    /// </summary>
    /// <param name="dataset">The images.</param>
    /// <param name="progress">Optional progress (stage <c>bank</c>, one report per image).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException">The dataset has no image with a normal label.</exception>
    public VariationModel Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        HashSet<string> normal = new(Options.NormalLabels, StringComparer.Ordinal);
        string[] paths = dataset.Filter(x => normal.Contains(x.Label)).InContentOrder(cancellationToken).Select(x => x.ImagePath).ToArray();
        return FitCore(paths.Length, (i, w, h) =>
        {
            using Image image = ImageCodecs.Load(paths[i]);
            return Sized(image.View(), w, h);
        }, progress, cancellationToken);
    }

    /// <inheritdoc />
    IDefectModel IDefectTrainer.Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) => Fit(dataset, progress, cancellationToken);

    // Image i in gray at w x h; a zero side takes the image's own (the first image sets the model size).
    private static (float[] Gray, int Width, int Height) Sized(ImageView image, int w, int h)
    {
        w = w > 0 ? w : image.Width;
        h = h > 0 ? h : image.Height;
        return (Gray(image, w, h), w, h);
    }

    private VariationModel FitCore(int count, Func<int, int, int, (float[] Gray, int Width, int Height)> gray, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            throw new ArgumentException($"At least one normal image is needed (labels {string.Join(", ", Options.NormalLabels)}).");
        }

        (float[] reference, int w, int h) = gray(0, Options.Width, Options.Height);
        double[] sum = new double[w * h], sumSq = new double[w * h];
        for (int i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            float[] g = i == 0 ? reference : gray(i, w, h).Gray;
            (int sx, int sy) = Align(reference, g, w, h, Options.MaxShift);
            for (int y = 0; y < h; y++)
            {
                int yy = Math.Clamp(y + sy, 0, h - 1);
                for (int x = 0; x < w; x++)
                {
                    double v = g[(yy * w) + Math.Clamp(x + sx, 0, w - 1)];
                    sum[(y * w) + x] += v;
                    sumSq[(y * w) + x] += v * v;
                }
            }

            progress?.Report(TrainingProgress.Count(TrainingStages.Bank, i + 1, count));
        }

        int n = count;
        float[] mean = new float[w * h], spread = new float[w * h];
        for (int p = 0; p < mean.Length; p++)
        {
            double m = sum[p] / n;
            mean[p] = (float)m;
            spread[p] = (float)Math.Sqrt(Math.Max(0, (sumSq[p] / n) - (m * m)));
        }

        return new VariationModel(Options, w, h, mean, spread);
    }

    /// <summary>The image as gray levels (0..255 floats), stretched to w x h.</summary>
    internal static float[] Gray(ImageView image, int w, int h)
    {
        using Image sized = ImageResizer.Resize(image, w, h, ResizeMode.Bilinear);
        float[] g = new float[w * h];
        int c = sized.Channels;
        for (int y = 0; y < h; y++)
        {
            Span<byte> row = sized.GetRow(y);
            for (int x = 0; x < w; x++)
            {
                g[(y * w) + x] = c >= 3
                    ? (0.299f * row[x * c]) + (0.587f * row[(x * c) + 1]) + (0.114f * row[(x * c) + 2])
                    : row[x * c];
            }
        }

        return g;
    }

    /// <summary>
    /// The shift (sx, sy) with image(p + s) closest to reference(p) in mean absolute difference over the central area:
    /// a search on 2x-reduced images, refined by +-1 pixel at full size.
    /// </summary>
    internal static (int X, int Y) Align(float[] reference, float[] image, int w, int h, int maxShift)
    {
        if (maxShift == 0)
        {
            return (0, 0);
        }

        int hw = w / 2, hh = h / 2;
        (int bx, int by) = (0, 0);
        if (hw >= 8 && hh >= 8 && maxShift >= 2)
        {
            float[] r2 = Half(reference, w, h), i2 = Half(image, w, h);
            (bx, by) = Search(r2, i2, hw, hh, -maxShift / 2, maxShift / 2, -maxShift / 2, maxShift / 2, Math.Max(1, maxShift / 2));
            bx *= 2;
            by *= 2;
        }

        return Search(reference, image, w, h, Math.Max(-maxShift, bx - 1), Math.Min(maxShift, bx + 1), Math.Max(-maxShift, by - 1), Math.Min(maxShift, by + 1), maxShift);
    }

    private static (int X, int Y) Search(float[] reference, float[] image, int w, int h, int x0, int x1, int y0, int y1, int margin)
    {
        int m = Math.Min(margin, Math.Min(w, h) / 4);
        double best = double.PositiveInfinity;
        (int X, int Y) arg = (0, 0);
        for (int sy = y0; sy <= y1; sy++)
        {
            for (int sx = x0; sx <= x1; sx++)
            {
                double sad = 0;
                for (int y = m; y < h - m; y++)
                {
                    int yy = Math.Clamp(y + sy, 0, h - 1);
                    for (int x = m; x < w - m; x++)
                    {
                        sad += Math.Abs(image[(yy * w) + Math.Clamp(x + sx, 0, w - 1)] - reference[(y * w) + x]);
                    }
                }

                // Prefer the smaller shift on ties.
                if (sad < best - 1e-9 || (Math.Abs(sad - best) <= 1e-9 && (Math.Abs(sx) + Math.Abs(sy)) < (Math.Abs(arg.X) + Math.Abs(arg.Y))))
                {
                    best = sad;
                    arg = (sx, sy);
                }
            }
        }

        return arg;
    }

    private static float[] Half(float[] g, int w, int h)
    {
        int hw = w / 2, hh = h / 2;
        float[] r = new float[hw * hh];
        for (int y = 0; y < hh; y++)
        {
            for (int x = 0; x < hw; x++)
            {
                int p = (2 * y * w) + (2 * x);
                r[(y * hw) + x] = 0.25f * (g[p] + g[p + 1] + g[p + w] + g[p + w + 1]);
            }
        }

        return r;
    }
}
