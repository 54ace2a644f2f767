using System.Globalization;
using System.Runtime.InteropServices;
using DefectDetection.Onnx;

namespace DefectDetection.Cli.Commands;

/// <summary>Reading and writing tensors as raw little-endian files, parsing shapes and <c>NAME=FILE:SHAPE</c> specs.</summary>
internal static class OnnxTensorFiles
{
    /// <summary>Parses <c>1x3x224x224</c> (also <c>1,3,224,224</c>).</summary>
    public static int[] ParseShape(string text, string what)
    {
        string[] parts = text.Split(['x', 'X', ','], StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] <= 0)
            {
                throw new ArgumentException($"{what}: '{text}' is not a shape like 1x3x224x224 (positive integers separated by 'x').");
            }
        }

        long count = 1;
        foreach (int d in dims)
        {
            count *= d;
            if (count > int.MaxValue)
            {
                throw new ArgumentException($"{what}: the shape {text} has more than {int.MaxValue} elements.");
            }
        }

        return dims;
    }

    /// <summary>Parses a comma-separated list of floats such as <c>0.485,0.456,0.406</c>.</summary>
    public static float[] ParseFloats(string text, string what)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
            {
                throw new ArgumentException($"{what}: '{text}' is not a comma-separated list of numbers.");
            }
        }

        return values;
    }

    /// <summary>Parses an integer option value within [min, max].</summary>
    public static int ParseInt(string? text, string option, int fallback, int min, int max)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new ArgumentException($"{option}: '{text}' must be an integer from {min} to {max}.");
        }

        return value;
    }

    /// <summary>
    /// Splits <c>NAME=FILE[:SHAPE]</c>. NAME may be left out (<c>FILE[:SHAPE]</c>) when the model has one input;
    /// SHAPE may be left out when the model declares a fixed shape.
    /// </summary>
    public static (string? Name, string Path, int[]? Shape) ParseInputSpec(string spec)
    {
        string? name = null;
        string rest = spec;
        int eq = spec.IndexOf('=', StringComparison.Ordinal);
        if (eq >= 0)
        {
            name = spec[..eq];
            rest = spec[(eq + 1)..];
            if (name.Length == 0)
            {
                throw new ArgumentException($"--input '{spec}': the name before '=' is empty.");
            }
        }

        int colon = rest.LastIndexOf(':');
        int[]? shape = null;
        if (colon >= 0 && colon < rest.Length - 1 && rest[(colon + 1)..].All(ch => char.IsAsciiDigit(ch) || ch is 'x' or 'X' or ','))
        {
            shape = ParseShape(rest[(colon + 1)..], $"--input '{spec}'");
            rest = rest[..colon];
        }

        if (rest.Length == 0)
        {
            throw new ArgumentException($"--input '{spec}': no file given (expected NAME=FILE.f32:1x3x224x224).");
        }

        return (name, rest, shape);
    }

    /// <summary>Splits <c>NAME=FILE</c> for <c>--output</c>.</summary>
    public static (string Name, string Path) ParseOutputSpec(string spec)
    {
        int eq = spec.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == spec.Length - 1)
        {
            throw new ArgumentException($"--output '{spec}': expected NAME=FILE (the output's name, '=', the file to write).");
        }

        return (spec[..eq], spec[(eq + 1)..]);
    }

    /// <summary>
    /// A shape for a model input as <see cref="int"/>s, refused (never truncated or overflowed) when a dimension is
    /// negative or the element count exceeds the engine's cap, <see cref="OnnxSession.MaxTensorElements"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The shape is too large (exit code 2).</exception>
    public static int[] CheckedShape(TensorInfo input, long[] dims, string what)
    {
        var shape = new int[dims.Length];
        Int128 count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            count *= Math.Max(dims[i], 0);
            if (dims[i] < 0 || count > OnnxSession.MaxTensorElements)
            {
                throw new ArgumentException($"{what}: the input '{input.Name}' of shape [{string.Join(",", dims)}] is too large: " +
                    $"the engine creates tensors of at most {OnnxSession.MaxTensorElements} elements.");
            }

            shape[i] = (int)dims[i];
        }

        return shape;
    }

    /// <summary>The shape to use for a model input: the given one (checked against the declared one) or the declared fixed shape.</summary>
    public static int[] ResolveShape(TensorInfo input, int[]? given, string what)
    {
        if (given is null)
        {
            if (input.Shape.Any(d => d.Value is null))
            {
                throw new ArgumentException($"{what}: the model input '{input.Name}' has dynamic dimensions [{string.Join(",", input.Shape)}]; give the shape (e.g. {input.Name}=FILE:{string.Join("x", input.Shape.Select(d => d.Value ?? 1))}).");
            }

            return CheckedShape(input, input.Shape.Select(d => d.Value!.Value).ToArray(), what);
        }

        if (input.Shape.Count != 0 && given.Length != input.Shape.Count)
        {
            throw new ArgumentException($"{what}: shape [{string.Join(",", given)}] has rank {given.Length}, but the model input '{input.Name}' is [{string.Join(",", input.Shape)}].");
        }

        for (int i = 0; i < input.Shape.Count; i++)
        {
            if (input.Shape[i].Value is long fixedDim && fixedDim != given[i])
            {
                throw new ArgumentException($"{what}: dimension {i} is {given[i]}, but the model input '{input.Name}' fixes it to {fixedDim} ([{string.Join(",", input.Shape)}]).");
            }
        }

        return CheckedShape(input, [.. given.Select(d => (long)d)], what);
    }

    /// <summary>Reads a raw little-endian file of the given element type and shape; the file size must match exactly.</summary>
    public static OnnxTensor Read(string path, TensorElementType type, int[] shape)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"File not found: {Path.GetFullPath(path)}", path);
        }

        OnnxTensor tensor = OnnxTensor.Create(type, shape);
        long expected = tensor.Length * OnnxTensor.ElementSize(type);
        long actual = new FileInfo(path).Length;
        if (actual != expected)
        {
            throw new ArgumentException($"{path} holds {actual} bytes, but [{string.Join(",", shape)}] {OnnxCommand.TypeName(type)} needs {expected} (raw little-endian values, no header).");
        }

        byte[] bytes = File.ReadAllBytes(path);
        CopyIn(tensor, bytes);
        return tensor;
    }

    /// <summary>Writes a tensor's values as raw little-endian bytes.</summary>
    public static void Write(OnnxTensor tensor, Stream output) => output.Write(Bytes(tensor));

    /// <summary>A tensor of deterministic pseudo-random values (floats in [0, 1), integers 0) for timing.</summary>
    public static OnnxTensor Random(TensorElementType type, int[] shape, int seed)
    {
        OnnxTensor tensor = OnnxTensor.Create(type, shape);
        if (tensor is OnnxTensor<float> f)
        {
            var rng = new Random(seed);
            Span<float> span = f.Span;
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = rng.NextSingle();
            }
        }

        return tensor;
    }

    private static void CopyIn(OnnxTensor tensor, byte[] bytes)
    {
        switch (tensor)
        {
            case OnnxTensor<float> t: MemoryMarshal.Cast<byte, float>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<double> t: MemoryMarshal.Cast<byte, double>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<Half> t: MemoryMarshal.Cast<byte, Half>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<byte> t: bytes.CopyTo(t.Span); break;
            case OnnxTensor<sbyte> t: MemoryMarshal.Cast<byte, sbyte>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<short> t: MemoryMarshal.Cast<byte, short>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<ushort> t: MemoryMarshal.Cast<byte, ushort>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<int> t: MemoryMarshal.Cast<byte, int>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<uint> t: MemoryMarshal.Cast<byte, uint>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<long> t: MemoryMarshal.Cast<byte, long>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<ulong> t: MemoryMarshal.Cast<byte, ulong>(bytes).CopyTo(t.Span); break;
            case OnnxTensor<bool> t:
                Span<bool> b = t.Span;
                for (int i = 0; i < b.Length; i++)
                {
                    b[i] = bytes[i] != 0;
                }

                break;
            default: throw new NotSupportedException($"Tensors of {tensor.ElementType} cannot be read from files.");
        }
    }

    private static byte[] Bytes(OnnxTensor tensor) => tensor switch
    {
        OnnxTensor<float> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<double> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<Half> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<byte> t => t.Span.ToArray(),
        OnnxTensor<sbyte> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<short> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<ushort> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<int> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<uint> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<long> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<ulong> t => MemoryMarshal.AsBytes(t.Span).ToArray(),
        OnnxTensor<bool> t => t.Span.ToArray().Select(v => v ? (byte)1 : (byte)0).ToArray(),
        _ => throw new NotSupportedException($"Tensors of {tensor.ElementType} cannot be written to files."),
    };
}
