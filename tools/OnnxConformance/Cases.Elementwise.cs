using DefectDetection.Onnx.Model.Proto;
using DataType = DefectDetection.Onnx.Model.Proto.TensorProto.Types.DataType;

namespace OnnxConformance;

/// <summary>Element-wise binary, variadic and unary operators, activations and softmax.</summary>
internal static partial class Cases
{
    // Broadcast patterns (A shape, B shape) exercised by the binary operators.
    private static readonly (string Name, int[] A, int[] B)[] Broadcasts =
    [
        ("same", [2, 3, 4], [2, 3, 4]),
        ("scalar", [2, 3, 4], []),
        ("trailing", [2, 3, 4], [4]),
        ("middle", [2, 3, 4], [3, 1]),
        ("two_way", [2, 1, 4], [1, 3, 1]),
        ("nchw_channel", [2, 3, 4, 5], [3, 1, 1]),
        ("left_smaller", [4], [2, 3, 4]),
    ];

    private static IEnumerable<CaseDef> Elementwise()
    {
        // Arithmetic: every op over every broadcast pattern for Add and Mul, a subset for the others.
        foreach (string op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min" })
        {
            foreach ((string bname, int[] a, int[] b) in Broadcasts)
            {
                if (op is not ("Add" or "Mul") && bname is not ("same" or "scalar" or "two_way" or "nchw_channel"))
                {
                    continue;
                }

                yield return new($"{op.ToLowerInvariant()}_{bname}", 13, c =>
                {
                    c.Description = $"{op} [{string.Join(",", a)}] with [{string.Join(",", b)}]";
                    // Pow: positive base; Div: divisor away from zero.
                    (float lo, float hi) ra = op == "Pow" ? (0.2f, 2f) : (-2f, 2f);
                    (float lo, float hi) rb = op switch { "Pow" => (-2f, 2f), "Div" => (0.5f, 2f), _ => (-2f, 2f) };
                    string x = c.InputF("a", a, ra.lo, ra.hi);
                    string y = bname == "nchw_channel" ? c.InitF("b", b, rb.lo, rb.hi) : c.InputF("b", b, rb.lo, rb.hi);
                    c.Output(c.Node(op, [x, y]));
                });
            }
        }

        yield return new("add_same_input_twice", 13, c =>
        {
            c.Description = "Add x + x (one tensor feeding both inputs)";
            string x = c.InputF("x", [3, 5]);
            c.Output(c.Node("Add", [x, x]));
        });
        yield return new("add_opset7", 7, c =>
        {
            string x = c.InputF("a", [2, 3, 4]);
            c.Output(c.Node("Add", [x, c.InitF("b", [3, 1])]));
        });
        yield return new("mul_int64", 13, c =>
        {
            c.Description = "Mul on int64 (shape arithmetic)";
            string x = c.Input("a", TensorData.I64(c.Rng.Longs(6, -50, 50), 2, 3));
            c.Output(c.Node("Mul", [x, c.Init("b", TensorData.I64([3, -2, 7], 3))]), DataType.Int64);
        });
        yield return new("div_int64_truncates", 13, c =>
        {
            c.Description = "Div on int64 rounds toward zero";
            string x = c.Input("a", TensorData.I64([7, -7, 9, -9, 100, 1], 6));
            c.Output(c.Node("Div", [x, c.Init("b", TensorData.I64([2, 2, -4, -4, 7, 3], 6))]), DataType.Int64);
        });
        yield return new("add_int32", 13, c =>
        {
            string x = c.Input("a", TensorData.I32(c.Rng.Ints(12, -1000, 1000), 3, 4));
            c.Output(c.Node("Add", [x, c.Input("b", TensorData.I32(c.Rng.Ints(4, -1000, 1000), 4))]), DataType.Int32);
        });

        // Comparisons and logic.
        foreach (string op in new[] { "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual" })
        {
            yield return new($"{op.ToLowerInvariant()}_broadcast", 13, c =>
            {
                c.Description = $"{op} with broadcasting on small integer-valued floats (so equality occurs)";
                float[] av = c.Rng.Ints(24, -2, 2).Select(v => (float)v).ToArray();
                float[] bv = c.Rng.Ints(4, -2, 2).Select(v => (float)v).ToArray();
                string x = c.Input("a", TensorData.F32(av, 2, 3, 4));
                string y = c.Input("b", TensorData.F32(bv, 4));
                c.Output(c.Node(op, [x, y]), DataType.Bool);
            });
        }

        foreach (string op in new[] { "And", "Or", "Xor" })
        {
            yield return new($"{op.ToLowerInvariant()}_broadcast", 13, c =>
            {
                string x = c.Input("a", TensorData.Bool(c.Rng.Bools(12), 3, 4));
                string y = c.Input("b", TensorData.Bool(c.Rng.Bools(4), 4));
                c.Output(c.Node(op, [x, y]), DataType.Bool);
            });
        }

        yield return new("not", 13, c => c.Output(c.Node("Not", [c.Input("x", TensorData.Bool(c.Rng.Bools(10), 2, 5))]), DataType.Bool));

        // Variadic.
        foreach (string op in new[] { "Sum", "Mean", "Max", "Min" })
        {
            yield return new($"{op.ToLowerInvariant()}_variadic3", 13, c =>
            {
                c.Description = $"{op} of three inputs with broadcasting";
                c.Output(c.Node(op, [c.InputF("a", [2, 3, 4]), c.InputF("b", [3, 1]), c.InputF("c", [4])]));
            });
        }

        yield return new("sum_single_input", 13, c => c.Output(c.Node("Sum", [c.InputF("a", [2, 3])])));

        // Unary math.
        foreach ((string op, float lo, float hi) in new (string, float, float)[]
        {
            ("Abs", -2, 2), ("Neg", -2, 2), ("Exp", -3, 3), ("Log", 0.05f, 5), ("Sqrt", 0, 4), ("Reciprocal", 0.3f, 3),
            ("Floor", -3, 3), ("Ceil", -3, 3), ("Round", -3, 3), ("Sign", -2, 2), ("Erf", -2, 2), ("Sin", -3, 3),
            ("Cos", -3, 3), ("Tanh", -3, 3), ("Sigmoid", -6, 6), ("Relu", -2, 2), ("Softplus", -4, 4),
            ("Softsign", -3, 3), ("Identity", -2, 2), ("Atan", -3, 3),
        })
        {
            yield return new($"unary_{op.ToLowerInvariant()}", 13, c =>
            {
                c.Description = $"{op} on [{lo}, {hi})";
                c.Output(c.Node(op, [c.InputF("x", [2, 3, 5], lo, hi)]));
            });
        }

        yield return new("round_half_to_even", 13, c =>
        {
            c.Description = "Round: halves go to the even neighbour";
            c.Output(c.Node("Round", [c.Input("x", TensorData.F32([-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 0.49999997f], 8))]));
        });

        // Activations with attributes.
        static CaseDef Act(string name, int opset, string op, float lo, float hi, params AttributeProto[] attrs) =>
            new(name, opset, c =>
            {
                c.Description = op;
                c.Output(c.Node(op, [c.InputF("x", [2, 4, 3, 3], lo, hi)], attrs));
            });

        yield return Act("leakyrelu_default", 13, "LeakyRelu", -2, 2);
        yield return Act("leakyrelu_alpha0.1", 13, "LeakyRelu", -2, 2, A.F("alpha", 0.1f));
        yield return Act("elu_alpha0.5", 13, "Elu", -3, 2, A.F("alpha", 0.5f));
        yield return Act("selu_default", 13, "Selu", -3, 2);
        yield return Act("celu_alpha2", 13, "Celu", -3, 2, A.F("alpha", 2f));
        yield return Act("hardsigmoid_default", 13, "HardSigmoid", -4, 4);
        yield return Act("hardsigmoid_alpha_beta", 13, "HardSigmoid", -4, 4, A.F("alpha", 1f / 6), A.F("beta", 0.5f));
        yield return Act("hardswish", 14, "HardSwish", -4, 4);
        yield return Act("thresholdedrelu", 13, "ThresholdedRelu", -2, 2, A.F("alpha", 0.5f));
        yield return Act("mish", 18, "Mish", -4, 4);
        yield return Act("gelu_exact", 20, "Gelu", -3, 3);
        yield return Act("gelu_tanh", 20, "Gelu", -3, 3, A.S("approximate", "tanh"));
        yield return Act("clip_opset7_attrs", 7, "Clip", -8, 8, A.F("min", 0f), A.F("max", 6f));
        yield return new("clip_min_max_inputs", 13, c =>
        {
            c.Description = "Clip with min and max as inputs (ReLU6)";
            c.Output(c.Node("Clip", [c.InputF("x", [2, 3, 4], -8, 8), c.Scalar("min", TensorData.F32([0f])), c.Scalar("max", TensorData.F32([6f]))]));
        });
        yield return new("clip_min_only", 13, c =>
            c.Output(c.Node("Clip", [c.InputF("x", [2, 3, 4], -2, 2), c.Scalar("min", TensorData.F32([-0.5f]))])));
        yield return new("clip_max_only", 13, c =>
            c.Output(c.Node("Clip", [c.InputF("x", [2, 3, 4], -2, 2), string.Empty, c.Scalar("max", TensorData.F32([0.25f]))])));
        yield return new("clip_no_bounds", 13, c => c.Output(c.Node("Clip", [c.InputF("x", [2, 3, 4])])));
        yield return new("prelu_channel_slope", 13, c =>
        {
            c.Description = "PRelu with a per-channel slope [C,1,1]";
            c.Output(c.Node("PRelu", [c.InputF("x", [2, 4, 3, 3], -2, 2), c.InitF("slope", [4, 1, 1], 0, 0.5f)]));
        });
        yield return new("prelu_scalar_slope", 13, c =>
            c.Output(c.Node("PRelu", [c.InputF("x", [2, 4, 3], -2, 2), c.InitF("slope", [1], 0.1f, 0.3f)])));
        yield return new("dropout_inference", 13, c =>
        {
            c.Description = "Dropout in inference is the identity";
            c.Output(c.Node("Dropout", [c.InputF("x", [2, 5])]));
        });

        // Softmax family: opset < 13 flattens to 2-D at the axis; opset >= 13 works along one axis.
        foreach (string op in new[] { "Softmax", "LogSoftmax" })
        {
            string lower = op.ToLowerInvariant();
            foreach (int opset in new[] { 11, 13 })
            {
                foreach (int? axis in new int?[] { null, 0, 1, 2, -1 })
                {
                    string axisName = axis is null ? "default" : axis < 0 ? $"m{-axis}" : axis.ToString()!;
                    yield return new($"{lower}_opset{opset}_axis_{axisName}", opset, c =>
                    {
                        c.Description = $"{op} opset {opset} axis {(axis is null ? "default" : axis)} on [2,3,4]";
                        AttributeProto[] attrs = axis is null ? [] : [A.I("axis", axis.Value)];
                        c.Output(c.Node(op, [c.InputF("x", [2, 3, 4], -4, 4)], attrs));
                    });
                }
            }
        }

        yield return new("softmax_large_values", 13, c =>
        {
            c.Description = "Softmax must subtract the maximum (inputs up to 1000)";
            c.Output(c.Node("Softmax", [c.Input("x", TensorData.F32([1000f, 999f, 998f, -1000f, 0f, 1f, 500f, 501f], 2, 4))]));
        });
        yield return new("softmax_1000_classes", 13, c =>
        {
            c.Description = "Softmax over 1000 logits (classifier head)";
            c.Output(c.Node("Softmax", [c.InputF("x", [2, 1000], -8, 8)]));
        });
    }
}
