using System.Diagnostics;
using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// Chooses PatchCore's settings from normal images alone: the intensity context, the border rings and the scale (the
/// whole image at 224 or 320 px, or 2, 3 or 4 tiles a side for images large enough to hold that much detail). Each
/// candidate is trained on part of the normals and judged on the held-out rest against copies of them with synthetic
/// defects (<see cref="SyntheticDefects"/>); with few normals the held-out images rotate through folds so that a dozen
/// are judged. A costlier candidate must detect the defects better by more than one standard error (image AUROC,
/// paired bootstrap over the held-out images) or, detecting them as well, locate them significantly more often (the
/// share whose anomaly-map peak falls on the defect).
/// </summary>
internal static class PatchCoreSearch
{
    public const string Stage = "search";
    private const int MinImages = 6, MaxTrainImages = 48, ValidationImages = 12, DefectsPerImage = 6;

    // Labelled defects replace the synthetic ones from this many on; at most this many are scored per candidate.
    private const int MinRealDefects = 5, MaxRealDefects = 24;

    // The richer candidate at each scale: the intensity context and the patch positions (for parts that fill the image
    // the same way each time and defects that are areas of uneven brightness), at the weights of the documented
    // magnetic-tile setting.
    private const double ContextWeight = 0.5, PositionWeight = 3;

    // The wider border candidate (rings of edge patches whose scores are replaced), tried when the input gives a patch
    // grid of at least 20 a side.
    private const int WideBorder = 3;

    // The larger whole-image input (a finer patch grid: 40 a side at stride 8), tried for images of at least
    // MinLargeInputSide px; tiles at the base input follow for larger images.
    private const int BaseInput = 224, LargeInput = 320, MinLargeInputSide = 160;

    /// <summary>The smallest input size at which the border rings are searched.</summary>
    internal const int MinBorderSearchInput = 160;

    public static (PatchCoreOptions Chosen, TrainingSearch Record) Run(PatchCoreOptions options, int normalCount, Func<int, (ImageView View, Image? Owned)> normal,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, int anomalyCount = 0, Func<int, (ImageView View, Image? Owned)>? anomaly = null)
    {
        Stopwatch clock = Stopwatch.StartNew();
        int inputSize = options.InputSize ?? BaseInput;
        bool searchSize = options.InputSize is null && options.Tiles is null;
        string[] searched = [.. options.Tiles is null ? new[] { "tiles" } : [], .. searchSize ? new[] { "input_size" } : [],
            .. options.ContextWeight is null && options.PositionWeight is null ? new[] { "context_weight", "position_weight" } : [],
            .. options.BorderPatches is null && inputSize >= MinBorderSearchInput ? new[] { "border_patches" } : []];
        int pinnedBorder = options.BorderPatches ?? 1;
        const string criterion = "image AUROC of held-out normal images (a dozen, in folds when the normals are few) against copies with synthetic defects (patch, blob, scratch; radius 1.5-6% of the shorter side); a costlier or richer candidate must beat the choice so far by more than one standard error of the difference (paired bootstrap over the held-out images), or match it while putting the map's peak on a share of the defects higher by more than two standard errors; context and position features, then the border rings, are chosen at the cheapest scale, then larger scales (320 px, tiles) tried with those choices";
        // Labelled defects, when the data has enough of them, are the criterion instead of the synthetic ones.
        bool real = anomaly is not null && anomalyCount >= MinRealDefects;
        string realCriterion = $"image AUROC of held-out normal images (a dozen, in folds when the normals are few) against the labelled defect images (up to {MaxRealDefects}, evenly spaced; each scored by every fold's model, the scores averaged); a costlier or richer candidate must beat the choice so far by more than one standard error of the difference (paired bootstrap over the images); context and position features, then the border rings, are chosen at the cheapest scale, then larger scales (320 px, tiles) tried with those choices";
        if (normalCount < MinImages)
        {
            return Only(options, new Candidate(inputSize, options.Tiles ?? 1, options.ContextWeight ?? 0, options.PositionWeight ?? 0, pinnedBorder), real ? realCriterion : criterion, searched, $"fewer than {MinImages} normal images: nothing to validate on");
        }

        // Validation images evenly spaced over the (content-ordered) normals, split into as few folds as leave each
        // fold's model about three quarters of the normals (or 48); each fold trains on the images outside it.
        int validation = Math.Min(normalCount, ValidationImages);
        int[] validationIndex = [.. Enumerable.Range(0, validation).Select(k => (int)((k + 0.5) * normalCount / validation))];
        int folds = Folds(normalCount, validation);
        int[][] foldTrain = new int[folds][];
        int[][] foldValidation = new int[folds][];
        for (int f = 0; f < folds; f++)
        {
            foldValidation[f] = [.. Enumerable.Range(0, validation).Where(k => k % folds == f)];
            int[] rest = [.. Enumerable.Range(0, normalCount).Except(foldValidation[f].Select(k => validationIndex[k]))];
            foldTrain[f] = rest.Length <= MaxTrainImages ? rest : [.. Enumerable.Range(0, MaxTrainImages).Select(k => rest[(int)((long)k * rest.Length / MaxTrainImages)])];
        }

        List<Image> owned = [];
        try
        {
            Dictionary<int, ImageView> views = [];
            foreach (int i in foldTrain.SelectMany(t => t).Concat(validationIndex).Distinct())
            {
                views[i] = Keep(normal(i), owned);
            }

            List<ImageView> normals = [.. validationIndex.Select(i => views[i])];
            List<(ImageView View, byte[] Mask)> defects = [];
            List<ImageView> realDefects = [];
            if (real)
            {
                int take = Math.Min(anomalyCount, MaxRealDefects);
                realDefects.AddRange(Enumerable.Range(0, take).Select(k => Keep(anomaly!((int)((k + 0.5) * anomalyCount / take)), owned)));
            }

            for (int k = 0; !real && k < normals.Count; k++)
            {
                for (int d = 0; d < DefectsPerImage; d++)
                {
                    (Image image, byte[] mask) = SyntheticDefects.Draw(normals[k], (SyntheticDefectKind)(d % 3), (options.AutoConfig.Seed * 7919) + (k * 101) + d);
                    owned.Add(image);
                    defects.Add((image.View(), mask));
                }
            }

            var validationSet = new Validation(normals, defects, realDefects, [.. foldTrain.Select(t => t.Select(i => views[i]).ToList())], foldValidation);

            // Scales: whole images at the base input, at the larger input for images that are not small, and tiles
            // while a tile still covers at least the input size of native pixels; the features (without and, unless
            // pinned, with the intensity context and positions) and then the border are chosen at the cheapest scale,
            // and the larger scales are tried with those choices (a coordinate search: the full grid would multiply
            // the costly candidates).
            double side = Median([.. views.Values.Select(v => (double)Math.Min(v.Width, v.Height))]);
            int[] tiles = options.Tiles is { } pinned ? [pinned] : [.. new[] { 1, 2, 3, 4 }.Where(t => t == 1 || side >= t * inputSize * 0.9)];
            bool searchContext = options.ContextWeight is null && options.PositionWeight is null;
            List<Candidate> grid = searchContext
                ? [new Candidate(inputSize, tiles[0], 0, 0, pinnedBorder), new Candidate(inputSize, tiles[0], ContextWeight, PositionWeight, pinnedBorder)]
                : [new Candidate(inputSize, tiles[0], options.ContextWeight ?? 0, options.PositionWeight ?? 0, pinnedBorder)];
            int features = grid.Count;
            if (options.BorderPatches is null && inputSize >= MinBorderSearchInput)
            {
                grid.Add(new Candidate(inputSize, tiles[0], 0, 0, WideBorder));
            }

            int firstScale = grid.Count;
            if (searchSize && side >= MinLargeInputSide)
            {
                grid.Add(new Candidate(LargeInput, 1, 0, 0, pinnedBorder));
            }

            grid.AddRange(tiles.Skip(1).Select(t => new Candidate(inputSize, t, 0, 0, pinnedBorder)));
            if (grid.Count == 1)
            {
                return Only(options, grid[0], real ? realCriterion : criterion, searched, string.Create(CultureInfo.InvariantCulture, $"the only candidate: the images' shorter side (median {side:F0} px) holds no more detail than the input size"));
            }

            double budget = options.AutoConfig.TimeBudget > TimeSpan.Zero ? options.AutoConfig.TimeBudget.TotalSeconds : double.PositiveInfinity;
            List<SearchCandidate> candidates = [];
            (Outcome Outcome, Candidate Choice)? best = null;
            double lastSeconds = 0, lastPixels = 1;
            for (int c = 0; c < grid.Count; c++)
            {
                // Later stages take the earlier stages' choices.
                Candidate candidate = c < features || best is not { } so ? grid[c]
                    : c < firstScale ? grid[c] with { Context = so.Choice.Context, Position = so.Choice.Position }
                    : grid[c] with { Context = so.Choice.Context, Position = so.Choice.Position, Border = so.Choice.Border };
                double pixels = Pixels(candidate);
                double estimate = lastSeconds * pixels / lastPixels;
                if (c > 0 && clock.Elapsed.TotalSeconds + estimate > budget)
                {
                    candidates.Add(new SearchCandidate
                    {
                        Name = Name(candidate),
                        Settings = Settings(candidate),
                        Skipped = string.Create(CultureInfo.InvariantCulture, $"time budget: about {estimate:F0} s more would pass {budget:F0} s"),
                    });
                    continue;
                }

                progress?.Report(new TrainingProgress($"{Stage} {Name(candidate)}", (double)c / grid.Count) { Done = c, Total = grid.Count });
                Stopwatch one = Stopwatch.StartNew();
                Outcome outcome = validationSet.Evaluate(options with
                {
                    InputSize = candidate.InputSize,
                    Tiles = candidate.Tiles,
                    ContextWeight = candidate.Context,
                    PositionWeight = candidate.Position,
                    BorderPatches = candidate.Border,
                    AutoConfig = options.AutoConfig with { Enabled = false },
                    Calibrate = false,
                    Threshold = new AnomalyThresholdOptions(),
                }, cancellationToken);
                lastSeconds = one.Elapsed.TotalSeconds;
                lastPixels = pixels;
                var figures = real
                    ? new Dictionary<string, double> { ["labelled_auroc"] = Math.Round(outcome.Auroc, 4) }
                    : new Dictionary<string, double> { ["synthetic_auroc"] = Math.Round(outcome.Auroc, 4), ["peak_on_defect"] = Math.Round(outcome.Pointing, 4) };
                // Candidates come cheapest and plainest first: a costlier or richer one must win by more than the noise.
                bool wins = true;
                if (best is { } b)
                {
                    double se = validationSet.StandardError(b.Outcome, outcome, options.AutoConfig.Seed);
                    figures["auroc_gain_se"] = Math.Round(se, 4);
                    wins = outcome.Auroc > b.Outcome.Auroc + se || (!real && outcome.Auroc >= b.Outcome.Auroc && Significant(b.Outcome.Pointing, outcome.Pointing, defects.Count));
                }

                candidates.Add(new SearchCandidate { Name = Name(candidate), Settings = Settings(candidate), Figures = figures, Seconds = Math.Round(lastSeconds, 2) });
                if (wins)
                {
                    best = (outcome, candidate);
                }
            }

            Candidate chosen = best?.Choice ?? grid[0];
            progress?.Report(new TrainingProgress(Stage, 1) { Done = grid.Count, Total = grid.Count });
            return (With(options, chosen), new TrainingSearch
            {
                Criterion = real ? realCriterion : criterion,
                Searched = searched,
                Candidates = candidates,
                Chosen = Name(chosen),
                BudgetSeconds = double.IsInfinity(budget) ? 0 : budget,
                Seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
                TrainImages = foldTrain.Max(t => t.Length),
                ValidationImages = normals.Count + realDefects.Count,
            });
        }
        finally
        {
            owned.ForEach(i => i.Dispose());
        }
    }

    /// <summary>
    /// The fewest folds (1 to the number of validation images) that leave each fold's model at least three quarters
    /// of the normals, or <see cref="MaxTrainImages"/>: 1 for 60 normals or more, 2 for 31, 3 for 20, 6 for 6.
    /// </summary>
    internal static int Folds(int normalCount, int validation)
    {
        int needed = Math.Min(MaxTrainImages, (int)Math.Ceiling(normalCount * 0.75));
        int folds = 1;
        while (folds < validation && normalCount - ((validation + folds - 1) / folds) < needed)
        {
            folds++;
        }

        return folds;
    }

    // The backbone's pixels per image: the cost of a candidate relative to another.
    private static double Pixels(Candidate c) => (double)c.InputSize * c.InputSize * c.Tiles * c.Tiles;

    private static PatchCoreOptions With(PatchCoreOptions options, Candidate c) =>
        options with { InputSize = c.InputSize, Tiles = c.Tiles, ContextWeight = c.Context, PositionWeight = c.Position, BorderPatches = c.Border };

    // Whether the share of defects located rose by more than two standard errors of the difference of two shares.
    private static bool Significant(double before, double after, int n) =>
        after - before > 2 * Math.Sqrt(((before * (1 - before)) + (after * (1 - after))) / n);

    private static (PatchCoreOptions, TrainingSearch) Only(PatchCoreOptions options, Candidate only, string criterion, string[] searched, string why) =>
        (With(options, only), new TrainingSearch
        {
            Criterion = criterion,
            Searched = searched,
            Chosen = Name(only),
            Candidates = [new SearchCandidate { Name = Name(only), Settings = Settings(only), Skipped = why }],
        });

    /// <summary>A candidate's scores: each held-out normal's, and its defective copies' with whether the peak fell on the defect.</summary>
    private sealed record Outcome(double[] NormalScores, double[] DefectScores, bool[] PeakOnDefect, double Auroc, double Pointing);

    /// <summary>The held-out normals with their defective copies, and the folds' training images.</summary>
    private sealed class Validation(List<ImageView> normals, List<(ImageView View, byte[] Mask)> defects, List<ImageView> realDefects, List<List<ImageView>> foldTrain, int[][] foldValidation)
    {
        public Outcome Evaluate(PatchCoreOptions candidate, CancellationToken cancellationToken)
        {
            double[] normalScores = new double[normals.Count], defectScores = new double[defects.Count];
            double[] realScores = new double[realDefects.Count];
            bool[] peak = new bool[defects.Count];
            for (int f = 0; f < foldTrain.Count; f++)
            {
                using PatchCoreModel model = new PatchCoreTrainer(candidate).Fit(foldTrain[f], null, null, cancellationToken);
                for (int r = 0; r < realDefects.Count; r++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    realScores[r] += model.Predict(realDefects[r]).Score / foldTrain.Count;
                }

                foreach (int k in foldValidation[f])
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    normalScores[k] = model.Predict(normals[k]).Score;
                    for (int d = k * DefectsPerImage; d < Math.Min(defects.Count, (k + 1) * DefectsPerImage); d++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        DefectPrediction p = model.Predict(defects[d].View);
                        defectScores[d] = p.Score;
                        peak[d] = p.AnomalyMap is { } map && PeakOnDefect(map, defects[d].Mask, defects[d].View.Width, defects[d].View.Height);
                    }
                }
            }

            return realDefects.Count > 0
                ? new Outcome(normalScores, realScores, [], RealAuroc(normalScores, realScores, null), 0)
                : new Outcome(normalScores, defectScores, peak, Auroc(normalScores, defectScores, null), peak.Count(p => p) / (double)peak.Length);
        }

        /// <summary>
        /// The bootstrap standard error of the AUROC gain of <paramref name="b"/> over <paramref name="a"/>, resampling
        /// held-out images with their copies (synthetic defects) or the normal and defect images together (labelled defects).
        /// </summary>
        public double StandardError(Outcome a, Outcome b, int seed) => realDefects.Count > 0
            ? PairedBootstrap.StandardError(normals.Count + realDefects.Count, seed, sample =>
            {
                double d = RealAuroc(b.NormalScores, b.DefectScores, sample) - RealAuroc(a.NormalScores, a.DefectScores, sample);
                return double.IsNaN(d) ? 0 : d; // a resample of one kind has no AUROC: no difference
            })
            : PairedBootstrap.StandardError(normals.Count, seed, sample => Auroc(b.NormalScores, b.DefectScores, sample) - Auroc(a.NormalScores, a.DefectScores, sample));

        // The image AUROC of the normals against the labelled defects, over all of them or a resample of the rows (normals first).
        private static double RealAuroc(double[] normalScores, double[] defectScores, int[]? sample)
        {
            double[] all = [.. normalScores, .. defectScores];
            int[] rows = sample ?? [.. Enumerable.Range(0, all.Length)];
            return BinaryMetrics.RocAuc([.. rows.Select(r => all[r])], [.. rows.Select(r => r >= normalScores.Length)]);
        }

        // The image AUROC of the normals against the defective copies, over all held-out images or a resample of them.
        private static double Auroc(double[] normalScores, double[] defectScores, int[]? sample)
        {
            int n = sample?.Length ?? normalScores.Length;
            double[] scores = new double[n * (1 + DefectsPerImage)];
            bool[] positive = new bool[scores.Length];
            for (int j = 0; j < n; j++)
            {
                int k = sample?[j] ?? j;
                int at = j * (1 + DefectsPerImage);
                scores[at] = normalScores[k];
                for (int d = 0; d < DefectsPerImage; d++)
                {
                    scores[at + 1 + d] = defectScores[(k * DefectsPerImage) + d];
                    positive[at + 1 + d] = true;
                }
            }

            return BinaryMetrics.RocAuc(scores, positive);
        }
    }

    // Whether the map's highest value lies on the defect, allowing one map cell of slack around it.
    private static bool PeakOnDefect(AnomalyMap map, byte[] mask, int width, int height)
    {
        int peak = 0;
        for (int i = 1; i < map.Values.Length; i++)
        {
            if (map.Values[i] > map.Values[peak])
            {
                peak = i;
            }
        }

        double cx = ((peak % map.Width) + 0.5) * map.ScaleX, cy = ((peak / map.Width) + 0.5) * map.ScaleY;
        int slack = (int)Math.Ceiling(Math.Max(map.ScaleX, map.ScaleY));
        for (int y = Math.Max(0, (int)cy - slack); y <= Math.Min(height - 1, (int)cy + slack); y++)
        {
            for (int x = Math.Max(0, (int)cx - slack); x <= Math.Min(width - 1, (int)cx + slack); x++)
            {
                if (mask[(y * width) + x] != 0)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static ImageView Keep((ImageView View, Image? Owned) item, List<Image> owned)
    {
        if (item.Owned is { } image)
        {
            owned.Add(image);
        }

        return item.View;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values.Length == 0 ? 0 : values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
    }

    private static string Name(Candidate c) =>
        string.Create(CultureInfo.InvariantCulture, $"{c.InputSize} px {(c.Tiles == 1 ? "whole image" : $"x {c.Tiles}x{c.Tiles} tiles")}{(c.Context > 0 || c.Position > 0 ? $", context {c.Context:0.##}, position {c.Position:0.##}" : string.Empty)}, border {c.Border}");

    private static Dictionary<string, double> Settings(Candidate c) =>
        new() { ["input_size"] = c.InputSize, ["tiles"] = c.Tiles, ["context_weight"] = c.Context, ["position_weight"] = c.Position, ["border_patches"] = c.Border };

    /// <summary>One point of the search grid: the scale (input size and tiles), the intensity-context and position weights, the border rings.</summary>
    private readonly record struct Candidate(int InputSize, int Tiles, double Context, double Position, int Border);
}
