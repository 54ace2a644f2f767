using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels;

namespace DefectDetection.Onnx.Runtime;

/// <summary>
/// Decides whether a graph is batch-separable for one input-shape signature: whether running contiguous slices of the
/// batch (dimension 0 of every input) separately and stacking their outputs gives the unsplit result. The check is a
/// whitelist; anything not listed, or listed but used along dimension 0, makes the graph not separable.
/// <para>
/// A value is "batched" when it depends on a graph input; every graph input is batched (rank at least 1, dimension 0
/// the slice's item count). A node with no batched input computes the same value in every slice. A node with a
/// batched input must be one of:
/// </para>
/// <list type="bullet">
/// <item>element-wise operators (unary, binary and variadic with broadcasting, Where, Clip, Cast, Identity, Dropout,
/// QLinearAdd, IntegerToFloat): every batched input has the output's rank, every other input a lower rank or
/// dimension 0 of size 1;</item>
/// <item>per-item operators with only the data input batched: Conv, ConvTranspose (output_shape spatial only),
/// ConvInteger, QLinearConv, MaxPool (without Indices), AveragePool, GlobalAveragePool, GlobalMaxPool,
/// BatchNormalization (inference), InstanceNormalization, GroupNormalization, LRN, SpaceToDepth, DepthToSpace;</item>
/// <item>row operators with only input A batched: Gemm (transA = 0, C without a batch of its own), MatMul, MatMulInteger,
/// QLinearMatMul, QGemm (A rank at least 2, A's quantisation parameters per tensor, B not broadcast over dimension 0);</item>
/// <item>QuantizeLinear / DequantizeLinear per tensor or per axis other than 0 (not blocked);</item>
/// <item>axis operators away from axis 0: Softmax, LogSoftmax, LayerNormalization, LpNormalization, Flatten (axis at
/// least 1), Concat (all inputs batched), Split, Gather (or Gather on axis 0 of an unbatched table with batched
/// indices), GatherElements, ArgMax, ArgMin, TopK, Transpose (perm[0] = 0), Squeeze and Unsqueeze (constant axes
/// without 0), reductions (constant axes without 0);</item>
/// <item>shape operators with constant parameters that keep dimension 0: Reshape (target dimension 0 is 0 or -1, the
/// item size unchanged), Expand and Tile (nothing added or repeated on dimension 0), Pad (no padding on dimension 0),
/// Slice (dimension 0 untouched or taken whole), Resize and Upsample (scale 1 on dimension 0, no sizes input).</item>
/// </list>
/// <para>
/// Shape, Size, ConstantOfShape, Range, NonMaxSuppression, DynamicQuantizeLinear and every other operator on a batched
/// value make the graph not separable. Every session output (extra outputs included) must be batched and produced by a
/// node. Finally every batched value's dimension 0 must equal the slice's item count in the recorded plan. Nodes that no
/// output depends on are ignored.
/// </para>
/// </summary>
internal static class BatchSeparability
{
    private static readonly HashSet<string> ElementWise = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Equal", "Greater", "Less", "And", "Or", "Xor", "GreaterOrEqual",
        "LessOrEqual", "Max", "Min", "Sum", "Mean", "Where", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Erf",
        "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "Tanh", "Floor", "Ceil", "Softplus", "Elu", "Selu", "Not", "Sin",
        "Cos", "Atan", "Sign", "Softsign", "ThresholdedRelu", "Celu", "Mish", "Gelu", "HardSwish", "Round", "Clip",
        "Identity", "Dropout", "Cast",
    };

    private static readonly HashSet<string> PerItem = new(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "GlobalAveragePool",
        "GlobalMaxPool", "BatchNormalization", "InstanceNormalization", "GroupNormalization", "LRN", "SpaceToDepth",
        "DepthToSpace",
    };

    private static readonly HashSet<string> Reductions = new(StringComparer.Ordinal)
    {
        "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
        "ReduceLogSumExp",
    };

    /// <summary>
    /// Checks the graph against the shapes recorded for a slice of <paramref name="count"/> items.
    /// </summary>
    /// <returns>Null when separable, otherwise why not.</returns>
    public static string? Check(SessionCore core, ValuePlan[] values, int count)
    {
        var batched = new bool[core.ValueCount];
        foreach (int i in core.InputIndices)
        {
            if (values[i].Shape.Length == 0 || values[i].Shape[0] != count)
            {
                return "an input has no batch dimension";
            }

            batched[i] = true;
        }

        // Nodes no output depends on do not matter (their values in a slice are never read).
        var needed = new bool[core.ValueCount];
        var live = new bool[core.Kernels.Length];
        foreach (int o in core.OutputIndices)
        {
            needed[o] = true;
        }

        for (int k = core.Kernels.Length - 1; k >= 0; k--)
        {
            if (Array.Exists(core.NodeOutputs[k], o => needed[o]))
            {
                live[k] = true;
                foreach (int i in core.NodeInputs[k])
                {
                    if (i >= 0)
                    {
                        needed[i] = true;
                    }
                }
            }
        }

        var checker = new NodeChecker(core, values, batched);
        for (int k = 0; k < core.Kernels.Length; k++)
        {
            int[] ins = core.NodeInputs[k];
            if (!live[k] || !Array.Exists(ins, i => i >= 0 && batched[i]))
            {
                continue;
            }

            GraphNode node = core.Kernels[k].Node;
            string? why = checker.CheckNode(node, ins, core.NodeOutputs[k]);
            if (why is not null)
            {
                return $"{node.OpType} '{node.Name}': {why}";
            }

            foreach (int o in core.NodeOutputs[k])
            {
                ValuePlan vp = values[o];
                if (vp.ByteSize == 0 && vp.Shape.Length == 0)
                {
                    continue; // an optional output the kernel did not produce
                }

                if (vp.Shape.Length == 0 || vp.Shape[0] != count)
                {
                    return $"{node.OpType} '{node.Name}': an output's dimension 0 is not the batch";
                }

                batched[o] = true;
            }
        }

        foreach (int o in core.OutputIndices)
        {
            if (!batched[o] || Array.IndexOf(core.InputIndices, o) >= 0)
            {
                return $"output '{core.OutputNames[Array.IndexOf(core.OutputIndices, o)]}' is not computed per batch item";
            }
        }

        return null;
    }

    /// <summary>The per-node rules; reads constant parameters from initializers or Constant nodes.</summary>
    private sealed class NodeChecker(SessionCore core, ValuePlan[] values, bool[] batched)
    {
        private Dictionary<int, GraphNode>? _constantNodes;

        public string? CheckNode(GraphNode node, int[] ins, int[] outs)
        {
            string op = node.OpType;
            if (node.Domain == KernelRegistry.MicrosoftDomain)
            {
                return op switch
                {
                    "QLinearAdd" => ElementWiseRule(ins, outs),
                    "QLinearConv" => OnlyBatched(ins, 0),
                    "QGemm" => node.GetInt("transA", 0) != 0 ? "transA" : RowRule(ins, a: 0, b: 3, aParams: [1, 2], c: 6),
                    _ => "not a known batch-separable operator",
                };
            }

            if (node.Domain == KernelRegistry.InternalDomain)
            {
                return op == "IntegerToFloat" ? ElementWiseRule(ins, outs) : "not a known batch-separable operator";
            }

            if (node.Domain.Length != 0 && node.Domain != "ai.onnx")
            {
                return "not a known batch-separable operator";
            }

            if (ElementWise.Contains(op))
            {
                return ElementWiseRule(ins, outs);
            }

            int rank0 = Rank(ins[0]);

            if (PerItem.Contains(op))
            {
                if (op == "MaxPool" && CountOutputs(node) > 1)
                {
                    return "MaxPool indices count across the batch";
                }

                if (op == "BatchNormalization" && (node.GetInt("training_mode", 0) != 0 || CountOutputs(node) > 1))
                {
                    return "training mode";
                }

                if (op == "ConvTranspose" && node.GetInts("output_shape") is { } outputShape && outputShape.Length > rank0 - 2)
                {
                    return "output shape with a batch dimension";
                }

                return OnlyBatched(ins, 0);
            }

            if (Reductions.Contains(op))
            {
                return ReductionRule(node, ins);
            }

            switch (op)
            {
                case "Gemm":
                    return node.GetInt("transA", 0) != 0 ? "transA" : RowRule(ins, a: 0, b: 1, aParams: [], c: 2);
                case "MatMul":
                    return RowRule(ins, a: 0, b: 1, aParams: [], c: -1);
                case "MatMulInteger":
                    return RowRule(ins, a: 0, b: 1, aParams: [2], c: -1);
                case "QLinearMatMul":
                    return RowRule(ins, a: 0, b: 3, aParams: [1, 2], c: -1);
                case "QuantizeLinear":
                case "DequantizeLinear":
                    {
                        string? why = OnlyBatched(ins, 0);
                        if (why is not null || node.GetInt("block_size", 0) > 0)
                        {
                            return why ?? "blocked quantisation";
                        }

                        return ElementCount(ins[1]) > 1 && Normalize(node.GetInt("axis", 1), rank0) == 0 ? "quantised per item" : null;
                    }

                case "Softmax":
                case "LogSoftmax":
                    return OnlyBatched(ins, 0) ?? AxisNotZero(node.GetInt("axis", node.Opset < 13 ? 1 : -1), rank0);
                case "LayerNormalization":
                case "LpNormalization":
                    return OnlyBatched(ins, 0) ?? AxisNotZero(node.GetInt("axis", -1), rank0);
                case "Flatten":
                    return OnlyBatched(ins, 0) ?? AxisNotZero(node.GetInt("axis", 1), rank0);
                case "ArgMax":
                case "ArgMin":
                    return OnlyBatched(ins, 0) ?? AxisNotZero(node.GetInt("axis", 0), rank0);
                case "TopK":
                    return OnlyBatched(ins, 0) ?? AxisNotZero(node.GetInt("axis", -1), rank0);
                case "Split":
                    return OnlyBatched(ins, 0) ?? AxisNotZero(node.GetInt("axis", 0), rank0);
                case "Concat":
                    return Array.TrueForAll(ins, i => i >= 0 && batched[i]) ? AxisNotZero(node.GetInt("axis", 0), rank0) : "an unbatched input";
                case "GatherElements":
                    return IsBatched(ins[0]) && IsBatched(ins[1]) ? AxisNotZero(node.GetInt("axis", 0), rank0) : "an unbatched input";
                case "Gather":
                    {
                        long axis = Normalize(node.GetInt("axis", 0), rank0);
                        if (IsBatched(ins[0]) && !IsBatched(ins[1]))
                        {
                            return axis > 0 ? null : "gathers along dimension 0";
                        }

                        return !IsBatched(ins[0]) && axis == 0 ? null : "batched indices into batched data";
                    }

                case "Transpose":
                    {
                        long[]? perm = node.GetInts("perm");
                        return OnlyBatched(ins, 0) ?? ((perm is null ? rank0 <= 1 : perm.Length > 0 && perm[0] == 0) ? null : "moves dimension 0");
                    }

                case "Squeeze":
                case "Unsqueeze":
                    {
                        long[]? axes = node.Opset < 13 ? node.GetInts("axes") : Constant(ins, 1);
                        if (OnlyBatched(ins, 0) is { } why)
                        {
                            return why;
                        }

                        if (axes is null)
                        {
                            return "axes not constant";
                        }

                        int rank = op == "Squeeze" ? rank0 : rank0 + axes.Length;
                        return Array.Exists(axes, a => Normalize(a, rank) == 0) ? "acts on dimension 0" : null;
                    }

                case "Reshape":
                    return ReshapeRule(node, ins, outs);
                case "Expand":
                    {
                        long[]? shape = Constant(ins, 1);
                        return OnlyBatched(ins, 0) ?? (shape is not null && (shape.Length < rank0 || (shape.Length == rank0 && shape[0] == 1)) ? null : "expands dimension 0");
                    }

                case "Tile":
                    {
                        long[]? repeats = Constant(ins, 1);
                        return OnlyBatched(ins, 0) ?? (repeats is { Length: > 0 } && repeats[0] == 1 ? null : "repeats dimension 0");
                    }

                case "Pad":
                    {
                        long[]? pads = node.Opset < 11 ? node.GetInts("pads") : Constant(ins, 1);
                        if (OnlyBatched(ins, 0) is { } why)
                        {
                            return why;
                        }

                        bool axesGiven = ins.Length > 3 && ins[3] >= 0;
                        return !axesGiven && pads is not null && pads.Length == 2 * rank0 && pads[0] == 0 && pads[rank0] == 0 ? null : "pads dimension 0";
                    }

                case "Slice":
                    return SliceRule(node, ins, rank0);
                case "Resize":
                case "Upsample":
                    {
                        if (OnlyBatched(ins, 0) is { } why)
                        {
                            return why;
                        }

                        int scalesInput = op == "Upsample" || node.Opset < 11 ? 1 : 2;
                        if (op == "Resize" && node.Opset >= 11 && ins.Length > 3 && ins[3] >= 0)
                        {
                            return "sizes input";
                        }

                        float[]? scales = op == "Upsample" && node.Opset < 9 ? node.GetFloats("scales") : ConstantFloats(ins, scalesInput);
                        return scales is { Length: > 0 } && scales[0] == 1 ? null : "scales dimension 0";
                    }

                default:
                    return "not a known batch-separable operator";
            }
        }

        private static int CountOutputs(GraphNode node) => node.Outputs.Count(o => o.Length > 0);

        private static long Normalize(long axis, int rank) => axis < 0 ? axis + rank : axis;

        private static string? AxisNotZero(long axis, int rank) => Normalize(axis, rank) == 0 ? "acts along dimension 0" : null;

        private bool IsBatched(int i) => i >= 0 && batched[i];

        private int Rank(int i) => i >= 0 ? values[i].Shape.Length : 0;

        private long ElementCount(int i)
        {
            long n = 1;
            foreach (int d in values[i].Shape)
            {
                n *= d;
            }

            return n;
        }

        /// <summary>Only input <paramref name="data"/> may be batched.</summary>
        private string? OnlyBatched(int[] ins, int data)
        {
            for (int i = 0; i < ins.Length; i++)
            {
                if (i != data && IsBatched(ins[i]))
                {
                    return "a parameter input is batched";
                }
            }

            return IsBatched(ins[data]) ? null : "the data input is not batched";
        }

        private string? ElementWiseRule(int[] ins, int[] outs)
        {
            int rank = Rank(outs[0]);
            foreach (int i in ins)
            {
                if (i < 0)
                {
                    continue;
                }

                int r = Rank(i);
                if (batched[i] ? r != rank : r == rank && values[i].Shape[0] != 1)
                {
                    return "broadcasts along dimension 0";
                }
            }

            return null;
        }

        private string? RowRule(int[] ins, int a, int b, int[] aParams, int c)
        {
            for (int i = 0; i < ins.Length; i++)
            {
                if (i != a && IsBatched(ins[i]))
                {
                    return "an operand other than A is batched";
                }
            }

            int rankA = Rank(ins[a]);
            if (!IsBatched(ins[a]) || rankA < 2)
            {
                return "A is not a batch of rows";
            }

            int rankB = Rank(ins[b]);
            if (rankB > 2 && (rankB > rankA || (rankB == rankA && values[ins[b]].Shape[0] != 1)))
            {
                return "B broadcasts along dimension 0";
            }

            foreach (int p in aParams)
            {
                if (p < ins.Length && ins[p] >= 0 && ElementCount(ins[p]) != 1)
                {
                    return "A is quantised per row";
                }
            }

            if (c >= 0 && c < ins.Length && ins[c] >= 0 && Rank(ins[c]) >= 2 && values[ins[c]].Shape[0] != 1)
            {
                return "C has rows of its own";
            }

            return null;
        }

        private string? ReductionRule(GraphNode node, int[] ins)
        {
            if (OnlyBatched(ins, 0) is { } why)
            {
                return why;
            }

            bool axesAsInput = node.OpType == "ReduceSum" ? node.Opset >= 13 : node.Opset >= 18;
            long[]? axes = axesAsInput ? (ins.Length > 1 && ins[1] >= 0 ? Constant(ins, 1) : []) : node.GetInts("axes") ?? [];
            if (axes is null)
            {
                return "axes not constant";
            }

            if (axes.Length == 0)
            {
                return axesAsInput && node.GetInt("noop_with_empty_axes", 0) != 0 ? null : "reduces every dimension";
            }

            int rank = Rank(ins[0]);
            return Array.Exists(axes, a => Normalize(a, rank) == 0) ? "reduces dimension 0" : null;
        }

        private string? ReshapeRule(GraphNode node, int[] ins, int[] outs)
        {
            if (OnlyBatched(ins, 0) is { } why)
            {
                return why;
            }

            long[]? target = Constant(ins, 1);
            if (target is not { Length: > 0 })
            {
                return "target shape not constant";
            }

            bool allowZero = node.GetInt("allowzero", 0) != 0;
            if (!(target[0] == -1 || (target[0] == 0 && !allowZero)))
            {
                return "target fixes dimension 0";
            }

            // Dimension 0 stays the item index only if it is unchanged (the element count is, so the item size is too).
            int[] inShape = values[ins[0]].Shape, outShape = values[outs[0]].Shape;
            return outShape.Length > 0 && outShape[0] == inShape[0] ? null : "merges or splits items";
        }

        private string? SliceRule(GraphNode node, int[] ins, int rank)
        {
            if (OnlyBatched(ins, 0) is { } why)
            {
                return why;
            }

            long[]? starts, ends, axes, steps;
            if (node.Opset < 10)
            {
                starts = node.GetInts("starts");
                ends = node.GetInts("ends");
                axes = node.GetInts("axes");
                steps = null;
            }
            else
            {
                starts = Constant(ins, 1);
                ends = Constant(ins, 2);
                axes = ins.Length > 3 && ins[3] >= 0 ? Constant(ins, 3) : null;
                steps = ins.Length > 4 && ins[4] >= 0 ? Constant(ins, 4) : null;
                if ((ins.Length > 3 && ins[3] >= 0 && axes is null) || (ins.Length > 4 && ins[4] >= 0 && steps is null))
                {
                    return "parameters not constant";
                }
            }

            if (starts is null || ends is null || starts.Length != ends.Length)
            {
                return "parameters not constant";
            }

            for (int j = 0; j < starts.Length; j++)
            {
                long axis = axes is null ? j : Normalize(axes[j], rank);
                if (axis == 0 && !(starts[j] == 0 && ends[j] >= int.MaxValue && (steps is null || steps[j] == 1)))
                {
                    return "slices dimension 0";
                }
            }

            return null;
        }

        /// <summary>The integer values of constant input <paramref name="input"/>, or null when it is not constant.</summary>
        private long[]? Constant(int[] ins, int input)
        {
            TensorValue? v = ConstantValue(ins, input);
            if (v is null || v.Type is TensorElementType.Float32 or TensorElementType.Float16 or TensorElementType.Double)
            {
                return null;
            }

            var r = new long[v.Length];
            for (int i = 0; i < r.Length; i++)
            {
                r[i] = v.GetInt64(i);
            }

            return r;
        }

        private float[]? ConstantFloats(int[] ins, int input)
        {
            TensorValue? v = ConstantValue(ins, input);
            if (v is null || v.Type is not (TensorElementType.Float32 or TensorElementType.Float16 or TensorElementType.Double))
            {
                return null;
            }

            var r = new float[v.Length];
            for (int i = 0; i < r.Length; i++)
            {
                r[i] = v.GetFloat(i);
            }

            return r;
        }

        private TensorValue? ConstantValue(int[] ins, int input)
        {
            if (input >= ins.Length || ins[input] < 0)
            {
                return null;
            }

            int index = ins[input];
            if (core.ConstantValues[index] is { } c)
            {
                return c;
            }

            if (_constantNodes is null)
            {
                _constantNodes = [];
                for (int k = 0; k < core.Kernels.Length; k++)
                {
                    if (core.Kernels[k].Node is { OpType: "Constant", Domain: "" } n && core.NodeOutputs[k].Length == 1)
                    {
                        _constantNodes[core.NodeOutputs[k][0]] = n;
                    }
                }
            }

            if (_constantNodes.TryGetValue(index, out GraphNode? node))
            {
                if (node.Attributes.TryGetValue("value", out NodeAttribute? a) && a.Tensor is not null)
                {
                    return TensorValue.FromTensor(a.Tensor);
                }

                if (node.GetInts("value_ints") is { } ints)
                {
                    return TensorValue.FromTensor(new OnnxTensor<long>(ints, [ints.Length]));
                }

                if (node.GetFloats("value_floats") is { } floats)
                {
                    return TensorValue.FromTensor(new OnnxTensor<float>(floats, [floats.Length]));
                }
            }

            return null;
        }
    }
}
