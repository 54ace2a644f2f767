using System.Collections;
using DefectDetection.Imaging;

namespace DefectDetection.Datasets;

/// <summary>
/// A list of labelled images with the set of labels it is about. Built by the readers
/// (<see cref="FromFolder"/>, <see cref="FromLookoutForVisionFolder"/>, <see cref="FromManifest"/>,
/// <see cref="FromCsv"/>, <see cref="FromSplitsFile"/>) or from items; immutable.
/// Reading a description never opens the images: call <see cref="Validate"/> to check them.
/// </summary>
public sealed partial class ImageDataset : IReadOnlyList<LabeledImage>
{
    private readonly LabeledImage[] _items;

    /// <summary>Creates a dataset from items.</summary>
    /// <param name="items">The images.</param>
    /// <param name="labels">
    /// The labels the dataset is about, in order (a label may have no image yet; <see cref="Validate"/> reports it).
    /// Null: the distinct labels of the items in ordinal order.
    /// </param>
    public ImageDataset(IEnumerable<LabeledImage> items, IEnumerable<string>? labels = null)
        : this(items, labels, [])
    {
    }

    private ImageDataset(IEnumerable<LabeledImage> items, IEnumerable<string>? labels, IReadOnlyList<string> ignoredFiles)
    {
        ArgumentNullException.ThrowIfNull(items);
        _items = items.ToArray();
        foreach (LabeledImage item in _items)
        {
            ArgumentNullException.ThrowIfNull(item, nameof(items));
            if (string.IsNullOrEmpty(item.Label))
            {
                throw new ArgumentException($"The image '{item.ImagePath}' has an empty label.", nameof(items));
            }
        }

        Labels = labels is null
            ? _items.Select(i => i.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray()
            : labels.Distinct(StringComparer.Ordinal).ToArray();
        IgnoredFiles = ignoredFiles;
    }

    /// <summary>The labels the dataset is about, in order. Label indices used elsewhere refer to this order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Files found in label folders that were skipped because they are not images (reported by <see cref="Validate"/>).</summary>
    public IReadOnlyList<string> IgnoredFiles { get; }

    /// <summary>Number of images.</summary>
    public int Count => _items.Length;

    /// <summary>The image at <paramref name="index"/>.</summary>
    public LabeledImage this[int index] => _items[index];

    /// <summary>Index of <paramref name="label"/> in <see cref="Labels"/>, or -1.</summary>
    public int IndexOfLabel(string label)
    {
        for (int i = 0; i < Labels.Count; i++)
        {
            if (string.Equals(Labels[i], label, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Number of images per label, for every label in <see cref="Labels"/> (zero included), then any other label found.</summary>
    public IReadOnlyDictionary<string, int> CountByLabel()
    {
        Dictionary<string, int> counts = new(StringComparer.Ordinal);
        foreach (string label in Labels)
        {
            counts[label] = 0;
        }

        foreach (LabeledImage item in _items)
        {
            counts[item.Label] = counts.GetValueOrDefault(item.Label) + 1;
        }

        return counts;
    }

    /// <summary>The images that pass <paramref name="predicate"/>, as a dataset about the same labels.</summary>
    public ImageDataset Filter(Func<LabeledImage, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return new ImageDataset(_items.Where(predicate), Labels);
    }

    /// <summary>The same images with labels renamed (for example every defect class to <c>anomaly</c>).</summary>
    /// <param name="map">Old label to new label; labels not in the map are kept.</param>
    public ImageDataset WithLabelsMapped(IReadOnlyDictionary<string, string> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        string Map(string l) => map.TryGetValue(l, out string? n) ? n : l;
        return new ImageDataset(_items.Select(i => i with { Label = Map(i.Label) }), Labels.Select(Map));
    }

    /// <summary>
    /// A stratified split: each label's images are shuffled with <see cref="SplitOptions.Seed"/> and cut by the
    /// fractions, so every part keeps the label proportions. Per label with n images, the validation and test
    /// counts are <c>round(n x fraction)</c>, at least 1 when the fraction is positive and n leaves at least one
    /// training image, and training keeps the rest. The split depends only on the images and the seed, not on the
    /// order they are listed in: each label's images are put in the ordinal order of their paths before the shuffle.
    /// </summary>
    public DatasetSplit Split(SplitOptions? options = null)
    {
        options ??= new SplitOptions();
        options.Validate();
        List<LabeledImage> train = [], validation = [], test = [];
        foreach (IGrouping<string, int> group in Enumerable.Range(0, _items.Length).GroupBy(i => _items[i].Label, StringComparer.Ordinal))
        {
            int[] indices = group.ToArray();
            Array.Sort(indices, (a, b) => CompareByPath(_items[a], _items[b]));
            SplitMix64 rng = new((ulong)(uint)options.Seed ^ StableHash(group.Key));
            rng.Shuffle(indices);
            int n = indices.Length;
            int nTest = Portion(n, options.TestFraction, n - 1);
            int nVal = Portion(n, options.ValidationFraction, n - 1 - nTest);
            if (options.TrainFraction == 0)
            {
                // Nothing for training: give the remainder to the last non-empty part.
                if (options.TestFraction > 0)
                {
                    nTest = n - nVal;
                }
                else
                {
                    nVal = n - nTest;
                }
            }

            for (int k = 0; k < n; k++)
            {
                LabeledImage item = _items[indices[k]];
                (k < nTest ? test : k < nTest + nVal ? validation : train).Add(item);
            }
        }

        // Keep dataset order inside each part.
        Dictionary<LabeledImage, int> order = new(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _items.Length; i++)
        {
            order.TryAdd(_items[i], i);
        }

        ImageDataset Make(List<LabeledImage> part) => new(part.OrderBy(x => order[x]), Labels);
        return new DatasetSplit(Make(train), Make(validation), Make(test));
    }

    private static int Portion(int n, double fraction, int max)
    {
        if (fraction <= 0 || max <= 0)
        {
            return 0;
        }

        int count = (int)Math.Round(n * fraction, MidpointRounding.AwayFromZero);
        return Math.Clamp(count, 1, max);
    }

    private static ulong StableHash(string s)
    {
        // FNV-1a: string.GetHashCode is randomised per process.
        ulong h = 14695981039346656037UL;
        foreach (char c in s)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return h;
    }

    /// <summary>
    /// Checks the dataset and reports every problem: missing image or mask files, files that are not readable
    /// images (their headers are read with <see cref="ImageCodecs.Identify(string, DecoderOptions?)"/>), masks
    /// whose size differs from the image, labels outside <paramref name="expectedLabels"/>, labels with no image,
    /// duplicate images and skipped non-image files.
    /// </summary>
    /// <param name="expectedLabels">The allowed labels; null: <see cref="Labels"/>.</param>
    /// <param name="readHeaders">Read each image's header (slower, catches unreadable files). Default true.</param>
    public DatasetValidationReport Validate(IReadOnlyCollection<string>? expectedLabels = null, bool readHeaders = true)
    {
        List<DatasetProblem> problems = [];
        HashSet<string> allowed = new(expectedLabels ?? Labels, StringComparer.Ordinal);
        HashSet<string> seen = new(StringComparer.Ordinal);
        HashSet<string> reportedUnknown = new(StringComparer.Ordinal);
        foreach (LabeledImage item in _items)
        {
            string where = item.Origin is null ? string.Empty : $" (from {item.Origin})";
            if (!allowed.Contains(item.Label))
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.UnknownLabel, item.ImagePath,
                    $"'{item.ImagePath}' has the label '{item.Label}', which is not one of {string.Join(", ", allowed.Order(StringComparer.Ordinal))}{where}"));
                reportedUnknown.Add(item.Label);
            }

            if (!seen.Add(Path.GetFullPath(item.ImagePath)))
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.DuplicateImage, item.ImagePath,
                    $"'{item.ImagePath}' is listed more than once{where}", IsError: false));
            }

            ImageInfo? image = CheckFile(item.ImagePath, "image", where, readHeaders, problems);
            if (item.MaskPath is not null)
            {
                ImageInfo? mask = CheckFile(item.MaskPath, "mask", where, readHeaders, problems);
                if (image is not null && mask is not null && (mask.DisplayWidth != image.DisplayWidth || mask.DisplayHeight != image.DisplayHeight))
                {
                    problems.Add(new DatasetProblem(DatasetProblemKind.MaskSizeMismatch, item.MaskPath,
                        $"the mask '{item.MaskPath}' is {mask.DisplayWidth}x{mask.DisplayHeight} but its image '{item.ImagePath}' is {image.DisplayWidth}x{image.DisplayHeight}{where}"));
                }
            }
        }

        IReadOnlyDictionary<string, int> counts = CountByLabel();
        foreach (string label in expectedLabels ?? Labels)
        {
            if (counts.GetValueOrDefault(label) == 0)
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.EmptyLabel, label, $"the label '{label}' has no images"));
            }
        }

        foreach (string file in IgnoredFiles)
        {
            problems.Add(new DatasetProblem(DatasetProblemKind.IgnoredFile, file,
                $"'{file}' was skipped: its extension is not an image extension", IsError: false));
        }

        return new DatasetValidationReport(problems, _items.Length);
    }

    private static ImageInfo? CheckFile(string path, string what, string where, bool readHeader, List<DatasetProblem> problems)
    {
        if (!File.Exists(path))
        {
            problems.Add(new DatasetProblem(DatasetProblemKind.MissingFile, path, $"the {what} file '{path}' does not exist{where}"));
            return null;
        }

        if (!readHeader)
        {
            return null;
        }

        try
        {
            return ImageCodecs.Identify(path);
        }
        catch (Exception ex) when (ex is InvalidImageContentException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            problems.Add(new DatasetProblem(DatasetProblemKind.UnreadableImage, path, $"the {what} file '{path}' cannot be read: {ex.Message}{where}"));
            return null;
        }
    }

    /// <inheritdoc />
    public IEnumerator<LabeledImage> GetEnumerator() => ((IEnumerable<LabeledImage>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() =>
        $"{Count} images: " + string.Join(", ", CountByLabel().Select(kv => $"{kv.Key} {kv.Value}"));
}
