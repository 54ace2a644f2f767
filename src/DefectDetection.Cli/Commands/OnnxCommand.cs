using System.CommandLine;
using System.Text.Json;
using DefectDetection.Onnx;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect onnx info|run|bench</c>: inspect, run and time ONNX models with the managed engine.</summary>
internal static class OnnxCommand
{
    public static Command Create(CliContext context)
    {
        Command onnx = new("onnx", "Inspect, run and time ONNX models with the built-in engine (no native code).");

        Argument<FileInfo> model = new("MODEL") { Description = "The .onnx file." };
        Option<bool> json = new("--json") { Description = "Write JSON for machines instead of text." };
        Command info = new("info", "Print the inputs, outputs, opsets and operators of a model, and any it cannot run.") { model, json };
        info.SetAction(parse => Guard(context, () => Info(context, parse.GetValue(model)!, parse.GetValue(json))));
        onnx.Subcommands.Add(info);
        onnx.Subcommands.Add(OnnxRunCommand.Create(context));
        onnx.Subcommands.Add(OnnxBenchCommand.Create(context));
        return onnx;
    }

    /// <summary>
    /// Like <see cref="CliContext.Guard"/>, and also turns an invalid or unsupported model
    /// (<see cref="OnnxModelException"/>) into exit code 2 with its message (which lists every problem found).
    /// </summary>
    internal static int Guard(CliContext context, Func<int> body) => context.Guard(() =>
    {
        try
        {
            return body();
        }
        catch (OnnxModelException ex)
        {
            // The message already lists every problem found at load time.
            context.Error.WriteLine($"error: {ex.Message}");
            return CliContext.BadInput;
        }
    });

    /// <summary>Fails with a clear message when the command line held tokens that no option or argument took.</summary>
    internal static void RejectUnmatched(ParseResult parse)
    {
        if (parse.UnmatchedTokens.Count > 0)
        {
            throw new ArgumentException($"Unrecognised argument(s): {string.Join(" ", parse.UnmatchedTokens)}.");
        }
    }

    internal static string Describe(TensorInfo info) =>
        $"{info.Name}  {TypeName(info.ElementType)} [{string.Join(",", info.Shape.Select(d => d.ToString()))}]";

    internal static string TypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float32 => "float32",
        TensorElementType.Float16 => "float16",
        TensorElementType.Double => "float64",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Int8 => "int8",
        TensorElementType.UInt16 => "uint16",
        TensorElementType.Int16 => "int16",
        TensorElementType.Int32 => "int32",
        TensorElementType.UInt32 => "uint32",
        TensorElementType.Int64 => "int64",
        TensorElementType.UInt64 => "uint64",
        TensorElementType.Bool => "bool",
        _ => type.ToString().ToLowerInvariant(),
    };

    private static int Info(CliContext context, FileInfo file, bool json)
    {
        OnnxModel model = OnnxModel.Load(ImageCommand.RequireFile(file));
        if (json)
        {
            static object Info(TensorInfo t) => new Dictionary<string, object?>
            {
                ["name"] = t.Name,
                ["type"] = TypeName(t.ElementType),
                ["shape"] = t.Shape.Select(d => d.Value is long v ? (object)v : d.Symbol ?? "?").ToArray(),
            };

            var payload = new Dictionary<string, object?>
            {
                ["file"] = file.FullName,
                ["ir_version"] = model.IrVersion,
                ["opsets"] = model.Opsets.ToDictionary(kv => kv.Key.Length == 0 ? "ai.onnx" : kv.Key, kv => kv.Value),
                ["inputs"] = model.Inputs.Select(Info).ToArray(),
                ["outputs"] = model.Outputs.Select(Info).ToArray(),
                ["node_count"] = model.OperatorCounts.Values.Sum(),
                ["operators"] = model.OperatorCounts,
                ["unsupported"] = model.UnsupportedOperators,
            };
            context.Out.WriteLine(JsonSerializer.Serialize(payload, CliJson.Options));
            return CliContext.Ok;
        }

        context.Out.WriteLine($"file:        {file.FullName}");
        context.Out.WriteLine($"ir version:  {model.IrVersion}");
        context.Out.WriteLine($"opsets:      {string.Join(", ", model.Opsets.Select(kv => $"{(kv.Key.Length == 0 ? "ai.onnx" : kv.Key)} {kv.Value}"))}");
        context.Out.WriteLine("inputs:");
        foreach (TensorInfo t in model.Inputs)
        {
            context.Out.WriteLine($"  {Describe(t)}");
        }

        context.Out.WriteLine("outputs:");
        foreach (TensorInfo t in model.Outputs)
        {
            context.Out.WriteLine($"  {Describe(t)}");
        }

        context.Out.WriteLine($"operators ({model.OperatorCounts.Values.Sum()} nodes):");
        foreach ((string op, int count) in model.OperatorCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            context.Out.WriteLine($"  {op,-28} {count,5}");
        }

        if (model.UnsupportedOperators.Count == 0)
        {
            context.Out.WriteLine("unsupported: none");
        }
        else
        {
            // One line per problem can run to hundreds of nodes: group by operator, then show the first few in full.
            context.Out.WriteLine($"unsupported ({model.UnsupportedOperators.Count} problems):");
            foreach (var group in model.UnsupportedOperators.GroupBy(p => p.Split(' ', 2)[0], StringComparer.Ordinal))
            {
                context.Out.WriteLine($"  {group.Key,-28} {group.Count(),5}");
            }

            const int Shown = 10;
            foreach (string p in model.UnsupportedOperators.Take(Shown))
            {
                context.Out.WriteLine($"    {p}");
            }

            if (model.UnsupportedOperators.Count > Shown)
            {
                context.Out.WriteLine($"    ... and {model.UnsupportedOperators.Count - Shown} more (--json lists all)");
            }
        }

        return CliContext.Ok;
    }
}
