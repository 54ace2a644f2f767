using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DefectDetection.Onnx;

/// <summary>A dense, row-major tensor whose element type is known only at run time.</summary>
public abstract class OnnxTensor
{
    private readonly int[] _shape;

    private protected OnnxTensor(ReadOnlySpan<int> shape)
    {
        long length = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Tensor dimensions must not be negative; got {d}.", nameof(shape));
            }

            length = checked(length * d);
        }

        _shape = shape.ToArray();
        Length = length;
    }

    /// <summary>The element type.</summary>
    public abstract TensorElementType ElementType { get; }

    /// <summary>A copy of the dimensions (outermost first).</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>The dimensions (outermost first), without copying.</summary>
    public ReadOnlySpan<int> Dimensions => _shape;

    /// <summary>The number of elements (the product of the dimensions).</summary>
    public long Length { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    internal abstract Array Buffer { get; }

    /// <summary>Creates a tensor of the given element type filled with zeros.</summary>
    /// <param name="elementType">The element type (not <see cref="TensorElementType.String"/>).</param>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The new tensor.</returns>
    public static OnnxTensor Create(TensorElementType elementType, ReadOnlySpan<int> shape) => elementType switch
    {
        TensorElementType.Float32 => new OnnxTensor<float>(shape),
        TensorElementType.UInt8 => new OnnxTensor<byte>(shape),
        TensorElementType.Int8 => new OnnxTensor<sbyte>(shape),
        TensorElementType.UInt16 => new OnnxTensor<ushort>(shape),
        TensorElementType.Int16 => new OnnxTensor<short>(shape),
        TensorElementType.Int32 => new OnnxTensor<int>(shape),
        TensorElementType.Int64 => new OnnxTensor<long>(shape),
        TensorElementType.Bool => new OnnxTensor<bool>(shape),
        TensorElementType.Float16 => new OnnxTensor<Half>(shape),
        TensorElementType.Double => new OnnxTensor<double>(shape),
        TensorElementType.UInt32 => new OnnxTensor<uint>(shape),
        TensorElementType.UInt64 => new OnnxTensor<ulong>(shape),
        _ => throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "Unsupported tensor element type."),
    };

    /// <summary>The size in bytes of one element of the given type.</summary>
    /// <param name="elementType">The element type.</param>
    /// <returns>The size in bytes.</returns>
    public static int ElementSize(TensorElementType elementType) => elementType switch
    {
        TensorElementType.Float32 or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Bool => 1,
        TensorElementType.UInt16 or TensorElementType.Int16 or TensorElementType.Float16 => 2,
        TensorElementType.Int64 or TensorElementType.Double or TensorElementType.UInt64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "Unsupported tensor element type."),
    };

    /// <summary>The element type that represents the CLR type <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">One of float, byte, sbyte, ushort, short, int, long, bool, Half, double, uint, ulong.</typeparam>
    /// <returns>The element type.</returns>
    public static TensorElementType ElementTypeOf<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return TensorElementType.Float32;
        if (typeof(T) == typeof(byte)) return TensorElementType.UInt8;
        if (typeof(T) == typeof(sbyte)) return TensorElementType.Int8;
        if (typeof(T) == typeof(ushort)) return TensorElementType.UInt16;
        if (typeof(T) == typeof(short)) return TensorElementType.Int16;
        if (typeof(T) == typeof(int)) return TensorElementType.Int32;
        if (typeof(T) == typeof(long)) return TensorElementType.Int64;
        if (typeof(T) == typeof(bool)) return TensorElementType.Bool;
        if (typeof(T) == typeof(Half)) return TensorElementType.Float16;
        if (typeof(T) == typeof(double)) return TensorElementType.Double;
        if (typeof(T) == typeof(uint)) return TensorElementType.UInt32;
        if (typeof(T) == typeof(ulong)) return TensorElementType.UInt64;
        throw new NotSupportedException($"{typeof(T).Name} is not a supported tensor element type.");
    }

    /// <summary>Returns this tensor typed; throws when <typeparamref name="T"/> does not match <see cref="ElementType"/>.</summary>
    /// <typeparam name="T">The CLR element type.</typeparam>
    /// <returns>The typed tensor.</returns>
    public OnnxTensor<T> As<T>()
        where T : unmanaged
        => this as OnnxTensor<T> ?? throw new InvalidCastException($"The tensor holds {ElementType}, not {typeof(T).Name}.");

    internal Span<byte> ByteSpan()
    {
        Array a = Buffer;
        return MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(a), checked((int)(Length * ElementSize(ElementType))));
    }
}

/// <summary>A dense, row-major tensor of <typeparamref name="T"/> backed by an array.</summary>
/// <typeparam name="T">The element type: float, byte, sbyte, ushort, short, int, long, bool, Half, double, uint or ulong.</typeparam>
public sealed class OnnxTensor<T> : OnnxTensor
    where T : unmanaged
{
    private readonly T[] _data;

    /// <summary>Creates a zeroed tensor.</summary>
    /// <param name="shape">The dimensions.</param>
    public OnnxTensor(ReadOnlySpan<int> shape)
        : base(shape)
    {
        _ = ElementTypeOf<T>();
        _data = new T[checked((int)Length)];
    }

    /// <summary>Wraps an array (no copy); its length must equal the product of <paramref name="shape"/>.</summary>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The dimensions.</param>
    public OnnxTensor(T[] data, ReadOnlySpan<int> shape)
        : base(shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        _ = ElementTypeOf<T>();
        if (data.Length != Length)
        {
            throw new ArgumentException($"The data holds {data.Length} elements but the shape [{string.Join(",", shape.ToArray())}] needs {Length}.", nameof(data));
        }

        _data = data;
    }

    /// <inheritdoc />
    public override TensorElementType ElementType => ElementTypeOf<T>();

    /// <summary>The elements, row-major.</summary>
    public Span<T> Span => _data;

    /// <summary>The underlying array (not a copy).</summary>
    public T[] Data => _data;

    internal override Array Buffer => _data;

    /// <summary>A copy of the elements.</summary>
    /// <returns>A new array.</returns>
    public T[] ToArray() => (T[])_data.Clone();

    /// <summary>The element at a multi-dimensional index.</summary>
    /// <param name="indices">One index per dimension.</param>
    public T this[params int[] indices]
    {
        get => _data[Offset(indices)];
        set => _data[Offset(indices)] = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Offset(int[] indices)
    {
        ReadOnlySpan<int> dims = Dimensions;
        if (indices.Length != dims.Length)
        {
            throw new ArgumentException($"Expected {dims.Length} indices, got {indices.Length}.", nameof(indices));
        }

        int off = 0;
        for (int i = 0; i < dims.Length; i++)
        {
            if ((uint)indices[i] >= (uint)dims[i])
            {
                throw new ArgumentOutOfRangeException(nameof(indices));
            }

            off = (off * dims[i]) + indices[i];
        }

        return off;
    }
}
