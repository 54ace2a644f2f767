using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DefectDetection.Onnx.Runtime;

/// <summary>
/// A tensor as the executor sees it: element type, shape and a window of an array (a model input's array, an
/// initializer, a slice of the frame's arena, or a fresh output array). Mutable binding, owned by one frame.
/// </summary>
internal sealed class TensorValue
{
    public TensorElementType Type { get; set; }

    public int[] Shape { get; set; } = [];

    public Array? Data { get; set; }

    public int ByteOffset { get; set; }

    public int Length { get; set; }

    public int Rank => Shape.Length;

    public ReadOnlySpan<int> Dims => Shape;

    public static TensorValue FromTensor(OnnxTensor t) => new()
    {
        Type = t.ElementType,
        Shape = t.Shape,
        Data = t.Buffer,
        ByteOffset = 0,
        Length = checked((int)t.Length),
    };

    public void Bind(OnnxTensor t)
    {
        Type = t.ElementType;
        Shape = t.Dimensions.SequenceEqual(Shape) ? Shape : t.Shape;
        Data = t.Buffer;
        ByteOffset = 0;
        Length = checked((int)t.Length);
    }

    /// <summary>Binds a window of <paramref name="data"/> (one slice of a batch) without copying.</summary>
    public void BindWindow(Array data, TensorElementType type, int[] shape, int byteOffset, int length)
    {
        Type = type;
        Shape = shape;
        Data = data;
        ByteOffset = byteOffset;
        Length = length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Span<T>()
        where T : unmanaged
    {
        if (OnnxTensor.ElementTypeOf<T>() != Type && !(Type == TensorElementType.Bool && typeof(T) == typeof(byte)))
        {
            ThrowType(typeof(T));
        }

        return MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Data!), ByteOffset)), Length);
    }

    public Span<byte> Bytes()
        => MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Data!), ByteOffset), Length * OnnxTensor.ElementSize(Type));

    /// <summary>Copies into a new public tensor.</summary>
    public OnnxTensor ToTensor()
    {
        OnnxTensor t = OnnxTensor.Create(Type, Shape);
        Bytes().CopyTo(t.ByteSpan());
        return t;
    }

    /// <summary>Reads element <paramref name="i"/> as a long (for integer index/shape tensors).</summary>
    public long GetInt64(int i) => Type switch
    {
        TensorElementType.Int64 => Span<long>()[i],
        TensorElementType.Int32 => Span<int>()[i],
        TensorElementType.Int16 => Span<short>()[i],
        TensorElementType.Int8 => Span<sbyte>()[i],
        TensorElementType.UInt8 => Span<byte>()[i],
        TensorElementType.UInt16 => Span<ushort>()[i],
        TensorElementType.UInt32 => Span<uint>()[i],
        TensorElementType.Bool => Span<byte>()[i],
        TensorElementType.Float32 => (long)Span<float>()[i],
        TensorElementType.Double => (long)Span<double>()[i],
        _ => throw new OnnxModelException($"Expected an integer tensor, got {Type}."),
    };

    /// <summary>Reads element <paramref name="i"/> as a float.</summary>
    public float GetFloat(int i) => Type switch
    {
        TensorElementType.Float32 => Span<float>()[i],
        TensorElementType.Double => (float)Span<double>()[i],
        TensorElementType.Float16 => (float)Span<Half>()[i],
        _ => GetInt64(i),
    };

    public static Array NewArray(TensorElementType type, int length) => type switch
    {
        TensorElementType.Float32 => new float[length],
        TensorElementType.UInt8 => new byte[length],
        TensorElementType.Int8 => new sbyte[length],
        TensorElementType.UInt16 => new ushort[length],
        TensorElementType.Int16 => new short[length],
        TensorElementType.Int32 => new int[length],
        TensorElementType.Int64 => new long[length],
        TensorElementType.Bool => new bool[length],
        TensorElementType.Float16 => new Half[length],
        TensorElementType.Double => new double[length],
        TensorElementType.UInt32 => new uint[length],
        TensorElementType.UInt64 => new ulong[length],
        _ => throw new OnnxModelException($"Element type {type} is not supported."),
    };

    /// <summary>The largest tensor the executor creates (2^28 elements, 1 GiB of float32), so a hostile shape cannot exhaust memory.</summary>
    public const long MaxElements = OnnxSession.MaxTensorElements;

    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new OnnxModelException($"Negative dimension {d} in a computed shape.");
            }

            n *= d;
            if (n > MaxElements)
            {
                throw new OnnxModelException($"A computed tensor of shape [{string.Join(",", shape.ToArray())}] exceeds the limit of {MaxElements} elements.");
            }
        }

        return (int)n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowType(Type t) => throw new OnnxModelException($"A kernel expected {t.Name} data but the tensor holds {Type}.");
}
