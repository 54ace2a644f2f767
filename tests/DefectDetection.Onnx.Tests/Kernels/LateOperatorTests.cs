using DefectDetection.Onnx.Tests.Helpers;

namespace DefectDetection.Onnx.Tests.Kernels;

/// <summary>
/// Scalar references, written from the ONNX operator definitions in double precision, for the operators that were
/// added for the conformance suite (which compares them with ONNX Runtime only). Shapes are odd on purpose so
/// that vector tails and group/channel windows that do not divide evenly are exercised.
/// </summary>
public sealed class LateOperatorTests
{
    private static float[] Random(int n, int seed, float scale = 2f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 2 * scale)).ToArray();
    }

    private static void AssertClose(double expected, float actual, double tolerance, string what)
        => Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)), $"{what}: got {actual}, expected {expected}");

    [Fact]
    public void UnaryActivationsMatchDoublePrecisionDefinitions()
    {
        float[] x = Random(37, 1, 4f);
        x[0] = 0;
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.5f;
        (string Op, (string, object)[] Attributes, Func<double, double> F)[] cases =
        [
            ("Elu", [("alpha", 0.7f)], v => v >= 0 ? v : 0.7 * (Math.Exp(v) - 1)),
            ("Celu", [("alpha", 1.3f)], v => Math.Max(0, v) + Math.Min(0, 1.3 * (Math.Exp(v / 1.3) - 1))),
            ("Selu", [], v => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.Exp(v) - 1))),
            ("Softplus", [], v => Math.Log(1 + Math.Exp(v))),
            ("Softsign", [], v => v / (1 + Math.Abs(v))),
            ("ThresholdedRelu", [("alpha", 0.4f)], v => v > 0.4 ? v : 0),
            ("Mish", [], v => v * Math.Tanh(Math.Log(1 + Math.Exp(v)))),
            ("Sin", [], Math.Sin),
            ("Cos", [], Math.Cos),
            ("Atan", [], Math.Atan),
            ("Sign", [], v => Math.Sign(v)),
            ("Floor", [], Math.Floor),
            ("Ceil", [], Math.Ceiling),
            ("Round", [], v => Math.Round(v, MidpointRounding.ToEven)),
        ];
        foreach ((string op, (string, object)[] attributes, Func<double, double> f) in cases)
        {
            using OnnxSession s = new GraphBuilder(18).Input("x", TensorElementType.Float32, 37).Node(op, ["x"], ["y"], attributes)
                .Output("y", TensorElementType.Float32, 37).Session();
            float[] y = s.RunFloats(("x", new OnnxTensor<float>(x, [37])));
            for (int i = 0; i < x.Length; i++)
            {
                AssertClose(f(x[i]), y[i], 2e-5, $"{op}({x[i]})");
            }
        }
    }

    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void GeluBothApproximations(string approximate)
    {
        float[] x = Random(19, 2, 5f);
        using OnnxSession s = new GraphBuilder(20).Input("x", TensorElementType.Float32, 19).Node("Gelu", ["x"], ["y"], ("approximate", approximate))
            .Output("y", TensorElementType.Float32, 19).Session();
        float[] y = s.RunFloats(("x", new OnnxTensor<float>(x, [19])));
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            double expected = approximate == "none"
                ? 0.5 * v * (1 + Erf(v / Math.Sqrt(2)))
                : 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + (0.044715 * v * v * v))));
            AssertClose(expected, y[i], 1e-5, $"Gelu[{approximate}]({v})");
        }
    }

    [Fact]
    public void GroupNormalizationOpset18ScalesPerGroup()
    {
        const int n = 2, c = 6, h = 3, w = 5, groups = 3;
        float[] x = Random(n * c * h * w, 3);
        float[] scale = [0.5f, 2f, -1f];
        float[] bias = [0.1f, -0.2f, 0.3f];
        using OnnxSession s = new GraphBuilder(18).Input("x", TensorElementType.Float32, n, c, h, w)
            .Initializer("scale", scale, groups).Initializer("bias", bias, groups)
            .Node("GroupNormalization", ["x", "scale", "bias"], ["y"], ("num_groups", groups), ("epsilon", 1e-3f))
            .Output("y", TensorElementType.Float32, n, c, h, w).Session();
        float[] y = s.RunFloats(("x", new OnnxTensor<float>(x, [n, c, h, w])));
        int groupSize = c / groups * h * w;
        for (int b = 0; b < n; b++)
        {
            for (int g = 0; g < groups; g++)
            {
                int start = ((b * groups) + g) * groupSize;
                double mean = 0, var = 0;
                for (int i = 0; i < groupSize; i++)
                {
                    mean += x[start + i];
                }

                mean /= groupSize;
                for (int i = 0; i < groupSize; i++)
                {
                    var += (x[start + i] - mean) * (x[start + i] - mean);
                }

                var /= groupSize;
                for (int i = 0; i < groupSize; i++)
                {
                    double expected = (scale[g] * (x[start + i] - mean) / Math.Sqrt(var + 1e-3)) + bias[g];
                    AssertClose(expected, y[start + i], 1e-4, $"GroupNormalization batch {b} group {g} element {i}");
                }
            }
        }
    }

    [Fact]
    public void LrnSumsSquaresOverAnAsymmetricChannelWindow()
    {
        const int c = 5, h = 3, w = 2, size = 4;
        const float alpha = 0.3f, beta = 0.75f, bias = 1.5f;
        float[] x = Random(c * h * w, 4);
        using OnnxSession s = new GraphBuilder(13).Input("x", TensorElementType.Float32, 1, c, h, w)
            .Node("LRN", ["x"], ["y"], ("size", size), ("alpha", alpha), ("beta", beta), ("bias", bias))
            .Output("y", TensorElementType.Float32, 1, c, h, w).Session();
        float[] y = s.RunFloats(("x", new OnnxTensor<float>(x, [1, c, h, w])));

        // The window is [c - floor((size-1)/2), c + ceil((size-1)/2)] = [c-1, c+2] for size 4.
        for (int ch = 0; ch < c; ch++)
        {
            for (int p = 0; p < h * w; p++)
            {
                double sq = 0;
                for (int k = ch - 1; k <= ch + 2; k++)
                {
                    if (k >= 0 && k < c)
                    {
                        sq += (double)x[(k * h * w) + p] * x[(k * h * w) + p];
                    }
                }

                double expected = x[(ch * h * w) + p] / Math.Pow(bias + (alpha / size * sq), beta);
                AssertClose(expected, y[(ch * h * w) + p], 1e-5, $"LRN channel {ch} pixel {p}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LpNormalizationAlongTheMiddleAxis(int p)
    {
        float[] x = Random(3 * 7 * 2, 5);
        x[0] = 0;
        x[2] = 0;
        x[4] = 0;
        using OnnxSession s = new GraphBuilder(13).Input("x", TensorElementType.Float32, 3, 7, 2)
            .Node("LpNormalization", ["x"], ["y"], ("axis", 1), ("p", p)).Output("y", TensorElementType.Float32, 3, 7, 2).Session();
        float[] y = s.RunFloats(("x", new OnnxTensor<float>(x, [3, 7, 2])));
        for (int a = 0; a < 3; a++)
        {
            for (int b = 0; b < 2; b++)
            {
                double norm = 0;
                for (int k = 0; k < 7; k++)
                {
                    double v = x[(a * 14) + (k * 2) + b];
                    norm += p == 1 ? Math.Abs(v) : v * v;
                }

                norm = p == 1 ? norm : Math.Sqrt(norm);
                for (int k = 0; k < 7; k++)
                {
                    int i = (a * 14) + (k * 2) + b;
                    AssertClose(norm == 0 ? 0 : x[i] / norm, y[i], 1e-5, $"LpNormalization p={p} at {i}");
                }
            }
        }
    }

    [Theory]
    [InlineData("DCR")]
    [InlineData("CRD")]
    public void DepthToSpaceAndBackWithSpaceToDepth(string mode)
    {
        const int c = 3, h = 2, w = 3, bs = 2;
        float[] x = Enumerable.Range(0, 1 * c * bs * bs * h * w).Select(i => (float)i).ToArray();
        using OnnxSession s = new GraphBuilder(13).Input("x", TensorElementType.Float32, 1, c * bs * bs, h, w)
            .Node("DepthToSpace", ["x"], ["y"], ("blocksize", bs), ("mode", mode)).Output("y", TensorElementType.Float32, 1, c, h * bs, w * bs).Session();
        float[] y = s.RunFloats(("x", new OnnxTensor<float>(x, [1, c * bs * bs, h, w])));
        for (int ch = 0; ch < c; ch++)
        {
            for (int oy = 0; oy < h * bs; oy++)
            {
                for (int ox = 0; ox < w * bs; ox++)
                {
                    int by = oy % bs, bx = ox % bs;
                    int inC = mode == "DCR" ? (((by * bs) + bx) * c) + ch : (ch * bs * bs) + (by * bs) + bx;
                    float expected = x[(((inC * h) + (oy / bs)) * w) + (ox / bs)];
                    Assert.Equal(expected, y[(((ch * h * bs) + oy) * w * bs) + ox]);
                }
            }
        }

        if (mode == "DCR")
        {
            // SpaceToDepth is DepthToSpace(DCR)'s inverse.
            using OnnxSession back = new GraphBuilder(13).Input("y", TensorElementType.Float32, 1, c, h * bs, w * bs)
                .Node("SpaceToDepth", ["y"], ["x"], ("blocksize", bs)).Output("x", TensorElementType.Float32, 1, c * bs * bs, h, w).Session();
            Assert.Equal(x, back.RunFloats(("y", new OnnxTensor<float>(y, [1, c, h * bs, w * bs]))));
        }
    }

    [Fact]
    public void GatherElementsWithNegativeIndicesOnAxis1()
    {
        float[] data = Enumerable.Range(0, 3 * 4).Select(i => (float)i).ToArray();
        long[] indices = [0, -1, 2, 1, 3, 3, -4, 0, 1];
        using OnnxSession s = new GraphBuilder(13).Input("d", TensorElementType.Float32, 3, 4).Initializer("i", indices, 3, 3)
            .Node("GatherElements", ["d", "i"], ["y"], ("axis", 1)).Output("y", TensorElementType.Float32, 3, 3).Session();
        float[] y = s.RunFloats(("d", new OnnxTensor<float>(data, [3, 4])));
        for (int r = 0; r < 3; r++)
        {
            for (int k = 0; k < 3; k++)
            {
                long j = indices[(r * 3) + k];
                Assert.Equal(data[(r * 4) + (int)(j < 0 ? j + 4 : j)], y[(r * 3) + k]);
            }
        }
    }

    [Theory]
    [InlineData(0f, 5f, 1.5f)]
    [InlineData(10f, 1f, -3f)]
    [InlineData(2f, 2f, 1f)]
    public void RangeHasCeilOfSpanOverDeltaElements(float start, float limit, float delta)
    {
        using OnnxSession s = new GraphBuilder(13).Initializer("s", [start], []).Initializer("l", [limit], []).Initializer("d", [delta], [])
            .Input("unused", TensorElementType.Float32, 1).Node("Range", ["s", "l", "d"], ["y"]).Output("y", TensorElementType.Float32).Session(
                new OnnxSessionOptions { IntraOpThreads = 1, EnableConstantFolding = false });
        float[] y = s.RunFloats(("unused", new OnnxTensor<float>([0f], [1])));
        int count = Math.Max(0, (int)Math.Ceiling((limit - start) / delta));
        Assert.Equal(count, y.Length);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(start + (i * delta), y[i], 5);
        }
    }

    [Fact]
    public void ReductionsOverTwoAxesWithAndWithoutKeepDims()
    {
        const int a = 3, b = 4, c = 5;
        float[] x = Random(a * b * c, 6, 1.2f);
        (string Op, Func<IReadOnlyList<double>, double> F)[] cases =
        [
            ("ReduceLogSumExp", v => Math.Log(v.Sum(Math.Exp))),
            ("ReduceProd", v => v.Aggregate(1.0, (p, q) => p * q)),
            ("ReduceSumSquare", v => v.Sum(q => q * q)),
            ("ReduceMin", v => v.Min()),
        ];
        foreach ((string op, Func<IReadOnlyList<double>, double> f) in cases)
        {
            foreach (int keep in new[] { 0, 1 })
            {
                using OnnxSession s = new GraphBuilder(13).Input("x", TensorElementType.Float32, a, b, c)
                    .Node(op, ["x"], ["y"], ("axes", new long[] { 0, -1 }), ("keepdims", keep)).Output("y", TensorElementType.Float32).Session();
                OnnxTensor t = s.RunOne(("x", new OnnxTensor<float>(x, [a, b, c])));
                Assert.Equal(keep == 1 ? new[] { 1, b, 1 } : new[] { b }, t.Shape.ToArray());
                float[] y = t.As<float>().ToArray();
                for (int j = 0; j < b; j++)
                {
                    var values = new List<double>();
                    for (int i = 0; i < a; i++)
                    {
                        for (int k = 0; k < c; k++)
                        {
                            values.Add(x[(((i * b) + j) * c) + k]);
                        }
                    }

                    AssertClose(f(values), y[j], 1e-4, $"{op} keepdims={keep} column {j}");
                }
            }
        }
    }

    [Fact]
    public void ArgMinSelectsFirstOrLastOccurrence()
    {
        float[] x = [3, 1, 2, 1, 5, 0, 0, 4];
        foreach (int last in new[] { 0, 1 })
        {
            using OnnxSession s = new GraphBuilder(13).Input("x", TensorElementType.Float32, 2, 4)
                .Node("ArgMin", ["x"], ["y"], ("axis", 1), ("select_last_index", last)).Output("y", TensorElementType.Int64).Session();
            long[] y = s.RunOne(("x", new OnnxTensor<float>(x, [2, 4]))).As<long>().ToArray();
            Assert.Equal(last == 1 ? new long[] { 3, 2 } : new long[] { 1, 1 }, y);
        }
    }

    [Fact]
    public void VariadicSumMeanMaxMinBroadcastThreeInputs()
    {
        float[] a = Random(2 * 3, 7), b = Random(3, 8), c = Random(2 * 1, 9);
        foreach (string op in new[] { "Sum", "Mean", "Max", "Min" })
        {
            using OnnxSession s = new GraphBuilder(13).Input("a", TensorElementType.Float32, 2, 3).Input("b", TensorElementType.Float32, 3)
                .Input("c", TensorElementType.Float32, 2, 1).Node(op, ["a", "b", "c"], ["y"]).Output("y", TensorElementType.Float32, 2, 3).Session();
            float[] y = s.RunFloats(("a", new OnnxTensor<float>(a, [2, 3])), ("b", new OnnxTensor<float>(b, [3])), ("c", new OnnxTensor<float>(c, [2, 1])));
            for (int i = 0; i < 2; i++)
            {
                for (int j = 0; j < 3; j++)
                {
                    double[] v = [a[(i * 3) + j], b[j], c[i]];
                    double expected = op switch { "Sum" => v.Sum(), "Mean" => v.Average(), "Max" => v.Max(), _ => v.Min() };
                    AssertClose(expected, y[(i * 3) + j], 1e-6, $"{op}[{i},{j}]");
                }
            }
        }
    }

    [Fact]
    public void LogicalOperatorsAndComparisons()
    {
        bool[] p = [true, true, false, false, true], q = [true, false, true, false, false];
        (string Op, Func<bool, bool, bool> F)[] cases = [("And", (u, v) => u && v), ("Or", (u, v) => u || v), ("Xor", (u, v) => u ^ v)];
        foreach ((string op, Func<bool, bool, bool> f) in cases)
        {
            using OnnxSession s = new GraphBuilder(13).Input("p", TensorElementType.Bool, 5).Input("q", TensorElementType.Bool, 5)
                .Node(op, ["p", "q"], ["y"]).Output("y", TensorElementType.Bool, 5).Session();
            bool[] y = s.RunOne(("p", new OnnxTensor<bool>(p, [5])), ("q", new OnnxTensor<bool>(q, [5]))).As<bool>().ToArray();
            Assert.Equal(p.Zip(q, f).ToArray(), y);
        }

        using OnnxSession not = new GraphBuilder(13).Input("p", TensorElementType.Bool, 5).Node("Not", ["p"], ["y"]).Output("y", TensorElementType.Bool, 5).Session();
        Assert.Equal(p.Select(v => !v).ToArray(), not.RunOne(("p", new OnnxTensor<bool>(p, [5]))).As<bool>().ToArray());

        float[] x = [-1, 0, 1, 2, 2], z = [0, 0, 0, 2, 3];
        (string Op, Func<float, float, bool> F)[] compares =
        [
            ("Greater", (u, v) => u > v), ("GreaterOrEqual", (u, v) => u >= v), ("Less", (u, v) => u < v), ("LessOrEqual", (u, v) => u <= v),
        ];
        foreach ((string op, Func<float, float, bool> f) in compares)
        {
            using OnnxSession s = new GraphBuilder(13).Input("x", TensorElementType.Float32, 5).Input("z", TensorElementType.Float32, 5)
                .Node(op, ["x", "z"], ["y"]).Output("y", TensorElementType.Bool, 5).Session();
            bool[] y = s.RunOne(("x", new OnnxTensor<float>(x, [5])), ("z", new OnnxTensor<float>(z, [5]))).As<bool>().ToArray();
            Assert.Equal(x.Zip(z, f).ToArray(), y);
        }
    }

    /// <summary>Abramowitz-Stegun 7.1.26 is too coarse for a reference; this uses the series/continued fraction
    /// split, accurate to ~1e-12 over the range the tests use.</summary>
    private static double Erf(double x)
    {
        double ax = Math.Abs(x);
        double result;
        if (ax < 3)
        {
            // Maclaurin series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)).
            double sum = 0, term = ax;
            for (int n = 0; n < 200; n++)
            {
                double add = term / ((2 * n) + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17)
                {
                    break;
                }

                term *= -ax * ax / (n + 1);
            }

            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // Continued fraction for erfc, evaluated bottom-up.
            double f = 0;
            for (int k = 60; k >= 1; k--)
            {
                f = k / 2.0 / (ax + f);
            }

            result = 1 - (Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f));
        }

        return x < 0 ? -result : result;
    }
}
