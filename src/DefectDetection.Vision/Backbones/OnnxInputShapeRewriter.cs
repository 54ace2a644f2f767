using System.Text;

namespace DefectDetection.Vision.Backbones;

/// <summary>
/// Relaxes the declared spatial size of one model input in serialized ONNX bytes: the last two dimensions of the
/// input's tensor shape (H and W of an NCHW image input) become symbolic, so that a fully convolutional backbone
/// (convolutions, then global pooling) can run at another image size than the one it was exported with. Works on
/// the protobuf wire format directly (ModelProto.graph = 7, GraphProto.input = 11, ValueInfoProto.name = 1 and
/// type = 2, TypeProto.tensor_type = 1, Tensor.shape = 2, TensorShapeProto.dim = 1, Dimension.dim_value = 1 and
/// dim_param = 2); every other byte is copied unchanged.
/// </summary>
internal static class OnnxInputShapeRewriter
{
    private const int Varint = 0, Fixed64 = 1, Length = 2, Fixed32 = 5;

    /// <summary>The model bytes with the last two dimensions of <paramref name="inputName"/> made symbolic, or null when
    /// the input is not found or has fewer than three dimensions.</summary>
    public static byte[]? RelaxSpatialDimensions(ReadOnlySpan<byte> model, string inputName) => RelaxDimensions(model, inputName, batch: false, spatial: true);

    /// <summary>
    /// The model bytes with the first dimension of <paramref name="inputName"/> (when <paramref name="batch"/>) and its
    /// last two (when <paramref name="spatial"/>) made symbolic, or null when the input is not found or has fewer than
    /// three dimensions.
    /// </summary>
    public static byte[]? RelaxDimensions(ReadOnlySpan<byte> model, string inputName, bool batch, bool spatial)
    {
        bool changed = false;
        byte[] result = Rewrite(model, (field, payload, output) =>
        {
            if (field != 7)
            {
                return false;
            }

            WriteLength(output, 7, Rewrite(payload, (f, p, o) =>
            {
                if (f != 11 || !IsNamed(p, inputName))
                {
                    return false;
                }

                byte[]? relaxed = RelaxValueInfo(p, batch, spatial);
                if (relaxed is null)
                {
                    return false;
                }

                changed = true;
                WriteLength(o, 11, relaxed);
                return true;
            }));
            return true;
        });
        return changed ? result : null;
    }

    private static byte[]? RelaxValueInfo(ReadOnlySpan<byte> valueInfo, bool batch, bool spatial)
    {
        bool ok = false;
        byte[] result = Rewrite(valueInfo, (f, p, o) =>
        {
            if (f != 2)
            {
                return false;
            }

            WriteLength(o, 2, Rewrite(p, (tf, tp, to) =>
            {
                if (tf != 1)
                {
                    return false;
                }

                WriteLength(to, 1, Rewrite(tp, (sf, sp, so) =>
                {
                    if (sf != 2)
                    {
                        return false;
                    }

                    byte[]? shape = RelaxShape(sp, batch, spatial);
                    if (shape is null)
                    {
                        return false;
                    }

                    ok = true;
                    WriteLength(so, 2, shape);
                    return true;
                }));
                return true;
            }));
            return true;
        });
        return ok ? result : null;
    }

    private static byte[]? RelaxShape(ReadOnlySpan<byte> shape, bool batch, bool spatial)
    {
        int dims = 0;
        Rewrite(shape, (f, _, _) =>
        {
            dims += f == 1 ? 1 : 0;
            return false;
        });
        if (dims < 3)
        {
            return null;
        }

        int index = 0;
        return Rewrite(shape, (f, _, o) =>
        {
            if (f != 1)
            {
                return false;
            }

            int d = index++;
            string? name = d == 0 && batch ? "batch" : d >= dims - 2 && spatial ? (d == dims - 2 ? "height" : "width") : null;
            if (name is null)
            {
                return false;
            }

            WriteLength(o, 1, Message(2, Encoding.UTF8.GetBytes(name)));
            return true;
        });
    }

    private static bool IsNamed(ReadOnlySpan<byte> valueInfo, string name)
    {
        bool match = false;
        Rewrite(valueInfo, (f, p, _) =>
        {
            match |= f == 1 && Encoding.UTF8.GetString(p) == name;
            return false;
        });
        return match;
    }

    private delegate bool FieldHandler(int field, ReadOnlySpan<byte> payload, MemoryStream output);

    /// <summary>Copies a message field by field; <paramref name="handler"/> may write a replacement for a length-delimited field and return true.</summary>
    private static byte[] Rewrite(ReadOnlySpan<byte> message, FieldHandler handler)
    {
        MemoryStream output = new(message.Length + 16);
        int pos = 0;
        while (pos < message.Length)
        {
            int start = pos;
            ulong key = ReadVarint(message, ref pos);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case Varint:
                    ReadVarint(message, ref pos);
                    break;
                case Fixed64:
                    pos += 8;
                    break;
                case Fixed32:
                    pos += 4;
                    break;
                case Length:
                    ulong length = ReadVarint(message, ref pos);
                    if (length > (ulong)(message.Length - pos))
                    {
                        throw new InvalidDataException($"A protobuf field runs past its message (field {field}, offset {start}).");
                    }

                    ReadOnlySpan<byte> payload = message.Slice(pos, (int)length);
                    pos += (int)length;
                    if (handler(field, payload, output))
                    {
                        continue;
                    }

                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wire} (field {field}, offset {start}).");
            }

            if (pos > message.Length)
            {
                throw new InvalidDataException($"A protobuf field runs past its message (field {field}, offset {start}).");
            }

            output.Write(message[start..pos]);
        }

        return output.ToArray();
    }

    private static byte[] Message(int field, byte[] payload)
    {
        MemoryStream m = new();
        WriteLength(m, field, payload);
        return m.ToArray();
    }

    private static void WriteLength(MemoryStream output, int field, ReadOnlySpan<byte> payload)
    {
        WriteVarint(output, ((ulong)field << 3) | Length);
        WriteVarint(output, (ulong)payload.Length);
        output.Write(payload);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length)
            {
                throw new InvalidDataException("A protobuf varint is truncated.");
            }

            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("A protobuf varint is too long.");
    }

    private static void WriteVarint(MemoryStream output, ulong value)
    {
        while (value >= 0x80)
        {
            output.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        output.WriteByte((byte)value);
    }
}
