using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Text;

namespace DefectDetection.Tools.DocFilter;

/// <summary>
/// A type as a signature names it, written the way documentation IDs write it: <c>System.Int32</c>,
/// <c>System.Collections.Generic.List{System.String}</c>, <c>`0</c> (type parameter), <c>``0</c> (method type
/// parameter), <c>System.Byte[]</c>, <c>System.Int32@</c> (by reference), <c>System.Single[0:,0:]</c>.
/// </summary>
internal abstract class Shape
{
    public abstract void Write(StringBuilder builder);

    /// <summary>Replaces the type parameters (not the method type parameters) by <paramref name="typeArguments"/>.</summary>
    public abstract Shape Substitute(IReadOnlyList<Shape> typeArguments);

    public sealed override string ToString()
    {
        var builder = new StringBuilder();
        Write(builder);
        return builder.ToString();
    }
}

/// <summary>A named type: its namespace, its name and the names of the types it is nested in, and its type arguments.</summary>
internal sealed class NamedShape(string ns, ImmutableArray<string> names, ImmutableArray<Shape> arguments) : Shape
{
    public string Namespace { get; } = ns;

    /// <summary>Metadata names, outermost first, with their arity suffix (<c>List`1</c>).</summary>
    public ImmutableArray<string> Names { get; } = names;

    /// <summary>Type arguments of every level, outermost first; empty for the definition itself.</summary>
    public ImmutableArray<Shape> Arguments { get; } = arguments;

    /// <summary>The name of the definition as documentation IDs write it: <c>Ns.Outer`1.Inner</c>.</summary>
    public string DefinitionName => Namespace.Length == 0 ? string.Join('.', Names) : Namespace + "." + string.Join('.', Names);

    public NamedShape WithArguments(ImmutableArray<Shape> typeArguments) => new(Namespace, Names, typeArguments);

    public override void Write(StringBuilder builder)
    {
        if (Namespace.Length > 0)
        {
            builder.Append(Namespace).Append('.');
        }
        int next = 0;
        for (int i = 0; i < Names.Length; i++)
        {
            if (i > 0)
            {
                builder.Append('.');
            }
            string name = Names[i];
            int tick = name.IndexOf('`');
            if (Arguments.IsEmpty || tick < 0)
            {
                builder.Append(name);
                continue;
            }
            int arity = int.Parse(name.AsSpan(tick + 1));
            builder.Append(name, 0, tick).Append('{');
            for (int j = 0; j < arity && next < Arguments.Length; j++)
            {
                if (j > 0)
                {
                    builder.Append(',');
                }
                Arguments[next++].Write(builder);
            }
            builder.Append('}');
        }
    }

    public override Shape Substitute(IReadOnlyList<Shape> typeArguments) =>
        Arguments.IsEmpty ? this : WithArguments(Arguments.Select(a => a.Substitute(typeArguments)).ToImmutableArray());
}

internal sealed class GenericParameterShape(int index, bool ofMethod) : Shape
{
    public override void Write(StringBuilder builder) => builder.Append(ofMethod ? "``" : "`").Append(index);

    public override Shape Substitute(IReadOnlyList<Shape> typeArguments) =>
        !ofMethod && index < typeArguments.Count ? typeArguments[index] : this;
}

/// <summary>An array: rank 0 for a single-dimension zero-based array (<c>[]</c>), else the rank (<c>[0:,0:]</c>).</summary>
internal sealed class ArrayShape(Shape element, int rank) : Shape
{
    public override void Write(StringBuilder builder)
    {
        element.Write(builder);
        if (rank == 0)
        {
            builder.Append("[]");
            return;
        }
        builder.Append("[0:");
        for (int i = 1; i < rank; i++)
        {
            builder.Append(",0:");
        }
        builder.Append(']');
    }

    public override Shape Substitute(IReadOnlyList<Shape> typeArguments) => new ArrayShape(element.Substitute(typeArguments), rank);
}

/// <summary>A pointer (<c>*</c>) or a reference (<c>@</c>).</summary>
internal sealed class SuffixShape(Shape element, char suffix) : Shape
{
    public override void Write(StringBuilder builder)
    {
        element.Write(builder);
        builder.Append(suffix);
    }

    public override Shape Substitute(IReadOnlyList<Shape> typeArguments) => new SuffixShape(element.Substitute(typeArguments), suffix);
}

internal sealed class FunctionPointerShape(MethodSignature<Shape> signature) : Shape
{
    public override void Write(StringBuilder builder)
    {
        builder.Append("=FUNC:");
        signature.ReturnType.Write(builder);
        builder.Append('(');
        for (int i = 0; i < signature.ParameterTypes.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }
            signature.ParameterTypes[i].Write(builder);
        }
        builder.Append(')');
    }

    public override Shape Substitute(IReadOnlyList<Shape> typeArguments) => new FunctionPointerShape(new MethodSignature<Shape>(
        signature.Header, signature.ReturnType.Substitute(typeArguments), signature.RequiredParameterCount,
        signature.GenericParameterCount, signature.ParameterTypes.Select(p => p.Substitute(typeArguments)).ToImmutableArray()));
}

/// <summary>Decodes signatures into shapes. Type parameters stay parameters; custom modifiers are dropped, as documentation IDs drop them.</summary>
internal sealed class ShapeProvider : ISignatureTypeProvider<Shape, object?>
{
    public static readonly ShapeProvider Instance = new();

    public Shape GetArrayType(Shape elementType, System.Reflection.Metadata.ArrayShape shape) => new ArrayShape(elementType, shape.Rank);

    public Shape GetSZArrayType(Shape elementType) => new ArrayShape(elementType, 0);

    public Shape GetByReferenceType(Shape elementType) => new SuffixShape(elementType, '@');

    public Shape GetPointerType(Shape elementType) => new SuffixShape(elementType, '*');

    public Shape GetPinnedType(Shape elementType) => elementType;

    public Shape GetModifiedType(Shape modifier, Shape unmodifiedType, bool isRequired) => unmodifiedType;

    public Shape GetFunctionPointerType(MethodSignature<Shape> signature) => new FunctionPointerShape(signature);

    public Shape GetGenericInstantiation(Shape genericType, ImmutableArray<Shape> typeArguments) =>
        ((NamedShape)genericType).WithArguments(typeArguments);

    public Shape GetGenericMethodParameter(object? genericContext, int index) => new GenericParameterShape(index, ofMethod: true);

    public Shape GetGenericTypeParameter(object? genericContext, int index) => new GenericParameterShape(index, ofMethod: false);

    public Shape GetPrimitiveType(PrimitiveTypeCode typeCode) => new NamedShape("System", [typeCode switch
    {
        PrimitiveTypeCode.Boolean => "Boolean",
        PrimitiveTypeCode.Char => "Char",
        PrimitiveTypeCode.SByte => "SByte",
        PrimitiveTypeCode.Byte => "Byte",
        PrimitiveTypeCode.Int16 => "Int16",
        PrimitiveTypeCode.UInt16 => "UInt16",
        PrimitiveTypeCode.Int32 => "Int32",
        PrimitiveTypeCode.UInt32 => "UInt32",
        PrimitiveTypeCode.Int64 => "Int64",
        PrimitiveTypeCode.UInt64 => "UInt64",
        PrimitiveTypeCode.Single => "Single",
        PrimitiveTypeCode.Double => "Double",
        PrimitiveTypeCode.String => "String",
        PrimitiveTypeCode.Object => "Object",
        PrimitiveTypeCode.IntPtr => "IntPtr",
        PrimitiveTypeCode.UIntPtr => "UIntPtr",
        PrimitiveTypeCode.TypedReference => "TypedReference",
        PrimitiveTypeCode.Void => "Void",
        _ => throw new BadImageFormatException($"unknown primitive type {typeCode}"),
    }], []);

    public Shape GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => Definition(reader, handle);

    public Shape GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
    {
        var names = new List<string>();
        var reference = reader.GetTypeReference(handle);
        while (true)
        {
            names.Add(reader.GetString(reference.Name));
            if (reference.ResolutionScope.Kind != HandleKind.TypeReference)
            {
                break;
            }
            reference = reader.GetTypeReference((TypeReferenceHandle)reference.ResolutionScope);
        }
        names.Reverse();
        return new NamedShape(reader.GetString(reference.Namespace), [.. names], []);
    }

    public Shape GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
        reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

    /// <summary>The definition itself (no type arguments).</summary>
    public static NamedShape Definition(MetadataReader reader, TypeDefinitionHandle handle)
    {
        var names = new List<string>();
        var definition = reader.GetTypeDefinition(handle);
        while (true)
        {
            names.Add(reader.GetString(definition.Name));
            var declaring = definition.GetDeclaringType();
            if (declaring.IsNil)
            {
                break;
            }
            definition = reader.GetTypeDefinition(declaring);
        }
        names.Reverse();
        return new NamedShape(reader.GetString(definition.Namespace), [.. names], []);
    }

    /// <summary>A base type or interface handle (definition, reference or specification) as a shape.</summary>
    public Shape Decode(MetadataReader reader, EntityHandle handle) => handle.Kind switch
    {
        HandleKind.TypeDefinition => Definition(reader, (TypeDefinitionHandle)handle),
        HandleKind.TypeReference => GetTypeFromReference(reader, (TypeReferenceHandle)handle, 0),
        HandleKind.TypeSpecification => GetTypeFromSpecification(reader, null, (TypeSpecificationHandle)handle, 0),
        _ => throw new BadImageFormatException($"unexpected type handle {handle.Kind}"),
    };
}
