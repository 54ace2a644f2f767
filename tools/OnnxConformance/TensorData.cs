using System.Runtime.InteropServices;
using DefectDetection.Onnx.Model.Proto;
using Google.Protobuf;
using DataType = DefectDetection.Onnx.Model.Proto.TensorProto.Types.DataType;

namespace OnnxConformance;

/// <summary>A tensor as raw little-endian bytes plus its ONNX element type and shape.</summary>
internal sealed record TensorData(DataType Type, int[] Shape, byte[] Raw)
{
    public static TensorData F32(float[] data, params int[] shape) => Make(DataType.Float, data, shape);

    public static TensorData U8(byte[] data, params int[] shape) => Make(DataType.Uint8, data, shape);

    public static TensorData S8(sbyte[] data, params int[] shape) => Make(DataType.Int8, data, shape);

    public static TensorData I32(int[] data, params int[] shape) => Make(DataType.Int32, data, shape);

    public static TensorData I64(long[] data, params int[] shape) => Make(DataType.Int64, data, shape);

    public static TensorData Bool(bool[] data, params int[] shape) => Make(DataType.Bool, data.Select(b => b ? (byte)1 : (byte)0).ToArray(), shape);

    public static TensorData F16(Half[] data, params int[] shape) => Make(DataType.Float16, data, shape);

    public static TensorData F64(double[] data, params int[] shape) => Make(DataType.Double, data, shape);

    private static TensorData Make<T>(DataType type, T[] data, int[] shape)
        where T : unmanaged
    {
        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"{data.Length} values for shape [{string.Join(",", shape)}]");
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The fixture generator writes little-endian files and runs on little-endian hosts only.");
        }

        return new TensorData(type, (int[])shape.Clone(), MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    public TensorProto ToProto(string name)
    {
        var t = new TensorProto { Name = name, DataType = (int)Type, RawData = ByteString.CopyFrom(Raw) };
        t.Dims.AddRange(Shape.Select(d => (long)d));
        return t;
    }

    /// <summary>The type name used in case.json and by ONNX Runtime's JavaScript API.</summary>
    public static string TypeName(DataType type) => type switch
    {
        DataType.Float => "float32",
        DataType.Double => "float64",
        DataType.Uint8 => "uint8",
        DataType.Int8 => "int8",
        DataType.Uint16 => "uint16",
        DataType.Int16 => "int16",
        DataType.Int32 => "int32",
        DataType.Uint32 => "uint32",
        DataType.Int64 => "int64",
        DataType.Uint64 => "uint64",
        DataType.Bool => "bool",
        DataType.Float16 => "float16",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no fixture type name"),
    };
}
