using System.Buffers;
using System.Text;
using DefectDetection.Onnx;

namespace DefectDetection.Vision.Backbones;

/// <summary>
/// Frees the spatial dimensions of a model input: a convolutional trunk works at any input size, but models are often
/// exported with a fixed H x W, which the engine enforces. The serialized model is rewritten (graph.input[name].type.
/// tensor_type.shape.dim[2..3] become the symbols "height" and "width") so the tapped trunk layers can be read at
/// another size; layers after a global pooling or a fixed Reshape may still fail, which the probe run reports.
/// </summary>
public sealed partial class OnnxBackbone
{
    // ONNX protobuf field numbers on the path to an input's dimensions.
    private const int ModelGraph = 7;
    private const int GraphInput = 11;
    private const int ValueInfoName = 1;
    private const int ValueInfoType = 2;
    private const int TypeTensor = 1;
    private const int TensorShape = 2;
    private const int ShapeDim = 1;

    /// <summary>
    /// Returns the model bytes with the H and W (dims 2 and 3) of the rank-4 input <paramref name="inputName"/> made
    /// symbolic, or the bytes unchanged when the input already accepts <paramref name="height"/> x <paramref name="width"/>.
    /// </summary>
    internal static byte[] FreeSpatialInput(byte[] modelBytes, OnnxModel model, string inputName, int height, int width) =>
        FreeSpatialInputCore(modelBytes, model.Inputs.FirstOrDefault(i => i.Name == inputName), inputName, height, width);

    /// <summary><see cref="FreeSpatialInput"/> given the declared input (null: not found, bytes unchanged).</summary>
    internal static byte[] FreeSpatialInputCore(byte[] modelBytes, TensorInfo? info, string inputName, int height, int width)
    {
        if (info is null || info.Shape.Count != 4
            || ((info.Shape[2].Value is null || info.Shape[2].Value == height) && (info.Shape[3].Value is null || info.Shape[3].Value == width)))
        {
            return modelBytes;
        }

        byte[] name = Encoding.UTF8.GetBytes(inputName);
        return Rewrite(modelBytes, ModelGraph, (graph, _) =>
            Rewrite(graph, GraphInput, (valueInfo, _) =>
                !NameIs(valueInfo, name) ? null
                : Rewrite(valueInfo, ValueInfoType, (type, _) =>
                    Rewrite(type, TypeTensor, (tensor, _) =>
                        Rewrite(tensor, TensorShape, (shape, _) =>
                            Rewrite(shape, ShapeDim, (dim, index) => index switch
                            {
                                2 => SymbolicDimension("height"),
                                3 => SymbolicDimension("width"),
                                _ => null,
                            }))))));
    }

    /// <summary>
    /// Copies a protobuf message, replacing the payload of every length-delimited field <paramref name="field"/> by
    /// <paramref name="replace"/>(payload, occurrence index) unless that returns null.
    /// </summary>
    internal static byte[] Rewrite(ReadOnlySpan<byte> message, int field, Func<byte[], int, byte[]?> replace)
    {
        var output = new ArrayBufferWriter<byte>(message.Length + 64);
        int pos = 0, occurrence = 0;
        while (pos < message.Length)
        {
            int start = pos;
            ulong key = ReadVarint(message, ref pos);
            int wire = (int)(key & 7);
            int number = (int)(key >> 3);
            switch (wire)
            {
                case 0:
                    ReadVarint(message, ref pos);
                    break;
                case 1:
                    pos += 8;
                    break;
                case 5:
                    pos += 4;
                    break;
                case 2:
                    ulong length = ReadVarint(message, ref pos);
                    if (length > (ulong)(message.Length - pos))
                    {
                        throw new OnnxModelException($"Malformed model: a field at byte {start} runs past its message.");
                    }

                    if (number == field)
                    {
                        byte[]? replaced = replace(message.Slice(pos, (int)length).ToArray(), occurrence++);
                        if (replaced is not null)
                        {
                            WriteVarint(output, key);
                            WriteVarint(output, (ulong)replaced.Length);
                            output.Write(replaced);
                            pos += (int)length;
                            continue;
                        }
                    }

                    pos += (int)length;
                    break;
                default:
                    throw new OnnxModelException($"Malformed model: unsupported protobuf wire type {wire} at byte {start}.");
            }

            if (pos > message.Length)
            {
                throw new OnnxModelException($"Malformed model: a field at byte {start} runs past its message.");
            }

            output.Write(message[start..pos]);
        }

        return output.WrittenSpan.ToArray();
    }

    private static bool NameIs(ReadOnlySpan<byte> valueInfo, ReadOnlySpan<byte> name)
    {
        int pos = 0;
        while (pos < valueInfo.Length)
        {
            ulong key = ReadVarint(valueInfo, ref pos);
            if ((key & 7) != 2)
            {
                return false;
            }

            int length = (int)ReadVarint(valueInfo, ref pos);
            if ((int)(key >> 3) == ValueInfoName)
            {
                return pos + length <= valueInfo.Length && valueInfo.Slice(pos, length).SequenceEqual(name);
            }

            pos += length;
        }

        return false;
    }

    /// <summary>A TensorShapeProto.Dimension holding only dim_param = <paramref name="symbol"/>.</summary>
    private static byte[] SymbolicDimension(string symbol)
    {
        byte[] text = Encoding.UTF8.GetBytes(symbol);
        return [(2 << 3) | 2, (byte)text.Length, .. text];
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length)
            {
                throw new OnnxModelException($"Malformed model: a varint runs past the end at byte {pos}.");
            }

            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new OnnxModelException($"Malformed model: a varint longer than 10 bytes ends at byte {pos}.");
    }

    private static void WriteVarint(ArrayBufferWriter<byte> output, ulong value)
    {
        Span<byte> buffer = output.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            buffer[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[n++] = (byte)value;
        output.Advance(n);
    }
}
