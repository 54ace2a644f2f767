using DefectDetection.ModelFiles;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.Tests.Classification;

public class SoftmaxClassifierTests
{
    /// <summary>Three Gaussian blobs in <paramref name="d"/> dimensions, far apart.</summary>
    private static (float[][] X, string[] Y) Blobs(int perClass, int d, double spread, int seed)
    {
        Random rng = new(seed);
        string[] names = ["crack", "normal", "scratch"];
        List<float[]> x = [];
        List<string> y = [];
        for (int c = 0; c < names.Length; c++)
        {
            for (int i = 0; i < perClass; i++)
            {
                float[] v = new float[d];
                for (int j = 0; j < d; j++)
                {
                    double center = j % names.Length == c ? 4 : 0;
                    v[j] = (float)(center + (spread * Gaussian(rng)) + 10);
                }

                x.Add(v);
                y.Add(names[c]);
            }
        }

        return (x.ToArray(), y.ToArray());
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Theory]
    [InlineData(ClassifierOptimizer.Lbfgs)]
    [InlineData(ClassifierOptimizer.Adam)]
    public void SeparableData_ReachesFullAccuracy(ClassifierOptimizer optimizer)
    {
        (float[][] x, string[] y) = Blobs(30, 12, 0.5, 1);
        List<TrainingProgress> reports = [];
        SoftmaxClassifierModel model = new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { Optimizer = optimizer, MaxIterations = 200 })
            .Fit(x, y, new SyncProgress<TrainingProgress>(reports.Add));

        Assert.Equal(["crack", "normal", "scratch"], model.Labels);
        for (int i = 0; i < x.Length; i++)
        {
            ClassPrediction p = model.Predict(x[i]);
            Assert.Equal(y[i], p.Label);
            Assert.Equal(1f, p.Probabilities.Sum(), 4);
            Assert.True(p.Confidence > 0.5f);
        }

        Assert.NotEmpty(reports);
        Assert.False(double.IsNaN(reports[^1].ValidationLoss)); // 30 per class: a validation part exists
        Assert.True(reports[^1].TrainingLoss < reports[0].TrainingLoss);
        Assert.True(model.Temperature > 0);
    }

    [Fact]
    public void Gradient_MatchesFiniteDifferences()
    {
        Random rng = new(2);
        int n = 9, d = 4, c = 3;
        float[] x = [.. Enumerable.Range(0, n * d).Select(_ => (float)Gaussian(rng))];
        int[] y = [.. Enumerable.Range(0, n).Select(i => i % c)];
        float[] w = [.. Enumerable.Range(0, n).Select(i => 0.5f + (i % 3))];
        SoftmaxObjective objective = new(x, y, w, d, c, l2: 0.3f);
        float[] theta = [.. Enumerable.Range(0, objective.ParameterCount).Select(_ => (float)(0.5 * Gaussian(rng)))];
        float[] grad = new float[theta.Length];
        objective.Evaluate(theta, grad);

        // Reference: central differences of an independent double-precision loss.
        double Loss(double[] t)
        {
            double total = 0, wsum = 0;
            for (int i = 0; i < n; i++)
            {
                double[] z = new double[c];
                for (int k = 0; k < c; k++)
                {
                    z[k] = t[(c * d) + k];
                    for (int j = 0; j < d; j++)
                    {
                        z[k] += t[(k * d) + j] * x[(i * d) + j];
                    }
                }

                double max = z.Max();
                double lse = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
                total += w[i] * (lse - z[y[i]]);
                wsum += w[i];
            }

            double penalty = 0;
            for (int k = 0; k < c * d; k++)
            {
                penalty += t[k] * t[k];
            }

            return (total / wsum) + (0.5 * 0.3 * penalty);
        }

        double[] td = [.. theta.Select(v => (double)v)];
        Assert.Equal(Loss(td), objective.Evaluate(theta, new float[theta.Length]), 5);
        for (int k = 0; k < theta.Length; k++)
        {
            const double h = 1e-5;
            double[] plus = (double[])td.Clone(), minus = (double[])td.Clone();
            plus[k] += h;
            minus[k] -= h;
            double numeric = (Loss(plus) - Loss(minus)) / (2 * h);
            Assert.True(Math.Abs(numeric - grad[k]) < 1e-4 + (1e-3 * Math.Abs(numeric)), $"parameter {k}: analytic {grad[k]}, numeric {numeric}");
        }
    }

    [Fact]
    public void Lbfgs_MinimisesAnIllConditionedQuadratic()
    {
        double[] scale = [1, 10, 100, 1000];
        double[] target = [1, -2, 3, -4];
        float[] x = new float[4];
        Lbfgs.Minimize(
            (t, g) =>
            {
                double f = 0;
                for (int i = 0; i < 4; i++)
                {
                    double dlt = t[i] - target[i];
                    f += 0.5 * scale[i] * dlt * dlt;
                    g[i] = (float)(scale[i] * dlt);
                }

                return f;
            },
            x, maxIterations: 200, tolerance: 1e-6, history: 5, (_, _, _) => true, CancellationToken.None);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(target[i], x[i], 3);
        }
    }

    [Fact]
    public void SameSeed_IsReproducible_DifferentSeedChangesTheValidationPart()
    {
        (float[][] x, string[] y) = Blobs(20, 6, 2.0, 3);
        float[] Weights(int seed, ClassifierOptimizer o) => new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { Seed = seed, Optimizer = o, MaxIterations = 50 })
            .Fit(x, y).ToTensors()["head/weights"].Data;
        Assert.Equal(Weights(7, ClassifierOptimizer.Lbfgs), Weights(7, ClassifierOptimizer.Lbfgs));
        Assert.Equal(Weights(7, ClassifierOptimizer.Adam), Weights(7, ClassifierOptimizer.Adam));
        Assert.NotEqual(Weights(7, ClassifierOptimizer.Lbfgs), Weights(8, ClassifierOptimizer.Lbfgs));
    }

    [Fact]
    public void ClassWeights_ShiftTheDecision()
    {
        // Two overlapping 1-D classes: a at 0, b at 1, noise 1. A heavy weight on b moves the boundary toward a.
        Random rng = new(4);
        List<float[]> x = [];
        List<string> y = [];
        for (int i = 0; i < 200; i++)
        {
            x.Add([(float)Gaussian(rng)]);
            y.Add("a");
            x.Add([(float)(1 + Gaussian(rng))]);
            y.Add("b");
        }

        float[][] probe = [.. Enumerable.Range(0, 41).Select(i => new[] { (i / 20f) - 0.5f })];
        int CountB(SoftmaxClassifierOptions o) => new SoftmaxClassifierTrainer(o).Fit(x, y).Predict(probe).Count(p => p.Label == "b");

        int plain = CountB(new SoftmaxClassifierOptions { ClassWeighting = ClassWeighting.None, ValidationFraction = 0 });
        int heavyB = CountB(new SoftmaxClassifierOptions { ClassWeights = new Dictionary<string, double> { ["b"] = 10 }, ValidationFraction = 0 });
        int heavyA = CountB(new SoftmaxClassifierOptions { ClassWeights = new Dictionary<string, double> { ["a"] = 10 }, ValidationFraction = 0 });
        Assert.True(heavyB > plain + 5, $"b weighted: {heavyB}, plain: {plain}");
        Assert.True(heavyA < plain - 5, $"a weighted: {heavyA}, plain: {plain}");
    }

    [Fact]
    public void BalancedWeighting_RecoversTheRareClass()
    {
        Random rng = new(6);
        List<float[]> x = [];
        List<string> y = [];
        for (int i = 0; i < 300; i++)
        {
            x.Add([(float)Gaussian(rng)]);
            y.Add("normal");
        }

        for (int i = 0; i < 15; i++)
        {
            x.Add([(float)(1.5 + Gaussian(rng))]);
            y.Add("defect");
        }

        float[] probe = [1.2f];
        string Plain() => new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { ClassWeighting = ClassWeighting.None, ValidationFraction = 0 }).Fit(x, y).Predict(probe).Label;
        string Balanced() => new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { ClassWeighting = ClassWeighting.Balanced, ValidationFraction = 0 }).Fit(x, y).Predict(probe).Label;
        Assert.Equal("normal", Plain());
        Assert.Equal("defect", Balanced());
    }

    [Fact]
    public void Temperature_RecoversTheTrueScaleOfOverconfidentLogits()
    {
        // Labels drawn with P(b | x) = sigmoid(x); a model whose logit difference is 4x would need T = 4.
        Random rng = new(9);
        int n = 4000;
        float[] x = new float[n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(3 * Gaussian(rng));
            y[i] = rng.NextDouble() < 1 / (1 + Math.Exp(-x[i])) ? 1 : 0;
        }

        SoftmaxObjective validation = new(x, y, [.. Enumerable.Repeat(1f, n)], features: 1, classes: 2, l2: 0);
        float[] theta = [-2f, 2f, 0f, 0f]; // logits -2x and 2x: difference 4x
        float t = SoftmaxClassifierTrainer.FitTemperature(validation, theta);
        Assert.InRange(t, 3.5f, 4.5f);
    }

    [Fact]
    public void Temperature_StaysModest_OnPerfectlySeparatedValidation()
    {
        (float[][] x, string[] y) = Blobs(30, 12, 0.5, 1);
        SoftmaxClassifierModel model = new SoftmaxClassifierTrainer().Fit(x, y);
        Assert.InRange(model.Temperature, 0.06f, 20f);
        SoftmaxClassifierModel uncalibrated = new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { CalibrateTemperature = false }).Fit(x, y);
        Assert.Equal(1f, uncalibrated.Temperature);
        Assert.All(x, v => Assert.False(float.IsNaN(model.Predict(v).Confidence)));
    }

    [Fact]
    public void Tensors_RoundTripThroughAModelFile()
    {
        (float[][] x, string[] y) = Blobs(10, 5, 1.0, 5);
        SoftmaxClassifierModel model = new SoftmaxClassifierTrainer().Fit(x, y);
        string path = Path.Combine(Path.GetTempPath(), "ddvision-" + Guid.NewGuid().ToString("N") + ".ddmodel");
        try
        {
            new ModelPackage(new ModelManifest { Labels = model.Labels }, model.ToTensors()).Save(path);
            ModelPackage package = ModelPackage.Load(path);
            SoftmaxClassifierModel back = SoftmaxClassifierModel.FromTensors(package.Manifest.Labels, package.Tensors);
            Assert.Equal(model.Temperature, back.Temperature);
            foreach (float[] v in x)
            {
                Assert.Equal(model.Predict(v).Probabilities, back.Predict(v).Probabilities);
            }
        }
        finally
        {
            File.Delete(path);
        }

        Dictionary<string, ModelTensor> broken = new(model.ToTensors());
        broken.Remove("head/bias");
        Assert.Throws<InvalidDataException>(() => SoftmaxClassifierModel.FromTensors(model.Labels, broken));
        Assert.Throws<InvalidDataException>(() => SoftmaxClassifierModel.FromTensors(["a", "b"], model.ToTensors()));
    }

    [Fact]
    public void BadInput_Throws_AndCancellationStops()
    {
        SoftmaxClassifierTrainer trainer = new();
        Assert.Throws<ArgumentException>(() => trainer.Fit([], []));
        Assert.Throws<ArgumentException>(() => trainer.Fit([[1f], [2f]], ["a", "a"]));
        Assert.Throws<ArgumentException>(() => trainer.Fit([[1f], [2f, 3f]], ["a", "b"]));
        Assert.Throws<ArgumentException>(() => trainer.Fit([[1f], [float.NaN]], ["a", "b"]));
        Assert.Throws<ArgumentException>(() => trainer.Fit([[1f]], ["a", "b"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { L2 = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { ValidationFraction = 1 }));
        (float[][] x, string[] y) = Blobs(10, 5, 1.0, 5);
        using CancellationTokenSource cts = new();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Fit(x, y, null, cts.Token));
        SoftmaxClassifierModel model = trainer.Fit(x, y);
        Assert.Throws<ArgumentException>(() => model.Predict(new float[4]));
        Assert.Throws<ArgumentException>(() => model.Predict(x[0]).ProbabilityOf("nope"));
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
