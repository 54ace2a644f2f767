using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Models;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.PinResidual;

/// <summary>A training crop and the defects it shows (boxes in crop coordinates; none for a normal crop).</summary>
/// <param name="Crop">The crop, centred on the object.</param>
/// <param name="Defects">The labelled defect boxes that overlap the crop, in crop coordinates.</param>
public readonly record struct LabeledCrop(ImageView Crop, IReadOnlyList<LabeledBox> Defects);

/// <summary>
/// Trains a <see cref="ResidualCropClassifier"/>: aligns the crops to a reference built from the first normal ones,
/// clusters the normal crops (k-means) into per-pixel normal models, then trains a softmax head on the shape of
/// every excess region found on the training crops (labelled by the defect box it overlaps, or normal).
/// </summary>
public sealed class ResidualCropClassifierTrainer : IDefectTrainer
{
    private const int ReferenceCrops = 64;
    private const int Reduction = 4;
    private const int KMeansIterations = 15;
    private const float Quantum = 0.01f, QuantumOffset = 0.5f;

    /// <summary>Creates a trainer.</summary>
    /// <param name="options">The configuration (validated here).</param>
    public ResidualCropClassifierTrainer(ResidualCropClassifierOptions? options = null)
    {
        options ??= new ResidualCropClassifierOptions();
        options.Validate();
        Options = options;
    }

    /// <summary>The configuration.</summary>
    public ResidualCropClassifierOptions Options { get; }

    /// <summary>
    /// Fits the classifier on a dataset of crops centred on the object (read one at a time): each item's
    /// <see cref="LabeledImage.Boxes"/> are its defects in crop coordinates; an item with a label that is not
    /// <see cref="ResidualCropClassifier.NormalLabel"/> or <c>good</c> and no boxes counts as one defect covering the crop.
    /// The crops are taken in <see cref="ImageDataset.InContentOrder"/>, so the model does not depend on the order they
    /// are listed in.
    /// </summary>
    /// <param name="dataset">The crops; most should be normal.</param>
    /// <param name="progress">Optional progress (stage <c>bank</c> per crop read, then <c>head</c>).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The classifier.</returns>
    public ResidualCropClassifier Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return Fit(Crops(dataset.InContentOrder(cancellationToken), progress), progress, cancellationToken);

        static IEnumerable<LabeledCrop> Crops(ImageDataset dataset, IProgress<TrainingProgress>? progress)
        {
            for (int i = 0; i < dataset.Count; i++)
            {
                LabeledImage item = dataset[i];
                using Image image = ImageCodecs.Load(item.ImagePath);
                bool normal = Learners.DefaultNormalLabels.Contains(item.Label);
                IReadOnlyList<LabeledBox> defects = item.Boxes.Count > 0 || normal ? item.Boxes : [new LabeledBox(new Rectangle(0, 0, image.Width, image.Height), item.Label)];
                yield return new LabeledCrop(image.View(), defects);
                progress?.Report(TrainingProgress.Count(TrainingStages.Bank, i + 1, dataset.Count));
            }
        }
    }

    /// <inheritdoc />
    IDefectModel IDefectTrainer.Fit(ImageDataset dataset, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) => Fit(dataset, progress, cancellationToken);

    /// <summary>Fits the classifier. The first normal crops build the alignment reference, so the model depends on the order of <paramref name="crops"/>.</summary>
    /// <param name="crops">The training crops, read once (they may be produced on the fly); most should be normal.</param>
    /// <param name="progress">Optional progress (the head's iterations).</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    /// <returns>The classifier.</returns>
    public ResidualCropClassifier Fit(IEnumerable<LabeledCrop> crops, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(crops);
        ResidualCropClassifierOptions o = Options;
        int size = o.Size;
        float[]? reference = null;
        int[]? core = null;
        List<float[]> bootstrap = [];
        List<(ImageView Crop, IReadOnlyList<LabeledBox> Defects)> pending = [];

        // Every crop becomes an aligned, quantised map (one byte a pixel) with its defect boxes in model coordinates.
        List<byte[]> maps = [];
        List<IReadOnlyList<LabeledBox>> boxes = [];
        List<bool> normal = [];
        int skipped = 0;
        ResidualCropClassifier.Scratch scratch = new();
        foreach (LabeledCrop item in crops)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (size == 0)
            {
                size = Math.Min(item.Crop.Width, item.Crop.Height);
            }

            if (reference is null)
            {
                if (item.Defects.Count == 0)
                {
                    bootstrap.Add(ResidualCropClassifier.Normalize(item.Crop, null, null, size, o).Map);
                }

                if (bootstrap.Count < ReferenceCrops)
                {
                    // Crops seen before the reference exists are kept as images until it does.
                    pending.Add((item.Crop.ToImage(), item.Defects));
                    continue;
                }

                reference = BuildReference(bootstrap, pending, size, o);
                core = ResidualCropClassifier.CoreIndices(reference, size);
                foreach ((ImageView crop, IReadOnlyList<LabeledBox> defects) in pending)
                {
                    Add(crop, defects);
                    crop.Source.Dispose();
                }

                pending.Clear();
            }

            Add(item.Crop, item.Defects);
        }

        if (reference is null)
        {
            if (bootstrap.Count == 0)
            {
                throw new ArgumentException("At least one normal crop (with no defect boxes) is needed.", nameof(crops));
            }

            reference = BuildReference(bootstrap, pending, size, o);
            core = ResidualCropClassifier.CoreIndices(reference, size);
            foreach ((ImageView crop, IReadOnlyList<LabeledBox> defects) in pending)
            {
                Add(crop, defects);
                crop.Source.Dispose();
            }
        }

        int[] normalRows = [.. Enumerable.Range(0, maps.Count).Where(i => normal[i])];
        if (normalRows.Length == 0)
        {
            throw new ArgumentException($"None of the normal crops shows the object the first ones show ({skipped} of the crops were skipped): the crops must be centred on one kind of object (pins, pads).", nameof(crops));
        }

        (float[][] means, float[][] spreads) = FitModels(maps, normalRows, size, o, cancellationToken);
        ResidualCropClassifier model = new(o, size, reference, means, spreads, null);

        // Head: every reportable excess region of every training crop, labelled by the defect box it overlaps.
        List<float[]> features = [];
        List<string> labels = [];
        object gate = new();
        ResidualCropClassifier.ModelLayout[] layouts = [.. means.Select(m => ResidualCropClassifier.ModelLayout.Of(m, size))];
        Parallel.For(0, maps.Count, new ParallelOptions { CancellationToken = cancellationToken }, () => new ResidualCropClassifier.Scratch(), (i, _, local) =>
        {
            float[] v = Dequantize(maps[i]);
            int k = ClosestModel(v, means);
            foreach (ResidualCropClassifier.Region r in ResidualCropClassifier.FindRegions(v, means[k], spreads[k], layouts[k], size, o, local))
            {
                if (!r.Reportable)
                {
                    continue;
                }

                string label = ResidualCropClassifier.NormalLabel;
                double bestOverlap = 0;
                foreach (LabeledBox d in boxes[i])
                {
                    double overlap = (double)Rectangle.Intersect(d.Box, r.Bounds).Area / r.Bounds.Area;
                    if (overlap > 0.3 && overlap > bestOverlap)
                    {
                        (label, bestOverlap) = (d.Label, overlap);
                    }
                }

                lock (gate)
                {
                    features.Add(r.Features);
                    labels.Add(label);
                }
            }

            return local;
        }, _ => { });

        int onDefects = labels.Count(l => l != ResidualCropClassifier.NormalLabel);
        string[] distinct = [.. labels.Distinct(StringComparer.Ordinal)];
        if (distinct.Length < 2)
        {
            // No head to train: every excess region is a defect, of the one kind seen (if any).
            return onDefects == 0 ? model : new ResidualCropClassifier(o, size, reference, means, spreads, null, distinct[0]);
        }

        // Sort for a deterministic head (the parallel loop adds in any order).
        int[] order = [.. Enumerable.Range(0, features.Count).OrderBy(i => labels[i], StringComparer.Ordinal).ThenBy(i => string.Join(",", features[i]), StringComparer.Ordinal)];
        SoftmaxClassifierModel head = new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { Seed = o.Seed, ClassWeighting = ClassWeighting.None, L2 = 1e-3 })
            .Fit([.. order.Select(i => features[i])], [.. order.Select(i => labels[i])], progress, cancellationToken);
        return new ResidualCropClassifier(o, size, reference, means, spreads, head);

        void Add(ImageView crop, IReadOnlyList<LabeledBox> defects)
        {
            (float[] map, double ox, double oy, bool isObject) = ResidualCropClassifier.Normalize(crop, reference, core, size, o, scratch);
            if (!isObject)
            {
                skipped++;
                return;
            }

            maps.Add(Quantize(map));
            ResidualCropClassifier.Analysis place = new(0, ox, oy, []);
            boxes.Add([.. defects.Select(d => d with { Box = place.ToModel(d.Box) })]);
            normal.Add(defects.Count == 0);
        }
    }

    // The alignment reference: the per-pixel median of the first normal crops, centred (the median ignores the stray
    // detector matches among them), then of the crops aligned to it that show the object, twice.
    private static float[] BuildReference(List<float[]> bootstrap, List<(ImageView Crop, IReadOnlyList<LabeledBox> Defects)> pending, int size, ResidualCropClassifierOptions o)
    {
        float[] reference = Median(bootstrap, size);
        List<ImageView> normals = [.. pending.Where(p => p.Defects.Count == 0).Select(p => p.Crop)];
        for (int pass = 0; pass < 2 && normals.Count > 0; pass++)
        {
            int[] core = ResidualCropClassifier.CoreIndices(reference, size);
            List<float[]> aligned = [];
            foreach (ImageView crop in normals)
            {
                (float[] map, _, _, bool isObject) = ResidualCropClassifier.Normalize(crop, reference, core, size, o);
                if (isObject)
                {
                    aligned.Add(map);
                }
            }

            if (aligned.Count == 0)
            {
                break;
            }

            reference = Median(aligned, size);
        }

        return reference;
    }

    private static float[] Median(List<float[]> maps, int size)
    {
        float[] median = new float[size * size], column = new float[maps.Count];
        for (int p = 0; p < median.Length; p++)
        {
            for (int i = 0; i < maps.Count; i++)
            {
                column[i] = maps[i][p];
            }

            Array.Sort(column);
            median[p] = column[column.Length / 2];
        }

        return median;
    }

    // k-means on 4x reduced maps, then one assignment at full size with the classifier's own distance, and the
    // per-pixel mean and spread of each cluster.
    private static (float[][] Means, float[][] Spreads) FitModels(List<byte[]> maps, int[] rows, int size, ResidualCropClassifierOptions o, CancellationToken cancellationToken)
    {
        int rs = size / Reduction, d = rs * rs;
        float[][] small = new float[rows.Length][];
        Parallel.For(0, rows.Length, i => small[i] = Reduce(maps[rows[i]], size, rs));

        int k = Math.Min(o.Prototypes, rows.Length);
        Random rng = new(o.Seed);
        List<float[]> centres = [small[rng.Next(small.Length)]];
        double[] nearest = new double[small.Length];
        Array.Fill(nearest, double.PositiveInfinity);
        while (centres.Count < k)
        {
            // k-means++: the next centre drawn with probability proportional to the squared distance.
            float[] last = centres[^1];
            double total = 0;
            for (int i = 0; i < small.Length; i++)
            {
                nearest[i] = Math.Min(nearest[i], System.Numerics.Tensors.TensorPrimitives.Distance(small[i], last));
                total += nearest[i] * nearest[i];
            }

            double pick = rng.NextDouble() * total;
            int chosen = small.Length - 1;
            for (int i = 0; i < small.Length; i++)
            {
                pick -= nearest[i] * nearest[i];
                if (pick <= 0)
                {
                    chosen = i;
                    break;
                }
            }

            centres.Add((float[])small[chosen].Clone());
        }

        int[] assignment = new int[small.Length];
        for (int iteration = 0; iteration < KMeansIterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Parallel.For(0, small.Length, i =>
            {
                int best = 0;
                float bestDistance = float.PositiveInfinity;
                for (int c = 0; c < centres.Count; c++)
                {
                    float dist = System.Numerics.Tensors.TensorPrimitives.Distance(small[i], centres[c]);
                    if (dist < bestDistance)
                    {
                        (best, bestDistance) = (c, dist);
                    }
                }

                assignment[i] = best;
            });
            for (int c = 0; c < centres.Count; c++)
            {
                float[] sum = new float[d];
                int count = 0;
                for (int i = 0; i < small.Length; i++)
                {
                    if (assignment[i] == c)
                    {
                        System.Numerics.Tensors.TensorPrimitives.Add(sum, small[i], sum);
                        count++;
                    }
                }

                if (count > 0)
                {
                    System.Numerics.Tensors.TensorPrimitives.Multiply(sum, 1f / count, sum);
                    centres[c] = sum;
                }
            }
        }

        // Full-size means of the clusters, then each crop reassigned with the truncated L1 distance used at test time.
        float[][] means = new float[centres.Count][];
        for (int c = 0; c < centres.Count; c++)
        {
            int[] members = [.. Enumerable.Range(0, rows.Length).Where(i => assignment[i] == c)];
            means[c] = members.Length == 0 ? new float[size * size] : MeanOf(maps, rows, members, size);
        }

        Parallel.For(0, rows.Length, i => assignment[i] = ClosestModel(Dequantize(maps[rows[i]]), means));
        List<float[]> keptMeans = [], keptSpreads = [];
        for (int c = 0; c < means.Length; c++)
        {
            int[] members = [.. Enumerable.Range(0, rows.Length).Where(i => assignment[i] == c)];
            if (members.Length >= 2)
            {
                Keep(members);
            }
        }

        if (keptMeans.Count == 0)
        {
            // Too few normal crops for clusters of two: one model of them all.
            Keep([.. Enumerable.Range(0, rows.Length)]);
        }

        return ([.. keptMeans], [.. keptSpreads]);

        void Keep(int[] members)
        {
            float[] mean = MeanOf(maps, rows, members, size), spread = new float[size * size];
            foreach (int i in members)
            {
                byte[] q = maps[rows[i]];
                for (int p = 0; p < spread.Length; p++)
                {
                    float e = ((q[p] * Quantum) - QuantumOffset) - mean[p];
                    spread[p] += e * e;
                }
            }

            for (int p = 0; p < spread.Length; p++)
            {
                spread[p] = MathF.Sqrt(spread[p] / members.Length);
            }

            keptMeans.Add(mean);
            keptSpreads.Add(spread);
        }
    }

    private static float[] MeanOf(List<byte[]> maps, int[] rows, int[] members, int size)
    {
        float[] mean = new float[size * size];
        foreach (int i in members)
        {
            byte[] q = maps[rows[i]];
            for (int p = 0; p < mean.Length; p++)
            {
                mean[p] += (q[p] * Quantum) - QuantumOffset;
            }
        }

        System.Numerics.Tensors.TensorPrimitives.Multiply(mean, 1f / members.Length, mean);
        return mean;
    }

    private static int ClosestModel(float[] v, float[][] means)
    {
        int best = 0;
        double bestCost = double.PositiveInfinity;
        for (int k = 0; k < means.Length; k++)
        {
            double cost = ResidualCropClassifier.TruncatedL1(v, means[k], bestCost);
            if (cost < bestCost)
            {
                (best, bestCost) = (k, cost);
            }
        }

        return best;
    }

    private static byte[] Quantize(float[] map)
    {
        byte[] q = new byte[map.Length];
        for (int p = 0; p < map.Length; p++)
        {
            q[p] = (byte)Math.Clamp(MathF.Round((map[p] + QuantumOffset) / Quantum), 0, 255);
        }

        return q;
    }

    private static float[] Dequantize(byte[] q)
    {
        float[] v = new float[q.Length];
        for (int p = 0; p < q.Length; p++)
        {
            v[p] = (q[p] * Quantum) - QuantumOffset;
        }

        return v;
    }

    private static float[] Reduce(byte[] q, int size, int rs)
    {
        float[] r = new float[rs * rs];
        for (int y = 0; y < rs * Reduction; y++)
        {
            for (int x = 0; x < rs * Reduction; x++)
            {
                r[((y / Reduction) * rs) + (x / Reduction)] += (q[(y * size) + x] * Quantum) - QuantumOffset;
            }
        }

        System.Numerics.Tensors.TensorPrimitives.Multiply(r, 1f / (Reduction * Reduction), r);
        return r;
    }
}
