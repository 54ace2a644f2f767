using System.Numerics.Tensors;
using DefectDetection.Models;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.Heads;

/// <summary>
/// Trains a <see cref="SoftmaxClassifierModel"/>: multinomial logistic regression on feature vectors (for example
/// from an <see cref="Features.IFeatureExtractor"/>), with L2 regularisation, class weighting, feature
/// standardisation, early stopping on a stratified validation part and temperature calibration. Deterministic for a
/// given seed and input order. What is configured (<see cref="SoftmaxClassifierOptions"/>) is separate from what is
/// trained (the returned model).
/// </summary>
public sealed class SoftmaxClassifierTrainer
{
    /// <summary>Creates a trainer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public SoftmaxClassifierTrainer(SoftmaxClassifierOptions? options = null)
    {
        Options = options ?? new SoftmaxClassifierOptions();
        Options.Validate();
    }

    /// <summary>The options.</summary>
    public SoftmaxClassifierOptions Options { get; }

    /// <summary>Trains on feature vectors and their labels. Labels are ordered ordinally in the model.</summary>
    /// <param name="features">One vector per sample, all of the same length, finite values.</param>
    /// <param name="labels">The label of each sample; at least two distinct labels.</param>
    /// <param name="progress">Receives one report per iteration or epoch, or null.</param>
    /// <param name="cancellationToken">Stops training with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">The inputs are empty, differ in length or shape, hold non-finite values, or name fewer than two labels.</exception>
    public SoftmaxClassifierModel Fit(IReadOnlyList<float[]> features, IReadOnlyList<string> labels, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Count != labels.Count)
        {
            throw new ArgumentException($"There are {features.Count} feature vectors but {labels.Count} labels.", nameof(labels));
        }

        if (features.Count == 0)
        {
            throw new ArgumentException("No training samples.", nameof(features));
        }

        int d = features[0]?.Length ?? 0;
        if (d == 0)
        {
            throw new ArgumentException("Feature vectors must not be empty.", nameof(features));
        }

        for (int i = 0; i < features.Count; i++)
        {
            float[] f = features[i];
            if (f is null || f.Length != d)
            {
                throw new ArgumentException($"Feature vector {i} has {f?.Length ?? 0} values; the first has {d}.", nameof(features));
            }

            foreach (float v in f)
            {
                if (!float.IsFinite(v))
                {
                    throw new ArgumentException($"Feature vector {i} holds a non-finite value.", nameof(features));
                }
            }

            if (string.IsNullOrEmpty(labels[i]))
            {
                throw new ArgumentException($"Sample {i} has an empty label.", nameof(labels));
            }
        }

        string[] names = labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (names.Length < 2)
        {
            throw new ArgumentException($"A classifier needs at least two labels; all samples are '{names[0]}'.", nameof(labels));
        }

        Dictionary<string, int> index = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        int[] y = labels.Select(l => index[l]).ToArray();
        int c = names.Length;

        // Stratified validation part.
        (int[] trainIdx, int[] valIdx) = SplitValidation(y, c);

        // Standardisation statistics from the training part.
        float[] mean = new float[d], scale = new float[d];
        ComputeStandardisation(features, trainIdx, mean, scale);

        // Class weights from the training part.
        double[] classWeight = ComputeClassWeights(names, y, trainIdx);

        SoftmaxObjective train = BuildObjective(features, y, trainIdx, classWeight, mean, scale, d, c, (float)(Options.L2 ?? SoftmaxClassifierOptions.DefaultL2));
        SoftmaxObjective? validation = valIdx.Length == 0 ? null : BuildObjective(features, y, valIdx, classWeight, mean, scale, d, c, 0f);

        float[] theta = new float[train.ParameterCount];
        float[] best = (float[])theta.Clone();
        double bestVal = double.PositiveInfinity;
        int sinceBest = 0;

        bool Report(int iteration, float[] x, double loss)
        {
            double valLoss = double.NaN, valAcc = double.NaN;
            if (validation is not null)
            {
                (valLoss, valAcc) = validation.Score(x);
                if (valLoss < bestVal - 1e-9)
                {
                    bestVal = valLoss;
                    x.AsSpan().CopyTo(best);
                    sinceBest = 0;
                }
                else
                {
                    sinceBest++;
                }
            }

            progress?.Report(TrainingProgress.Count(TrainingStages.Head, iteration, Options.MaxIterations) with { TrainingLoss = loss, ValidationLoss = valLoss, ValidationAccuracy = valAcc });
            return validation is null || sinceBest < Options.EarlyStoppingPatience;
        }

        if (validation is not null)
        {
            (bestVal, _) = validation.Score(theta);
        }

        if (Options.Optimizer == ClassifierOptimizer.Lbfgs)
        {
            Lbfgs.Minimize((x, g) => train.Evaluate(x, g), theta, Options.MaxIterations, Options.Tolerance, Options.History, Report, cancellationToken);
        }
        else
        {
            MinimizeAdam(train, theta, Report, cancellationToken);
        }

        float[] final = validation is null ? theta : best;
        float temperature = 1f;
        if (validation is not null && Options.CalibrateTemperature)
        {
            temperature = FitTemperature(validation, final);
        }

        return new SoftmaxClassifierModel(names, mean, scale, final[..(c * d)], final[(c * d)..], temperature);
    }

    private (int[] Train, int[] Validation) SplitValidation(int[] y, int classes)
    {
        if (Options.ValidationFraction <= 0)
        {
            return (Enumerable.Range(0, y.Length).ToArray(), []);
        }

        List<int> train = [], val = [];
        for (int k = 0; k < classes; k++)
        {
            int[] members = Enumerable.Range(0, y.Length).Where(i => y[i] == k).ToArray();
            int nVal = members.Length >= Options.MinSamplesForValidation
                ? Math.Clamp((int)Math.Round(members.Length * Options.ValidationFraction, MidpointRounding.AwayFromZero), 1, members.Length - 1)
                : 0;
            Rng rng = new(((ulong)(uint)Options.Seed * 0x9E3779B97F4A7C15UL) + (ulong)k + 1);
            rng.Shuffle(members.AsSpan());
            val.AddRange(members[..nVal]);
            train.AddRange(members[nVal..]);
        }

        train.Sort();
        val.Sort();
        return (train.ToArray(), val.ToArray());
    }

    private void ComputeStandardisation(IReadOnlyList<float[]> features, int[] rows, float[] mean, float[] scale)
    {
        int d = mean.Length;
        if (!Options.Standardize)
        {
            scale.AsSpan().Fill(1f);
            return;
        }

        double[] sum = new double[d], sumSq = new double[d];
        foreach (int i in rows)
        {
            float[] f = features[i];
            for (int j = 0; j < d; j++)
            {
                sum[j] += f[j];
            }
        }

        for (int j = 0; j < d; j++)
        {
            mean[j] = (float)(sum[j] / rows.Length);
        }

        foreach (int i in rows)
        {
            float[] f = features[i];
            for (int j = 0; j < d; j++)
            {
                double dev = f[j] - mean[j];
                sumSq[j] += dev * dev;
            }
        }

        for (int j = 0; j < d; j++)
        {
            double std = Math.Sqrt(sumSq[j] / rows.Length);
            scale[j] = std > 1e-12 ? (float)(1.0 / std) : 1f;
        }
    }

    private double[] ComputeClassWeights(string[] names, int[] y, int[] rows)
    {
        int c = names.Length;
        int[] counts = new int[c];
        foreach (int i in rows)
        {
            counts[y[i]]++;
        }

        double[] w = new double[c];
        for (int k = 0; k < c; k++)
        {
            w[k] = Options.ClassWeighting == ClassWeighting.Balanced && counts[k] > 0 ? (double)rows.Length / (c * counts[k]) : 1.0;
            if (Options.ClassWeights is not null && Options.ClassWeights.TryGetValue(names[k], out double explicitWeight))
            {
                w[k] = explicitWeight;
            }
        }

        return w;
    }

    private static SoftmaxObjective BuildObjective(IReadOnlyList<float[]> features, int[] y, int[] rows, double[] classWeight, float[] mean, float[] scale, int d, int c, float l2)
    {
        float[] x = new float[rows.Length * d];
        int[] labels = new int[rows.Length];
        float[] weights = new float[rows.Length];
        for (int r = 0; r < rows.Length; r++)
        {
            Span<float> row = x.AsSpan(r * d, d);
            TensorPrimitives.Subtract(features[rows[r]], mean, row);
            TensorPrimitives.Multiply(row, scale, row);
            labels[r] = y[rows[r]];
            weights[r] = (float)classWeight[labels[r]];
        }

        return new SoftmaxObjective(x, labels, weights, d, c, l2);
    }

    private void MinimizeAdam(SoftmaxObjective objective, float[] theta, Lbfgs.Callback callback, CancellationToken cancellationToken)
    {
        int p = theta.Length, n = objective.Count;
        float[] g = new float[p], m = new float[p], v = new float[p], tmp = new float[p];
        int[] order = Enumerable.Range(0, n).ToArray();
        Rng rng = new(((ulong)(uint)Options.Seed * 0xD1B54A32D192ED03UL) + 7);
        const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        long step = 0;
        int batch = Math.Min(Options.BatchSize, n);
        for (int epoch = 1; epoch <= Options.MaxIterations; epoch++)
        {
            rng.Shuffle(order.AsSpan());
            for (int start = 0; start < n; start += batch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadOnlySpan<int> subset = order.AsSpan(start, Math.Min(batch, n - start));
                objective.Evaluate(theta, g, subset);
                step++;
                TensorPrimitives.Multiply(m, (float)beta1, m);
                TensorPrimitives.MultiplyAdd(g, (float)(1 - beta1), m, m);
                TensorPrimitives.Multiply(g, g, tmp);
                TensorPrimitives.Multiply(v, (float)beta2, v);
                TensorPrimitives.MultiplyAdd(tmp, (float)(1 - beta2), v, v);
                double lr = Options.LearningRate * Math.Sqrt(1 - Math.Pow(beta2, step)) / (1 - Math.Pow(beta1, step));
                for (int i = 0; i < p; i++)
                {
                    theta[i] -= (float)(lr * m[i] / (Math.Sqrt(v[i]) + eps));
                }
            }

            double loss = objective.Evaluate(theta, g);
            if (!callback(epoch, theta, loss) || TensorPrimitives.MaxMagnitude(g) is float gm && Math.Abs(gm) <= Options.Tolerance)
            {
                break;
            }
        }
    }

    /// <summary>
    /// The temperature minimising the weighted validation cross-entropy plus a weak prior (log T)^2 / (2 n) that keeps
    /// T from running to the bound when the validation part is perfectly separated; golden-section search on log T
    /// in [ln 0.05, ln 20].
    /// </summary>
    internal static float FitTemperature(SoftmaxObjective validation, ReadOnlySpan<float> theta)
    {
        float[] logits = validation.AllLogits(theta);
        int c = validation.Classes;
        double Nll(double logT)
        {
            double t = Math.Exp(logT), loss = 0, total = 0;
            for (int i = 0; i < validation.Count; i++)
            {
                ReadOnlySpan<float> z = logits.AsSpan(i * c, c);
                double max = TensorPrimitives.Max(z) / t, sum = 0;
                for (int j = 0; j < c; j++)
                {
                    sum += Math.Exp((z[j] / t) - max);
                }

                double w = validation.WeightOf(i);
                loss += w * (max + Math.Log(sum) - (z[validation.LabelOf(i)] / t));
                total += w;
            }

            return (loss / total) + (0.5 * logT * logT / validation.Count);
        }

        double lo = Math.Log(0.05), hi = Math.Log(20), phi = (Math.Sqrt(5) - 1) / 2;
        double a = hi - (phi * (hi - lo)), b = lo + (phi * (hi - lo));
        double fa = Nll(a), fb = Nll(b);
        for (int k = 0; k < 60; k++)
        {
            if (fa <= fb)
            {
                hi = b;
                b = a;
                fb = fa;
                a = hi - (phi * (hi - lo));
                fa = Nll(a);
            }
            else
            {
                lo = a;
                a = b;
                fa = fb;
                b = lo + (phi * (hi - lo));
                fb = Nll(b);
            }
        }

        return (float)Math.Exp((lo + hi) / 2);
    }

    /// <summary>SplitMix64: deterministic on every runtime.</summary>
    private struct Rng(ulong seed)
    {
        private ulong _state = seed;

        public void Shuffle<T>(Span<T> items)
        {
            for (int i = items.Length - 1; i > 0; i--)
            {
                ulong z = _state += 0x9E3779B97F4A7C15UL;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                int j = (int)((z >> 33) % (ulong)(i + 1));
                (items[i], items[j]) = (items[j], items[i]);
            }
        }
    }
}
