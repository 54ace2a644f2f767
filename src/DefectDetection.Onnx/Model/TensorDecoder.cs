using System.Runtime.InteropServices;
using DefectDetection.Onnx.Model.Proto;

namespace DefectDetection.Onnx;

/// <summary>Decodes TensorProto (raw_data, typed fields or external data) into <see cref="OnnxTensor"/>s; float16 becomes float32.</summary>
internal sealed class TensorDecoder(string? baseDirectory)
{
    private const long MaxElements = int.MaxValue / 8;

    public OnnxTensor Decode(TensorProto t)
    {
        string name = string.IsNullOrEmpty(t.Name) ? "(unnamed)" : t.Name;
        var type = (TensorElementType)t.DataType;
        int[] shape = new int[t.Dims.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = t.Dims[i];
            if (d < 0 || d > int.MaxValue)
            {
                throw Fail(name, $"dimension {i} is {d}");
            }

            shape[i] = (int)d;
            count *= d;
            if (count > MaxElements)
            {
                throw Fail(name, $"too many elements ({count})");
            }
        }

        int n = (int)count;
        int elemSize = type switch
        {
            TensorElementType.Float32 or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
            TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Bool => 1,
            TensorElementType.UInt16 or TensorElementType.Int16 or TensorElementType.Float16 => 2,
            TensorElementType.Int64 or TensorElementType.Double or TensorElementType.UInt64 => 8,
            _ => throw Fail(name, $"element type {t.DataType} is not supported"),
        };

        ReadOnlySpan<byte> raw = default;
        bool hasRaw = false;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            raw = ReadExternal(t, name, (long)n * elemSize);
            hasRaw = true;
        }
        else if (t.HasRawData)
        {
            raw = t.RawData.Span;
            hasRaw = true;
        }

        if (hasRaw)
        {
            if (raw.Length != (long)n * elemSize)
            {
                throw Fail(name, $"raw data holds {raw.Length} bytes, the shape needs {(long)n * elemSize}");
            }

            if (type == TensorElementType.Float16)
            {
                var f = new float[n];
                ReadOnlySpan<Half> h = MemoryMarshal.Cast<byte, Half>(raw);
                for (int i = 0; i < n; i++)
                {
                    f[i] = (float)h[i];
                }

                return new OnnxTensor<float>(f, shape);
            }

            OnnxTensor result = OnnxTensor.Create(type, shape);
            raw.CopyTo(result.ByteSpan());
            if (type == TensorElementType.Bool)
            {
                Span<byte> b = result.ByteSpan();
                for (int i = 0; i < b.Length; i++)
                {
                    b[i] = b[i] != 0 ? (byte)1 : (byte)0;
                }
            }

            return result;
        }

        switch (type)
        {
            case TensorElementType.Float32:
                CheckCount(name, t.FloatData.Count, n);
                return new OnnxTensor<float>([.. t.FloatData], shape);
            case TensorElementType.Double:
                CheckCount(name, t.DoubleData.Count, n);
                return new OnnxTensor<double>([.. t.DoubleData], shape);
            case TensorElementType.Int64:
                CheckCount(name, t.Int64Data.Count, n);
                return new OnnxTensor<long>([.. t.Int64Data], shape);
            case TensorElementType.UInt32:
            case TensorElementType.UInt64:
                {
                    CheckCount(name, t.Uint64Data.Count, n);
                    if (type == TensorElementType.UInt64)
                    {
                        return new OnnxTensor<ulong>([.. t.Uint64Data], shape);
                    }

                    var u = new uint[n];
                    for (int i = 0; i < n; i++)
                    {
                        u[i] = (uint)t.Uint64Data[i];
                    }

                    return new OnnxTensor<uint>(u, shape);
                }

            default:
                {
                    // int32_data carries int32, int16, uint16, int8, uint8, bool and float16 (as bit patterns).
                    CheckCount(name, t.Int32Data.Count, n);
                    OnnxTensor result = OnnxTensor.Create(type == TensorElementType.Float16 ? TensorElementType.Float32 : type, shape);
                    for (int i = 0; i < n; i++)
                    {
                        int v = t.Int32Data[i];
                        switch (type)
                        {
                            case TensorElementType.Int32: ((OnnxTensor<int>)result).Data[i] = v; break;
                            case TensorElementType.Int16: ((OnnxTensor<short>)result).Data[i] = (short)v; break;
                            case TensorElementType.UInt16: ((OnnxTensor<ushort>)result).Data[i] = (ushort)v; break;
                            case TensorElementType.Int8: ((OnnxTensor<sbyte>)result).Data[i] = (sbyte)v; break;
                            case TensorElementType.UInt8: ((OnnxTensor<byte>)result).Data[i] = (byte)v; break;
                            case TensorElementType.Bool: ((OnnxTensor<bool>)result).Data[i] = v != 0; break;
                            case TensorElementType.Float16: ((OnnxTensor<float>)result).Data[i] = (float)BitConverter.UInt16BitsToHalf((ushort)v); break;
                            default: throw Fail(name, $"element type {type} cannot be stored in int32_data");
                        }
                    }

                    return result;
                }
        }
    }

    private byte[] ReadExternal(TensorProto t, string name, long expectedBytes)
    {
        if (baseDirectory is null)
        {
            throw Fail(name, "uses external data but the model was loaded from memory without a base directory");
        }

        string? location = null;
        long offset = 0;
        long length = -1;
        foreach (StringStringEntryProto e in t.ExternalData)
        {
            switch (e.Key)
            {
                case "location": location = e.Value; break;
                case "offset": offset = ParseLong(name, e.Key, e.Value); break;
                case "length": length = ParseLong(name, e.Key, e.Value); break;
                default: break;
            }
        }

        if (string.IsNullOrEmpty(location))
        {
            throw Fail(name, "external data has no location");
        }

        if (Path.IsPathRooted(location) || location.Contains("..", StringComparison.Ordinal))
        {
            throw Fail(name, $"external data location '{location}' must be a relative path inside the model's folder");
        }

        // Links (of the file or of any folder on its path) are resolved before the containment check, so that a link
        // inside the model's folder cannot lead outside it.
        string root = ResolveLinks(Path.GetFullPath(baseDirectory), 0);
        string full = ResolveLinks(Path.GetFullPath(Path.Combine(root, location)), 0);
        string rootWithSep = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootWithSep, StringComparison.Ordinal))
        {
            throw Fail(name, $"external data location '{location}' escapes the model's folder (it resolves to '{full}')");
        }

        if (length < 0)
        {
            length = expectedBytes;
        }

        if (length != expectedBytes)
        {
            throw Fail(name, $"external data length {length} does not match the {expectedBytes} bytes the shape needs");
        }

        try
        {
            using var fs = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (offset < 0 || offset > fs.Length || length > fs.Length - offset)
            {
                throw Fail(name, $"external data range [{offset}, {offset + length}) lies outside '{location}' ({fs.Length} bytes)");
            }

            var data = new byte[length];
            fs.Position = offset;
            fs.ReadExactly(data);
            return data;
        }
        catch (IOException e)
        {
            throw new OnnxModelException($"Initializer '{name}': cannot read external data '{location}': {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OnnxModelException($"Initializer '{name}': cannot read external data '{location}': {e.Message}", e);
        }
    }

    /// <summary>The path with every symbolic link on it resolved, component by component (like realpath).</summary>
    private static string ResolveLinks(string fullPath, int depth)
    {
        const int MaxLinks = 40;
        string? rootPart = Path.GetPathRoot(fullPath);
        string current = string.IsNullOrEmpty(rootPart) ? "" : rootPart;
        foreach (string part in fullPath[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }

            if (depth >= MaxLinks)
            {
                throw new OnnxModelException($"Too many symbolic links while resolving '{fullPath}'.");
            }

            // A relative target is relative to the folder holding the link.
            current = ResolveLinks(Path.GetFullPath(target, current.Length == 0 ? Path.DirectorySeparatorChar.ToString() : current), depth + 1);
        }

        return current;
    }

    private static long ParseLong(string name, string key, string value)
        => long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v)
            ? v
            : throw Fail(name, $"external data {key} '{value}' is not a non-negative integer");

    private static void CheckCount(string name, int have, int need)
    {
        if (have != need)
        {
            throw Fail(name, $"holds {have} values, the shape needs {need}");
        }
    }

    private static OnnxModelException Fail(string name, string reason) => new($"Tensor '{name}': {reason}");
}
