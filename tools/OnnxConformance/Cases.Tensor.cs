using DataType = DefectDetection.Onnx.Model.Proto.TensorProto.Types.DataType;

namespace OnnxConformance;

/// <summary>Shape and data-movement operators, Cast, Where, Expand, Tile, TopK and NonMaxSuppression.</summary>
internal static partial class Cases
{
    private static IEnumerable<CaseDef> ShapeOps()
    {
        yield return new("reshape_zero_and_minus_one", 13, c =>
        {
            c.Description = "Reshape [2,3,4] to [0,-1] (0 copies the input dim)";
            c.Output(c.Node("Reshape", [c.InputF("x", [2, 3, 4]), c.InitI64("shape", 0, -1)]));
        });
        yield return new("reshape_4d_to_2d", 13, c =>
            c.Output(c.Node("Reshape", [c.InputF("x", [2, 3, 2, 2]), c.InitI64("shape", 6, 4)])));
        yield return new("reshape_shape_input", 14, c =>
        {
            c.Description = "Reshape whose shape is a runtime input";
            c.Output(c.Node("Reshape", [c.InputF("x", [2, 6]), c.Input("shape", TensorData.I64([3, -1, 2], 3))]));
        });
        yield return new("reshape_from_shape_op", 13, c =>
        {
            c.Description = "Shape -> Gather -> Concat -> Reshape (the flatten idiom of exported models)";
            string x = c.InputF("x", [2, 3, 2, 2]);
            string shape = c.Node("Shape", [x]);
            string n = c.Node("Gather", [shape, c.Scalar("zero", TensorData.I64([0]))], A.I("axis", 0));
            string n1 = c.Node("Unsqueeze", [n, c.InitI64("axes0", 0)]);
            string target = c.Node("Concat", [n1, c.InitI64("minus_one", -1)], A.I("axis", 0));
            c.Output(c.Node("Reshape", [x, target]));
        });
        foreach (int axis in new[] { 0, 1, 2, -1 })
        {
            yield return new($"flatten_axis_{(axis < 0 ? "m1" : axis.ToString(System.Globalization.CultureInfo.InvariantCulture))}", 13, c =>
                c.Output(c.Node("Flatten", [c.InputF("x", [2, 3, 2, 2])], A.I("axis", axis))));
        }

        yield return new("flatten_default", 13, c => c.Output(c.Node("Flatten", [c.InputF("x", [2, 3, 2, 2])])));
        yield return new("transpose_default_reverses", 13, c => c.Output(c.Node("Transpose", [c.InputF("x", [2, 3, 4])])));
        yield return new("transpose_nchw_to_nhwc", 13, c => c.Output(c.Node("Transpose", [c.InputF("x", [2, 3, 4, 5])], A.Ints("perm", 0, 2, 3, 1))));
        yield return new("transpose_5d", 13, c => c.Output(c.Node("Transpose", [c.InputF("x", [1, 2, 3, 2, 2])], A.Ints("perm", 0, 2, 1, 4, 3))));
        yield return new("squeeze_opset11_attr", 11, c => c.Output(c.Node("Squeeze", [c.InputF("x", [1, 3, 1, 4])], A.Ints("axes", 0, 2))));
        yield return new("squeeze_opset13_input", 13, c => c.Output(c.Node("Squeeze", [c.InputF("x", [1, 3, 1, 4]), c.InitI64("axes", -2)])));
        yield return new("squeeze_all_ones", 13, c => c.Output(c.Node("Squeeze", [c.InputF("x", [1, 3, 1, 4])])));
        yield return new("unsqueeze_opset11_attr", 11, c => c.Output(c.Node("Unsqueeze", [c.InputF("x", [3, 4])], A.Ints("axes", 0, 3))));
        yield return new("unsqueeze_opset13_negative", 13, c => c.Output(c.Node("Unsqueeze", [c.InputF("x", [3, 4]), c.InitI64("axes", -1, 1)])));
        yield return new("concat_axis1_three", 13, c =>
            c.Output(c.Node("Concat", [c.InputF("a", [2, 1, 3]), c.InputF("b", [2, 4, 3]), c.InitF("c", [2, 2, 3])], A.I("axis", 1))));
        yield return new("concat_axis_negative", 13, c =>
            c.Output(c.Node("Concat", [c.InputF("a", [2, 3, 1]), c.InputF("b", [2, 3, 2])], A.I("axis", -1))));
        yield return new("concat_axis0_int64", 13, c =>
            c.Output(c.Node("Concat", [c.Input("a", TensorData.I64([1, 2], 2)), c.InitI64("b", 3, 4, 5)], A.I("axis", 0)), DataType.Int64));
        yield return new("split_opset11_attr", 11, c =>
        {
            string[] o = c.NodeN("Split", string.Empty, [c.InputF("x", [2, 6])], 3, A.I("axis", 1), A.Ints("split", 1, 2, 3));
            foreach (string s in o)
            {
                c.Output(s);
            }
        });
        yield return new("split_opset13_input", 13, c =>
        {
            string[] o = c.NodeN("Split", string.Empty, [c.InputF("x", [5, 2]), c.InitI64("split", 2, 3)], 2);
            foreach (string s in o)
            {
                c.Output(s);
            }
        });
        yield return new("split_equal_default", 13, c =>
        {
            string[] o = c.NodeN("Split", string.Empty, [c.InputF("x", [2, 6, 2])], 3, A.I("axis", 1));
            foreach (string s in o)
            {
                c.Output(s);
            }
        });
        yield return new("split_opset18_num_outputs_uneven", 18, c =>
        {
            string[] o = c.NodeN("Split", string.Empty, [c.InputF("x", [7, 2])], 3, A.I("num_outputs", 3));
            foreach (string s in o)
            {
                c.Output(s);
            }
        });
        yield return new("slice_basic", 13, c =>
            c.Output(c.Node("Slice", [c.InputF("x", [4, 6]), c.InitI64("starts", 1, 0), c.InitI64("ends", 3, 5)])));
        yield return new("slice_axes_steps", 13, c =>
            c.Output(c.Node("Slice", [c.InputF("x", [2, 3, 8, 8]), c.InitI64("starts", 0, 1), c.InitI64("ends", 8, 8), c.InitI64("axes", 2, 3), c.InitI64("steps", 2, 2)])));
        yield return new("slice_negative_step", 13, c =>
            c.Output(c.Node("Slice", [c.InputF("x", [3, 7]), c.InitI64("starts", -1), c.InitI64("ends", long.MinValue), c.InitI64("axes", 1), c.InitI64("steps", -2)])));
        yield return new("slice_clamped_ends", 13, c =>
            c.Output(c.Node("Slice", [c.InputF("x", [3, 5]), c.InitI64("starts", -100, 2), c.InitI64("ends", long.MaxValue, 1000), c.InitI64("axes", 0, -1)])));
        yield return new("slice_opset9_attrs", 9, c =>
            c.Output(c.Node("Slice", [c.InputF("x", [4, 6])], A.Ints("starts", 1, 2), A.Ints("ends", 3, -1), A.Ints("axes", 0, 1))));
        yield return new("gather_axis0_negative_indices", 13, c =>
            c.Output(c.Node("Gather", [c.InputF("x", [5, 3]), c.Init("idx", TensorData.I64([0, -1, 2, -3], 4))], A.I("axis", 0))));
        yield return new("gather_axis1_2d_indices", 13, c =>
            c.Output(c.Node("Gather", [c.InputF("x", [2, 5, 3]), c.Input("idx", TensorData.I64([4, 0, 1, 1, 3, 2], 2, 3))], A.I("axis", 1))));
        yield return new("gather_scalar_index_int32", 13, c =>
            c.Output(c.Node("Gather", [c.InputF("x", [4, 3]), c.Scalar("idx", TensorData.I32([2]))], A.I("axis", 1))));
        yield return new("gatherelements_axis1", 13, c =>
            c.Output(c.Node("GatherElements", [c.InputF("x", [3, 4]), c.Input("idx", TensorData.I64(c.Rng.Longs(6, -4, 3), 3, 2))], A.I("axis", 1))));
        yield return new("shape", 13, c => c.Output(c.Node("Shape", [c.InputF("x", [2, 3, 4])]), DataType.Int64));
        yield return new("shape_opset15_start_end", 15, c => c.Output(c.Node("Shape", [c.InputF("x", [2, 3, 4, 5])], A.I("start", 1), A.I("end", -1)), DataType.Int64));
        yield return new("size", 13, c => c.Output(c.Node("Size", [c.InputF("x", [2, 3, 4])]), DataType.Int64));
        foreach (string mode in new[] { "constant", "reflect", "edge" })
        {
            yield return new($"pad_{mode}", 13, c =>
            {
                c.Description = $"Pad mode={mode} with asymmetric pads";
                string[] ins = mode == "constant"
                    ? [c.InputF("x", [1, 2, 3, 4]), c.InitI64("pads", 0, 0, 1, 2, 0, 0, 2, 1), c.Scalar("value", TensorData.F32([0.5f]))]
                    : [c.InputF("x", [1, 2, 3, 4]), c.InitI64("pads", 0, 0, 1, 2, 0, 0, 2, 1)];
                c.Output(c.Node("Pad", ins, A.S("mode", mode)));
            });
        }

        yield return new("pad_opset11_default_zero", 11, c =>
            c.Output(c.Node("Pad", [c.InputF("x", [2, 3]), c.InitI64("pads", 1, 0, 0, 2)])));
        yield return new("pad_opset7_attrs", 7, c =>
            c.Output(c.Node("Pad", [c.InputF("x", [2, 3])], A.Ints("pads", 1, 0, 0, 2), A.F("value", -1f))));
        yield return new("pad_opset18_axes", 18, c =>
            c.Output(c.Node("Pad", [c.InputF("x", [2, 3, 4]), c.InitI64("pads", 1, 2, 0, 1), c.Scalar("value", TensorData.F32([0f])), c.InitI64("axes", 1, -1)])));
        yield return new("depthtospace_dcr", 13, c => c.Output(c.Node("DepthToSpace", [c.InputF("x", [1, 8, 2, 3])], A.I("blocksize", 2))));
        yield return new("depthtospace_crd", 13, c => c.Output(c.Node("DepthToSpace", [c.InputF("x", [1, 8, 2, 3])], A.I("blocksize", 2), A.S("mode", "CRD"))));
        yield return new("spacetodepth", 13, c => c.Output(c.Node("SpaceToDepth", [c.InputF("x", [1, 2, 4, 6])], A.I("blocksize", 2))));
        yield return new("constant_tensor", 13, c =>
        {
            c.Description = "Constant with a tensor value, added to an input";
            string k = c.Node("Constant", [], A.T("value", TensorData.F32(c.Rng.Floats(6), 2, 3)));
            c.Output(c.Node("Add", [c.InputF("x", [2, 3]), k]));
        });
        yield return new("constant_value_float_ints", 13, c =>
        {
            c.Description = "Constant with value_float (scalar) and value_ints";
            string f = c.Node("Constant", [], A.F("value_float", 2.5f));
            string shape = c.Node("Constant", [], A.Ints("value_ints", 3, 2));
            c.Output(c.Node("Reshape", [c.Node("Mul", [c.InputF("x", [2, 3]), f]), shape]));
        });
        yield return new("constantofshape", 13, c =>
        {
            string s = c.Node("ConstantOfShape", [c.Input("shape", TensorData.I64([2, 3], 2))], A.T("value", TensorData.F32([1.25f], 1)));
            c.Output(s);
        });
        yield return new("range_float", 13, c =>
            c.Output(c.Node("Range", [c.Scalar("start", TensorData.F32([0.5f])), c.Scalar("limit", TensorData.F32([4f])), c.Scalar("delta", TensorData.F32([0.75f]))])));
        yield return new("range_int64_negative", 13, c =>
            c.Output(c.Node("Range", [c.Scalar("start", TensorData.I64([10])), c.Scalar("limit", TensorData.I64([1])), c.Scalar("delta", TensorData.I64([-3]))]), DataType.Int64));
        yield return new("identity_graph_input_to_output", 13, c =>
        {
            c.Description = "A graph input passed straight through (Identity) and also used";
            string x = c.InputF("x", [2, 2]);
            c.Output(c.Node("Identity", [x]));
            c.Output(c.Node("Relu", [x]));
        });
    }

    private static IEnumerable<CaseDef> Misc()
    {
        foreach ((string name, DataType from, DataType to, Func<Rng, TensorData> data) in new (string, DataType, DataType, Func<Rng, TensorData>)[]
        {
            ("cast_f32_to_i32", DataType.Float, DataType.Int32, r => TensorData.F32(r.Floats(12, -100, 100), 3, 4)),
            ("cast_f32_to_i64", DataType.Float, DataType.Int64, r => TensorData.F32(r.Floats(12, -100, 100), 3, 4)),
            ("cast_f32_to_u8", DataType.Float, DataType.Uint8, r => TensorData.F32(r.Floats(12, 0, 255), 3, 4)),
            ("cast_f32_to_i8", DataType.Float, DataType.Int8, r => TensorData.F32(r.Floats(12, -120, 120), 3, 4)),
            ("cast_f32_to_bool", DataType.Float, DataType.Bool, r => TensorData.F32([0f, 1f, -0.5f, 0f, 2f, 0f], 2, 3)),
            ("cast_i64_to_f32", DataType.Int64, DataType.Float, r => TensorData.I64(r.Longs(12, -100000, 100000), 3, 4)),
            ("cast_u8_to_f32", DataType.Uint8, DataType.Float, r => TensorData.U8(r.Bytes(12), 3, 4)),
            ("cast_bool_to_f32", DataType.Bool, DataType.Float, r => TensorData.Bool(r.Bools(6), 2, 3)),
            ("cast_i32_to_i64", DataType.Int32, DataType.Int64, r => TensorData.I32(r.Ints(6, -1000, 1000), 2, 3)),
            ("cast_f32_to_f16", DataType.Float, DataType.Float16, r => TensorData.F32(r.Floats(12, -10, 10), 3, 4)),
            ("cast_f32_to_f64", DataType.Float, DataType.Double, r => TensorData.F32(r.Floats(12, -10, 10), 3, 4)),
        })
        {
            yield return new(name, 13, c =>
            {
                c.Description = $"Cast {from} -> {to}";
                c.Output(c.Node("Cast", [c.Input("x", data(c.Rng))], A.I("to", (long)to)), to);
            });
        }

        yield return new("where_broadcast", 13, c =>
        {
            c.Description = "Where with a [2,1,4] condition, a [2,3,4] X and a scalar Y";
            c.Output(c.Node("Where", [c.Input("cond", TensorData.Bool(c.Rng.Bools(8), 2, 1, 4)), c.InputF("x", [2, 3, 4]), c.Scalar("y", TensorData.F32([-7f]))]));
        });
        yield return new("where_from_comparison", 13, c =>
        {
            string x = c.InputF("x", [3, 4]);
            string cond = c.Node("Greater", [x, c.Scalar("zero", TensorData.F32([0f]))]);
            c.Output(c.Node("Where", [cond, x, c.InputF("y", [4])]));
        });
        yield return new("expand_broadcast", 13, c =>
            c.Output(c.Node("Expand", [c.InputF("x", [3, 1]), c.InitI64("shape", 2, 3, 4)])));
        yield return new("expand_shape_smaller_rank", 13, c =>
        {
            c.Description = "Expand where the target shape has lower rank and 1s (bidirectional broadcast)";
            c.Output(c.Node("Expand", [c.InputF("x", [2, 1, 4]), c.InitI64("shape", 3, 1)]));
        });
        yield return new("tile", 13, c =>
            c.Output(c.Node("Tile", [c.InputF("x", [2, 3, 2]), c.InitI64("repeats", 2, 1, 3)])));
        yield return new("tile_int64_runtime_repeats", 13, c =>
            c.Output(c.Node("Tile", [c.Input("x", TensorData.I64([1, 2, 3], 3)), c.Input("repeats", TensorData.I64([3], 1))]), DataType.Int64));

        foreach ((string name, int axis, int largest, int sorted, long k) in new (string, int, int, int, long)[]
        {
            ("topk_largest_last_axis", -1, 1, 1, 3), ("topk_smallest_axis1", 1, 0, 1, 2), ("topk_axis0", 0, 1, 1, 4), ("topk_k_all", -1, 1, 1, 8),
        })
        {
            yield return new(name, 11, c =>
            {
                c.Description = $"TopK k={k} axis={axis} largest={largest}";
                string[] o = c.NodeN("TopK", string.Empty, [c.InputF("x", [5, 3, 8]), c.InitI64("k", k)], 2, A.I("axis", axis), A.I("largest", largest), A.I("sorted", sorted));
                c.Output(o[0]);
                c.Output(o[1], DataType.Int64);
            });
        }

        yield return new("topk_ties_lower_index_first", 11, c =>
        {
            c.Description = "TopK with ties: the lower index comes first";
            float[] v = c.Rng.Ints(24, 0, 3).Select(i => (float)i).ToArray();
            string[] o = c.NodeN("TopK", string.Empty, [c.Input("x", TensorData.F32(v, 3, 8)), c.InitI64("k", 5)], 2);
            c.Output(o[0]);
            c.Output(o[1], DataType.Int64);
        });

        foreach ((string name, int centerPointBox, long maxOut, float iou, float? score, int batches, int classes) in new (string, int, long, float, float?, int, int)[]
        {
            ("nms_corners", 0, 5, 0.5f, null, 1, 1),
            ("nms_center_point_box", 1, 4, 0.45f, 0.2f, 1, 2),
            ("nms_two_batches_three_classes", 0, 3, 0.3f, 0.3f, 2, 3),
            ("nms_max_output_zero", 0, 0, 0.5f, null, 1, 1),
        })
        {
            yield return new(name, 11, c =>
            {
                c.Description = $"NonMaxSuppression center_point_box={centerPointBox} max={maxOut} iou={iou} score={score}";
                const int n = 12;
                var boxes = new float[batches * n * 4];
                for (int i = 0; i < batches * n; i++)
                {
                    // Clustered boxes so that suppression happens.
                    float cx = (c.Rng.Int(0, 3) * 0.3f) + c.Rng.Uniform(0.1f, 0.2f);
                    float cy = (c.Rng.Int(0, 2) * 0.4f) + c.Rng.Uniform(0.1f, 0.2f);
                    float w = c.Rng.Uniform(0.1f, 0.3f), h = c.Rng.Uniform(0.1f, 0.3f);
                    if (centerPointBox == 1)
                    {
                        (boxes[4 * i], boxes[(4 * i) + 1], boxes[(4 * i) + 2], boxes[(4 * i) + 3]) = (cx, cy, w, h);
                    }
                    else
                    {
                        (boxes[4 * i], boxes[(4 * i) + 1], boxes[(4 * i) + 2], boxes[(4 * i) + 3]) = (cy - (h / 2), cx - (w / 2), cy + (h / 2), cx + (w / 2));
                    }
                }

                var ins = new List<string>
                {
                    c.Input("boxes", TensorData.F32(boxes, batches, n, 4)),
                    c.InputF("scores", [batches, classes, n], 0, 1),
                    c.Init("max_output_boxes_per_class", TensorData.I64([maxOut], 1)),
                    c.Init("iou_threshold", TensorData.F32([iou], 1)),
                };
                if (score is not null)
                {
                    ins.Add(c.Init("score_threshold", TensorData.F32([score.Value], 1)));
                }

                c.Output(c.Node("NonMaxSuppression", [.. ins], A.I("center_point_box", centerPointBox)), DataType.Int64);
            });
        }
    }
}
