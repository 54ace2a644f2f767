using DefectDetection.ModelFiles;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.Heads;

/// <summary>
/// A small random forest for tabular features: bagged Gini trees whose splits are chosen among a random subset of
/// features, each feature cut at up to 32 quantiles of its training values (histogram splits, so training is linear in
/// the number of samples per level). Predicts the mean of the leaves' class distributions. Immutable after training;
/// thread-safe.
/// </summary>
internal sealed class DecisionForest
{
    private const int MaxBins = 32;

    // Nodes of all trees: for an inner node Feature >= 0, Threshold, Left/Right child indices; for a leaf Feature = -1
    // and Left = the offset of its class distribution in _leafValues.
    private readonly int[] _feature;
    private readonly float[] _threshold;
    private readonly int[] _left;
    private readonly int[] _right;
    private readonly float[] _leafValues;
    private readonly int[] _roots;

    private DecisionForest(IReadOnlyList<string> labels, int featureLength, int[] feature, float[] threshold, int[] left, int[] right, float[] leafValues, int[] roots)
    {
        Labels = labels;
        FeatureLength = featureLength;
        _feature = feature;
        _threshold = threshold;
        _left = left;
        _right = right;
        _leafValues = leafValues;
        _roots = roots;
    }

    public IReadOnlyList<string> Labels { get; }

    public int FeatureLength { get; }

    public int TreeCount => _roots.Length;

    /// <summary>Writes the class probabilities of <paramref name="features"/> into <paramref name="probabilities"/>.</summary>
    public void PredictProbabilities(ReadOnlySpan<float> features, Span<float> probabilities)
    {
        int k = Labels.Count;
        probabilities[..k].Clear();
        foreach (int root in _roots)
        {
            int node = root;
            while (_feature[node] >= 0)
            {
                node = features[_feature[node]] <= _threshold[node] ? _left[node] : _right[node];
            }

            ReadOnlySpan<float> leaf = _leafValues.AsSpan(_left[node], k);
            for (int c = 0; c < k; c++)
            {
                probabilities[c] += leaf[c];
            }
        }

        float inv = 1f / _roots.Length;
        for (int c = 0; c < k; c++)
        {
            probabilities[c] *= inv;
        }
    }

    // Indices are stored as float32, which holds integers exactly up to 2^24.
    private const int MaxStoredIndex = 1 << 24;

    /// <summary>
    /// The forest as named tensors (each prefixed with <paramref name="prefix"/>): <c>feature</c>, <c>threshold</c>,
    /// <c>left</c>, <c>right</c> [nodes] (a leaf has feature -1 and left = its row in <c>leaf_values</c>),
    /// <c>leaf_values</c> [leaves, labels] and <c>roots</c> [trees]. Indices are whole float32 values.
    /// </summary>
    /// <exception cref="NotSupportedException">The forest has more than 2^24 nodes.</exception>
    public IReadOnlyDictionary<string, ModelTensor> ToTensors(string prefix)
    {
        int nodes = _feature.Length, k = Labels.Count, leaves = _leafValues.Length / k;
        if (nodes >= MaxStoredIndex)
        {
            throw new NotSupportedException($"The forest has {nodes} nodes; a model file holds at most {MaxStoredIndex - 1}.");
        }

        float[] feature = new float[nodes], left = new float[nodes], right = new float[nodes];
        for (int i = 0; i < nodes; i++)
        {
            feature[i] = _feature[i];
            left[i] = _feature[i] < 0 ? _left[i] / k : _left[i];
            right[i] = _right[i];
        }

        return new Dictionary<string, ModelTensor>(StringComparer.Ordinal)
        {
            [prefix + "feature"] = new([nodes], feature),
            [prefix + "threshold"] = new([nodes], (float[])_threshold.Clone()),
            [prefix + "left"] = new([nodes], left),
            [prefix + "right"] = new([nodes], right),
            [prefix + "leaf_values"] = new([leaves, k], (float[])_leafValues.Clone()),
            [prefix + "roots"] = new([_roots.Length], [.. _roots.Select(r => (float)r)]),
        };
    }

    /// <summary>
    /// Rebuilds a forest from <see cref="ToTensors"/>'s tensors, checking every index so that prediction can neither
    /// leave the arrays nor loop (children lie after their parent).
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor is missing or malformed; <c>Data["tensor"]</c> holds its name.</exception>
    public static DecisionForest FromTensors(IReadOnlyList<string> labels, int featureLength, IReadOnlyDictionary<string, ModelTensor> tensors, string prefix)
    {
        int k = labels.Count;
        if (k < 2 || labels.Distinct(StringComparer.Ordinal).Count() != k)
        {
            throw Bad(prefix + "leaf_values", $"a forest needs at least two distinct labels, got [{string.Join(", ", labels)}]");
        }

        float[] featureF = Get("feature", 1), threshold = Get("threshold", 1), leftF = Get("left", 1), rightF = Get("right", 1), leafValues = Get("leaf_values", 2), rootsF = Get("roots", 1);
        int nodes = featureF.Length;
        if (threshold.Length != nodes || leftF.Length != nodes || rightF.Length != nodes)
        {
            throw Bad(prefix + "threshold", $"feature, threshold, left and right must have one value per node ({nodes})");
        }

        if (tensors[prefix + "leaf_values"].Shape[1] != k)
        {
            throw Bad(prefix + "leaf_values", $"has {tensors[prefix + "leaf_values"].Shape[1]} columns for {k} labels");
        }

        int leaves = leafValues.Length / k;
        if (rootsF.Length == 0)
        {
            throw Bad(prefix + "roots", "the forest has no tree");
        }

        int[] feature = new int[nodes], left = new int[nodes], right = new int[nodes];
        for (int i = 0; i < nodes; i++)
        {
            feature[i] = Index(featureF[i], -1, featureLength - 1, "feature", i);
            if (feature[i] < 0)
            {
                left[i] = Index(leftF[i], 0, leaves - 1, "left", i) * k;
                continue;
            }

            if (float.IsNaN(threshold[i]))
            {
                throw Bad(prefix + "threshold", $"value {i} is NaN");
            }

            left[i] = Index(leftF[i], i + 1, nodes - 1, "left", i);
            right[i] = Index(rightF[i], i + 1, nodes - 1, "right", i);
        }

        foreach (float v in leafValues)
        {
            if (!(v >= 0 && v <= 1))
            {
                throw Bad(prefix + "leaf_values", $"the value {v} is not a probability");
            }
        }

        int[] roots = new int[rootsF.Length];
        for (int t = 0; t < roots.Length; t++)
        {
            roots[t] = Index(rootsF[t], 0, nodes - 1, "roots", t);
        }

        return new DecisionForest([.. labels], featureLength, feature, (float[])threshold.Clone(), left, right, (float[])leafValues.Clone(), roots);

        float[] Get(string name, int rank)
        {
            if (!tensors.TryGetValue(prefix + name, out ModelTensor? t))
            {
                throw Bad(prefix + name, "the tensor is missing");
            }

            return t.Shape.Count == rank ? t.Data : throw Bad(prefix + name, $"the shape [{string.Join(", ", t.Shape)}] has not rank {rank}");
        }

        int Index(float value, int min, int max, string name, int at) =>
            value >= min && value <= max && value == MathF.Floor(value)
                ? (int)value
                : throw Bad(prefix + name, $"value {at} is {value}, not a whole number in [{min}, {max}]");
    }

    private static InvalidDataException Bad(string tensor, string reason)
    {
        InvalidDataException e = new($"{tensor}: {reason}");
        e.Data["tensor"] = tensor;
        return e;
    }

    /// <summary>Trains a forest.</summary>
    public static DecisionForest Fit(IReadOnlyList<float[]> features, IReadOnlyList<string> labels, DecisionForestOptions options, CancellationToken cancellationToken = default)
    {
        int n = features.Count;
        if (n == 0 || labels.Count != n)
        {
            throw new ArgumentException($"Got {n} feature vectors and {labels.Count} labels.", nameof(labels));
        }

        int d = features[0].Length;
        string[] classes = [.. labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (classes.Length < 2)
        {
            throw new ArgumentException("Training needs at least two labels.", nameof(labels));
        }

        int k = classes.Length;
        int[] y = [.. labels.Select(l => Array.IndexOf(classes, l))];

        // Quantile cut points per feature, and every sample's bin (column-major for cache-friendly histograms).
        float[][] cuts = new float[d][];
        byte[] bins = new byte[d * n];
        float[] column = new float[n];
        for (int f = 0; f < d; f++)
        {
            for (int i = 0; i < n; i++)
            {
                column[i] = features[i][f];
            }

            float[] sorted = (float[])column.Clone();
            Array.Sort(sorted);
            List<float> c = [];
            for (int q = 1; q < MaxBins; q++)
            {
                float v = sorted[(int)((long)q * (n - 1) / MaxBins)];
                if ((c.Count == 0 || v > c[^1]) && v < sorted[^1])
                {
                    c.Add(v);
                }
            }

            cuts[f] = [.. c];
            Span<byte> b = bins.AsSpan(f * n, n);
            for (int i = 0; i < n; i++)
            {
                int lo = 0, hi = cuts[f].Length; // first cut >= value
                while (lo < hi)
                {
                    int mid = (lo + hi) >> 1;
                    if (cuts[f][mid] < column[i])
                    {
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid;
                    }
                }

                b[i] = (byte)lo;
            }
        }

        List<int> feature = [], left = [], right = [];
        List<float> threshold = [], leafValues = [];
        int[] roots = new int[options.Trees];
        Random random = new(options.Seed);
        int tryFeatures = Math.Max(1, (int)Math.Round(Math.Sqrt(d) * options.FeatureFraction));
        int[] sample = new int[n];
        int[] scratch = new int[n];
        double[] hist = new double[MaxBins * k];
        double[] leftCounts = new double[k], totals = new double[k];
        int[] order = [.. Enumerable.Range(0, d)];
        for (int t = 0; t < options.Trees; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < n; i++)
            {
                sample[i] = random.Next(n);
            }

            Stack<(int Start, int Count, int Depth, int Node)> work = new();
            roots[t] = NewNode();
            work.Push((0, n, 0, roots[t]));
            while (work.Count > 0)
            {
                (int start, int count, int depth, int node) = work.Pop();
                Span<int> idx = sample.AsSpan(start, count);
                Array.Clear(totals);
                foreach (int i in idx)
                {
                    totals[y[i]]++;
                }

                int bestFeature = -1, bestBin = -1;
                double bestScore = Gini(totals, count) - 1e-9;
                if (depth < options.MaxDepth && count >= 2 * options.MinLeaf && totals.Count(v => v > 0) > 1)
                {
                    // Partial Fisher-Yates shuffle picks the features to try.
                    for (int j = 0; j < tryFeatures; j++)
                    {
                        int r = j + random.Next(d - j);
                        (order[j], order[r]) = (order[r], order[j]);
                        int f = order[j];
                        int nb = cuts[f].Length + 1;
                        if (nb < 2)
                        {
                            continue;
                        }

                        Array.Clear(hist, 0, nb * k);
                        ReadOnlySpan<byte> fb = bins.AsSpan(f * n, n);
                        foreach (int i in idx)
                        {
                            hist[(fb[i] * k) + y[i]]++;
                        }

                        Array.Clear(leftCounts);
                        int leftN = 0;
                        for (int b = 0; b < nb - 1; b++)
                        {
                            for (int c = 0; c < k; c++)
                            {
                                leftCounts[c] += hist[(b * k) + c];
                                leftN += (int)hist[(b * k) + c];
                            }

                            int rightN = count - leftN;
                            if (leftN < options.MinLeaf || rightN < options.MinLeaf)
                            {
                                continue;
                            }

                            double gl = 1, gr = 1;
                            for (int c = 0; c < k; c++)
                            {
                                double pl = leftCounts[c] / leftN, pr = (totals[c] - leftCounts[c]) / rightN;
                                gl -= pl * pl;
                                gr -= pr * pr;
                            }

                            double score = ((leftN * gl) + (rightN * gr)) / count;
                            if (score < bestScore)
                            {
                                bestScore = score;
                                bestFeature = f;
                                bestBin = b;
                            }
                        }
                    }
                }

                if (bestFeature < 0)
                {
                    left[node] = leafValues.Count;
                    for (int c = 0; c < k; c++)
                    {
                        leafValues.Add((float)(totals[c] / count));
                    }

                    continue;
                }

                // Partition the node's samples: bin <= bestBin go left.
                ReadOnlySpan<byte> sb = bins.AsSpan(bestFeature * n, n);
                int l = 0, rr = 0;
                Span<int> tmp = scratch.AsSpan(0, count);
                foreach (int i in idx)
                {
                    if (sb[i] <= bestBin)
                    {
                        idx[l++] = i;
                    }
                    else
                    {
                        tmp[rr++] = i;
                    }
                }

                tmp[..rr].CopyTo(idx[l..]);
                feature[node] = bestFeature;
                threshold[node] = cuts[bestFeature][bestBin];
                int ln = NewNode(), rn = NewNode();
                left[node] = ln;
                right[node] = rn;
                work.Push((start, l, depth + 1, ln));
                work.Push((start + l, count - l, depth + 1, rn));
            }
        }

        return new DecisionForest(classes, d, [.. feature], [.. threshold], [.. left], [.. right], [.. leafValues], roots);

        int NewNode()
        {
            feature.Add(-1);
            threshold.Add(0);
            left.Add(0);
            right.Add(0);
            return feature.Count - 1;
        }
    }

    private static double Gini(double[] counts, int n)
    {
        double g = 1;
        foreach (double c in counts)
        {
            double p = c / n;
            g -= p * p;
        }

        return g;
    }
}

/// <summary>Settings of <see cref="DecisionForest"/>.</summary>
internal sealed record DecisionForestOptions
{
    public int Trees { get; init; } = 64;

    public int MaxDepth { get; init; } = 20;

    public int MinLeaf { get; init; } = 1;

    /// <summary>Features tried per split, as a multiple of the square root of the feature count.</summary>
    public double FeatureFraction { get; init; } = 1;

    public int Seed { get; init; } = 1;
}
