using System.Diagnostics;
using System.Globalization;
using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.ModelFiles;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;

namespace DefectDetection.Vision.PatchCore;

/// <summary>
/// Chooses PatchCore's scale from normal images alone: whole images at the input size, or 2, 3 or 4 tiles a side for
/// images large enough to hold that much detail. Each candidate is trained on part of the normals and judged on the
/// held-out rest against copies of them with synthetic defects (<see cref="SyntheticDefects"/>): a costlier candidate
/// must detect them clearly better (image AUROC) or, detecting them as well, locate them significantly more often (the
/// share whose anomaly-map peak falls on the defect).
/// </summary>
internal static class PatchCoreSearch
{
    public const string Stage = "search";
    private const int MinImages = 6, MaxTrainImages = 48, MaxValidationImages = 12, DefectsPerImage = 6;

    // A costlier candidate must beat the cheaper choice by this much AUROC: with a dozen held-out normals the figure
    // moves by a few hundredths between equally good settings.
    private const double Margin = 0.05;

    // The richer candidate at each scale: the intensity context and the patch positions (for parts that fill the image
    // the same way each time and defects that are areas of uneven brightness), at the weights of the documented
    // magnetic-tile setting.
    private const double ContextWeight = 0.5, PositionWeight = 3;

    // The wider border candidate (rings of edge patches whose scores are replaced), tried when the input gives a patch
    // grid of at least 20 a side.
    private const int WideBorder = 3;

    /// <summary>The smallest input size at which the border rings are searched.</summary>
    internal const int MinBorderSearchInput = 160;

    public static (PatchCoreOptions Chosen, TrainingSearch Record) Run(PatchCoreOptions options, int normalCount, Func<int, (ImageView View, Image? Owned)> normal,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        Stopwatch clock = Stopwatch.StartNew();
        int inputSize = options.InputSize ?? 224;
        string[] searched = [.. options.Tiles is null ? new[] { "tiles" } : [], .. options.ContextWeight is null && options.PositionWeight is null ? new[] { "context_weight", "position_weight" } : [],
            .. options.BorderPatches is null && inputSize >= MinBorderSearchInput ? new[] { "border_patches" } : []];
        int pinnedBorder = options.BorderPatches ?? 1;
        const string criterion = "image AUROC of held-out normal images against copies with synthetic defects (patch, blob, scratch; radius 1.5-6% of the shorter side); a costlier or richer candidate must beat the choice so far by 0.05, or match it while putting the map's peak on a share of the defects higher by more than two standard errors; context and position features, then the border rings, are chosen at the cheapest scale, then larger scales tried with those choices";
        if (normalCount < MinImages)
        {
            return Only(options, new Candidate(options.Tiles ?? 1, options.ContextWeight ?? 0, options.PositionWeight ?? 0, pinnedBorder), inputSize, criterion, searched, $"fewer than {MinImages} normal images: nothing to validate on");
        }

        // Validation images evenly spaced over the (content-ordered) normals, training images from the rest.
        int validation = Math.Clamp((int)Math.Round(normalCount * 0.25), 2, MaxValidationImages);
        int[] validationIndex = [.. Enumerable.Range(0, validation).Select(k => (int)((k + 0.5) * normalCount / validation))];
        int[] rest = [.. Enumerable.Range(0, normalCount).Except(validationIndex)];
        int[] trainIndex = rest.Length <= MaxTrainImages ? rest : [.. Enumerable.Range(0, MaxTrainImages).Select(k => rest[(int)((long)k * rest.Length / MaxTrainImages)])];

        List<Image> owned = [];
        try
        {
            List<ImageView> train = [.. trainIndex.Select(i => Keep(normal(i), owned))];
            List<ImageView> normals = [.. validationIndex.Select(i => Keep(normal(i), owned))];
            List<(ImageView View, byte[] Mask)> defects = [];
            for (int k = 0; k < normals.Count; k++)
            {
                for (int d = 0; d < DefectsPerImage; d++)
                {
                    (Image image, byte[] mask) = SyntheticDefects.Draw(normals[k], (SyntheticDefectKind)(d % 3), (options.AutoConfig.Seed * 7919) + (k * 101) + d);
                    owned.Add(image);
                    defects.Add((image.View(), mask));
                }
            }

            // Scales: whole images, and tiles while a tile still covers at least the input size of native pixels; at
            // each, without and (unless pinned) with the intensity context and position features.
            double side = Median([.. train.Select(v => (double)Math.Min(v.Width, v.Height))]);
            int[] tiles = options.Tiles is { } pinned ? [pinned] : [.. new[] { 1, 2, 3, 4 }.Where(t => t == 1 || side >= t * inputSize * 0.9)];
            bool searchContext = options.ContextWeight is null && options.PositionWeight is null;
            // The features are chosen at the cheapest scale, then the larger scales are tried with that choice (a
            // coordinate search: the full grid would double the costly tile candidates).
            // Then the border: three rings instead of one, when the patch grid is large enough to spare them.
            List<Candidate> grid = searchContext
                ? [new Candidate(tiles[0], 0, 0, pinnedBorder), new Candidate(tiles[0], ContextWeight, PositionWeight, pinnedBorder)]
                : [new Candidate(tiles[0], options.ContextWeight ?? 0, options.PositionWeight ?? 0, pinnedBorder)];
            int features = grid.Count;
            if (options.BorderPatches is null && inputSize >= MinBorderSearchInput)
            {
                grid.Add(new Candidate(tiles[0], 0, 0, WideBorder));
            }

            int firstScale = grid.Count;
            grid.AddRange(tiles.Skip(1).Select(t => new Candidate(t, 0, 0, pinnedBorder)));
            if (grid.Count == 1)
            {
                return Only(options, grid[0], inputSize, criterion, searched, string.Create(CultureInfo.InvariantCulture, $"the only candidate: the images' shorter side (median {side:F0} px) holds no more detail than the input size"));
            }

            double budget = options.AutoConfig.TimeBudget > TimeSpan.Zero ? options.AutoConfig.TimeBudget.TotalSeconds : double.PositiveInfinity;
            List<SearchCandidate> candidates = [];
            (double Auroc, double Pointing, Candidate Choice)? best = null;
            double lastSeconds = 0;
            int lastTiles = 1;
            for (int c = 0; c < grid.Count; c++)
            {
                // Later stages take the earlier stages' choices.
                Candidate candidate = c < features || best is not { } so ? grid[c]
                    : c < firstScale ? grid[c] with { Context = so.Choice.Context, Position = so.Choice.Position }
                    : grid[c] with { Context = so.Choice.Context, Position = so.Choice.Position, Border = so.Choice.Border };
                int t = candidate.Tiles;
                double estimate = lastSeconds * t * t / (lastTiles * lastTiles);
                if (c > 0 && clock.Elapsed.TotalSeconds + estimate > budget)
                {
                    candidates.Add(new SearchCandidate
                    {
                        Name = Name(inputSize, candidate),
                        Settings = Settings(inputSize, candidate),
                        Skipped = string.Create(CultureInfo.InvariantCulture, $"time budget: about {estimate:F0} s more would pass {budget:F0} s"),
                    });
                    continue;
                }

                progress?.Report(new TrainingProgress($"{Stage} {Name(inputSize, candidate)}", (double)c / grid.Count) { Done = c, Total = grid.Count });
                Stopwatch one = Stopwatch.StartNew();
                (double auroc, double pointing) = Evaluate(options with
                {
                    InputSize = inputSize,
                    Tiles = t,
                    ContextWeight = candidate.Context,
                    PositionWeight = candidate.Position,
                    BorderPatches = candidate.Border,
                    AutoConfig = options.AutoConfig with { Enabled = false },
                    Calibrate = false,
                    Threshold = new AnomalyThresholdOptions(),
                }, train, normals, defects, cancellationToken);
                lastSeconds = one.Elapsed.TotalSeconds;
                lastTiles = t;
                candidates.Add(new SearchCandidate
                {
                    Name = Name(inputSize, candidate),
                    Settings = Settings(inputSize, candidate),
                    Figures = new Dictionary<string, double> { ["synthetic_auroc"] = Math.Round(auroc, 4), ["peak_on_defect"] = Math.Round(pointing, 4) },
                    Seconds = Math.Round(lastSeconds, 2),
                });
                // Candidates come cheapest and plainest first: a costlier or richer one must win clearly.
                if (best is not { } b || auroc >= b.Auroc + Margin || (auroc >= b.Auroc && Significant(b.Pointing, pointing, defects.Count)))
                {
                    best = (auroc, pointing, candidate);
                }
            }

            Candidate chosen = best?.Choice ?? grid[0];
            progress?.Report(new TrainingProgress(Stage, 1) { Done = grid.Count, Total = grid.Count });
            return (options with { InputSize = inputSize, Tiles = chosen.Tiles, ContextWeight = chosen.Context, PositionWeight = chosen.Position, BorderPatches = chosen.Border }, new TrainingSearch
            {
                Criterion = criterion,
                Searched = searched,
                Candidates = candidates,
                Chosen = Name(inputSize, chosen),
                BudgetSeconds = double.IsInfinity(budget) ? 0 : budget,
                Seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
                TrainImages = train.Count,
                ValidationImages = normals.Count,
            });
        }
        finally
        {
            owned.ForEach(i => i.Dispose());
        }
    }

    // Whether the share of defects located rose by more than two standard errors of the difference of two shares.
    private static bool Significant(double before, double after, int n) =>
        after - before > 2 * Math.Sqrt(((before * (1 - before)) + (after * (1 - after))) / n);

    private static (PatchCoreOptions, TrainingSearch) Only(PatchCoreOptions options, Candidate only, int inputSize, string criterion, string[] searched, string why) =>
        (options with { InputSize = inputSize, Tiles = only.Tiles, ContextWeight = only.Context, PositionWeight = only.Position, BorderPatches = only.Border }, new TrainingSearch
        {
            Criterion = criterion,
            Searched = searched,
            Chosen = Name(inputSize, only),
            Candidates = [new SearchCandidate { Name = Name(inputSize, only), Settings = Settings(inputSize, only), Skipped = why }],
        });

    private static (double Auroc, double Pointing) Evaluate(PatchCoreOptions candidate, List<ImageView> train, List<ImageView> normals,
        List<(ImageView View, byte[] Mask)> defects, CancellationToken cancellationToken)
    {
        using PatchCoreModel model = new PatchCoreTrainer(candidate).Fit(train, null, null, cancellationToken);
        double[] scores = new double[normals.Count + defects.Count];
        bool[] positive = new bool[scores.Length];
        for (int i = 0; i < normals.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            scores[i] = model.Predict(normals[i]).Score;
        }

        int onDefect = 0;
        for (int i = 0; i < defects.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            DefectPrediction p = model.Predict(defects[i].View);
            scores[normals.Count + i] = p.Score;
            positive[normals.Count + i] = true;
            if (p.AnomalyMap is { } map && PeakOnDefect(map, defects[i].Mask, defects[i].View.Width, defects[i].View.Height))
            {
                onDefect++;
            }
        }

        return (BinaryMetrics.RocAuc(scores, positive), (double)onDefect / defects.Count);
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

    private static string Name(int inputSize, Candidate c) =>
        string.Create(CultureInfo.InvariantCulture, $"{inputSize} px {(c.Tiles == 1 ? "whole image" : $"x {c.Tiles}x{c.Tiles} tiles")}{(c.Context > 0 || c.Position > 0 ? $", context {c.Context:0.##}, position {c.Position:0.##}" : string.Empty)}, border {c.Border}");

    private static Dictionary<string, double> Settings(int inputSize, Candidate c) =>
        new() { ["input_size"] = inputSize, ["tiles"] = c.Tiles, ["context_weight"] = c.Context, ["position_weight"] = c.Position, ["border_patches"] = c.Border };

    /// <summary>One point of the search grid: the scale and the intensity-context and position weights.</summary>
    private readonly record struct Candidate(int Tiles, double Context, double Position, int Border);
}
