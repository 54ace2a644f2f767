using System.Buffers;
using System.Numerics.Tensors;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// The memory bank as scoring reads it: the rows, the training image each came from, and the search. With
/// <see cref="PatchCoreOptions.NearestImages"/> &gt; 0 each image's patches are compared only with the rows of the
/// training images whose descriptors (mean patch features) are nearest to its own; the rows are then kept grouped by
/// image so that the search reads just those groups.
/// </summary>
internal sealed class PatchBank
{
    private readonly int _dim;
    private readonly int[] _starts = [];

    /// <summary>Creates the bank (rows reordered by source image when retrieval is on and they are not in that order yet).</summary>
    /// <param name="bank">Row-major features, <paramref name="dim"/> a row.</param>
    /// <param name="sources">The training image of each row.</param>
    /// <param name="dim">Features a row.</param>
    /// <param name="descriptors">One mean feature per training image (row-major); needed when <paramref name="nearestImages"/> &gt; 0.</param>
    /// <param name="nearestImages">Training images compared with each scored image; 0 = the whole bank.</param>
    public PatchBank(float[] bank, int[] sources, int dim, float[] descriptors, int nearestImages)
    {
        int rows = bank.Length / dim;
        if (sources.Length != rows || descriptors.Length % dim != 0 || nearestImages < 0)
        {
            throw new ArgumentException($"{sources.Length} sources for {rows} bank rows, {descriptors.Length} descriptor floats for {dim} features, nearest images {nearestImages}.");
        }

        _dim = dim;
        int images = descriptors.Length / dim;
        NearestImages = nearestImages;
        Descriptors = descriptors;
        if (nearestImages == 0)
        {
            Bank = bank;
            Sources = sources;
            Search = new BankSearch(bank, dim);
            return;
        }

        if (images == 0)
        {
            throw new ArgumentException("Searching the nearest training images needs their descriptors.", nameof(descriptors));
        }

        // Count rows per image, then place them image by image (keeping their order within an image).
        int[] starts = new int[images + 1];
        bool ordered = true;
        for (int r = 0; r < rows; r++)
        {
            int s = sources[r];
            if ((uint)s >= (uint)images)
            {
                throw new ArgumentException($"Bank row {r} comes from image {s}, but there are descriptors for {images} images.", nameof(sources));
            }

            starts[s + 1]++;
            ordered &= r == 0 || s >= sources[r - 1];
        }

        for (int i = 0; i < images; i++)
        {
            starts[i + 1] += starts[i];
        }

        if (ordered)
        {
            Bank = bank;
            Sources = sources;
        }
        else
        {
            Bank = new float[bank.Length];
            Sources = new int[rows];
            int[] next = (int[])starts.Clone();
            for (int r = 0; r < rows; r++)
            {
                int to = next[sources[r]]++;
                bank.AsSpan(r * dim, dim).CopyTo(Bank.AsSpan(to * dim, dim));
                Sources[to] = sources[r];
            }
        }

        _starts = starts;
        Search = new BankSearch(Bank, dim, -1, starts);
    }

    /// <summary>The rows (grouped by source image when <see cref="NearestImages"/> &gt; 0).</summary>
    public float[] Bank { get; }

    /// <summary>The training image of each row.</summary>
    public int[] Sources { get; }

    /// <summary>One mean patch feature per training image (empty when retrieval is off).</summary>
    public float[] Descriptors { get; }

    /// <summary>Training images compared with each scored image; 0 = the whole bank.</summary>
    public int NearestImages { get; }

    /// <summary>The search over the rows.</summary>
    public BankSearch Search { get; }

    private int Images => Descriptors.Length / _dim;

    /// <summary>
    /// Nearest-row distances of the patches of images <paramref name="firstImage"/> .. + <paramref name="imageCount"/> - 1
    /// of <paramref name="features"/> (<paramref name="patches"/> rows an image), written at the same row indices of
    /// <paramref name="distances"/>.
    /// </summary>
    public void Distances(float[] features, int firstImage, int imageCount, int patches, float[] distances, int threads, CancellationToken cancellationToken)
    {
        if (NearestImages == 0 || NearestImages >= Images)
        {
            Search.NearestDistances(features, firstImage * patches, imageCount * patches, distances, threads, default, cancellationToken);
            return;
        }

        int k = NearestImages;
        float[] descriptor = ArrayPool<float>.Shared.Rent(_dim);
        float[] nearestD = ArrayPool<float>.Shared.Rent(k);
        int[] nearest = ArrayPool<int>.Shared.Rent(k);
        try
        {
            for (int i = firstImage; i < firstImage + imageCount; i++)
            {
                Describe(features.AsSpan(i * patches * _dim, patches * _dim), _dim, descriptor.AsSpan(0, _dim));
                NearestDescriptors(descriptor.AsSpan(0, _dim), nearestD.AsSpan(0, k), nearest.AsSpan(0, k));
                Span<int> chosen = nearest.AsSpan(0, k);
                chosen.Sort();
                int unused = chosen.LastIndexOf(-1) + 1;
                if (unused == k || !float.IsFinite(nearestD[0]))
                {
                    throw new ArgumentException($"Image {i}'s patch features are not finite: no training image is nearest to it.", nameof(features));
                }

                Search.NearestDistances(features, i * patches, patches, distances, threads, chosen.Slice(unused), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(descriptor);
            ArrayPool<float>.Shared.Return(nearestD);
            ArrayPool<int>.Shared.Return(nearest);
        }
    }

    /// <summary>
    /// The <paramref name="nearest"/>.Length training images with rows in the bank (a coreset may keep none of an
    /// image) whose descriptors are nearest to <paramref name="descriptor"/>, nearest first (ties: lower index first);
    /// -1 fills the places left when fewer images have rows.
    /// </summary>
    internal void NearestDescriptors(ReadOnlySpan<float> descriptor, Span<float> bestD, Span<int> nearest)
    {
        bestD.Fill(float.PositiveInfinity);
        nearest.Fill(-1);
        for (int g = 0; g < Images; g++)
        {
            if (_starts[g + 1] == _starts[g])
            {
                continue;
            }

            DistanceKernels.InsertSmallest(bestD, nearest, DistanceKernels.SquaredL2(descriptor, Descriptors.AsSpan(g * _dim, _dim)), g);
        }
    }

    /// <summary>The mean of the patch features of one image (<paramref name="imageFeatures"/>: its patches, <paramref name="dim"/> floats each).</summary>
    internal static void Describe(ReadOnlySpan<float> imageFeatures, int dim, Span<float> descriptor)
    {
        int patches = imageFeatures.Length / dim;
        descriptor.Clear();
        for (int p = 0; p < patches; p++)
        {
            TensorPrimitives.Add(descriptor, imageFeatures.Slice(p * dim, dim), descriptor);
        }

        TensorPrimitives.Multiply(descriptor, 1f / patches, descriptor);
    }

    /// <summary>The descriptors of the first <paramref name="images"/> images of <paramref name="features"/>.</summary>
    internal static float[] Describe(float[] features, int images, int patches, int dim)
    {
        float[] descriptors = new float[images * dim];
        for (int i = 0; i < images; i++)
        {
            Describe(features.AsSpan(i * patches * dim, patches * dim), dim, descriptors.AsSpan(i * dim, dim));
        }

        return descriptors;
    }
}
