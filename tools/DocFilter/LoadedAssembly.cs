using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Xml.Linq;

namespace DefectDetection.Tools.DocFilter;

/// <summary>A type or member of one assembly.</summary>
internal readonly record struct Entity(LoadedAssembly Assembly, TypeDefinitionHandle Type, EntityHandle Handle)
{
    public HandleKind Kind => Handle.Kind;

    public MetadataReader Reader => Assembly.Reader;
}

/// <summary>
/// One assembly's metadata (read, never loaded) and, when it has one beside it, its XML documentation file (read on
/// first use). Documentation IDs are computed from the metadata with the compiler's rules.
/// </summary>
internal sealed class LoadedAssembly : IDisposable
{
    private readonly PEReader _pe;
    private readonly string? _xmlPath;
    private Dictionary<string, XElement>? _docs;
    private Dictionary<string, Entity>? _entities;

    public LoadedAssembly(string path, string? xmlPath)
    {
        Path = path;
        _pe = new PEReader(File.OpenRead(path));
        Reader = _pe.GetMetadataReader();
        Name = Reader.IsAssembly ? Reader.GetString(Reader.GetAssemblyDefinition().Name) : System.IO.Path.GetFileNameWithoutExtension(path);
        _xmlPath = xmlPath is not null && File.Exists(xmlPath) ? xmlPath : null;
    }

    public string Path { get; }

    public string Name { get; }

    public MetadataReader Reader { get; }

    /// <summary>The parsed documentation file, when one was given and read.</summary>
    public XDocument? Document { get; private set; }

    /// <summary>Uses an already parsed documentation file (the one being rewritten) instead of reading one.</summary>
    public void UseDocument(XDocument document)
    {
        Document = document;
        _docs = Index(document);
    }

    /// <summary>The documentation of the member with this ID, or null.</summary>
    public XElement? Docs(string id)
    {
        if (_docs is null)
        {
            if (_xmlPath is null)
            {
                _docs = [];
            }
            else
            {
                Document = XDocument.Load(_xmlPath, LoadOptions.PreserveWhitespace);
                _docs = Index(Document);
            }
        }
        return _docs.GetValueOrDefault(id);
    }

    private static Dictionary<string, XElement> Index(XDocument document)
    {
        var docs = new Dictionary<string, XElement>(StringComparer.Ordinal);
        foreach (var member in document.Root?.Element("members")?.Elements("member") ?? [])
        {
            if (member.Attribute("name")?.Value is { } name)
            {
                docs.TryAdd(name, member);
            }
        }
        return docs;
    }

    /// <summary>Every type and member of the assembly by documentation ID (built on first use).</summary>
    public IReadOnlyDictionary<string, Entity> Entities => _entities ??= BuildEntities();

    private Dictionary<string, Entity> BuildEntities()
    {
        var entities = new Dictionary<string, Entity>(StringComparer.Ordinal);
        foreach (var typeHandle in Reader.TypeDefinitions)
        {
            var type = Reader.GetTypeDefinition(typeHandle);
            if (type.GetDeclaringType().IsNil && Reader.GetString(type.Name) == "<Module>")
            {
                continue;
            }
            Add(new Entity(this, typeHandle, typeHandle));
            foreach (var h in type.GetMethods())
            {
                Add(new Entity(this, typeHandle, h));
            }
            foreach (var h in type.GetFields())
            {
                Add(new Entity(this, typeHandle, h));
            }
            foreach (var h in type.GetProperties())
            {
                Add(new Entity(this, typeHandle, h));
            }
            foreach (var h in type.GetEvents())
            {
                Add(new Entity(this, typeHandle, h));
            }
        }
        return entities;

        void Add(Entity entity) => entities.TryAdd(DocId(entity), entity);
    }

    /// <summary>The documentation ID of a type or member, as the C# compiler writes it.</summary>
    public static string DocId(Entity entity)
    {
        var reader = entity.Reader;
        string typeName = ShapeProvider.Definition(reader, entity.Type).DefinitionName;
        switch (entity.Kind)
        {
            case HandleKind.TypeDefinition:
                return "T:" + typeName;
            case HandleKind.FieldDefinition:
                return "F:" + typeName + "." + Escape(reader.GetString(reader.GetFieldDefinition((FieldDefinitionHandle)entity.Handle).Name));
            case HandleKind.EventDefinition:
                return "E:" + typeName + "." + Escape(reader.GetString(reader.GetEventDefinition((EventDefinitionHandle)entity.Handle).Name));
            case HandleKind.PropertyDefinition:
            {
                var property = reader.GetPropertyDefinition((PropertyDefinitionHandle)entity.Handle);
                var builder = new StringBuilder("P:").Append(typeName).Append('.').Append(Escape(reader.GetString(property.Name)));
                AppendParameters(builder, property.DecodeSignature(ShapeProvider.Instance, null).ParameterTypes);
                return builder.ToString();
            }
            case HandleKind.MethodDefinition:
            {
                var method = reader.GetMethodDefinition((MethodDefinitionHandle)entity.Handle);
                string name = reader.GetString(method.Name);
                var signature = method.DecodeSignature(ShapeProvider.Instance, null);
                var builder = new StringBuilder("M:").Append(typeName).Append('.').Append(Escape(name));
                if (signature.GenericParameterCount > 0)
                {
                    builder.Append("``").Append(signature.GenericParameterCount);
                }
                AppendParameters(builder, signature.ParameterTypes);
                if (name is "op_Implicit" or "op_Explicit")
                {
                    builder.Append('~');
                    signature.ReturnType.Write(builder);
                }
                return builder.ToString();
            }
            default:
                throw new ArgumentException($"not a type or member: {entity.Kind}");
        }
    }

    private static void AppendParameters(StringBuilder builder, IReadOnlyList<Shape> parameters)
    {
        if (parameters.Count == 0)
        {
            return;
        }
        builder.Append('(');
        for (int i = 0; i < parameters.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }
            parameters[i].Write(builder);
        }
        builder.Append(')');
    }

    /// <summary>A member name in an ID: <c>.ctor</c> is <c>#ctor</c>, <c>Ns.IFoo&lt;T&gt;.Bar</c> (an explicit implementation) is <c>Ns#IFoo{T}#Bar</c>.</summary>
    private static string Escape(string name) => name.Replace('.', '#').Replace('<', '{').Replace('>', '}').Replace(',', '@');

    /// <summary>Whether the type can be seen from another assembly: public, or nested public/protected in such a type.</summary>
    public bool IsVisible(TypeDefinitionHandle handle)
    {
        var type = Reader.GetTypeDefinition(handle);
        return (type.Attributes & TypeAttributes.VisibilityMask) switch
        {
            TypeAttributes.Public => true,
            TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem => IsVisible(type.GetDeclaringType()),
            _ => false,
        };
    }

    /// <summary>Whether the type or member belongs to the public API: visible from another assembly (public or protected).</summary>
    public bool IsVisible(Entity entity)
    {
        if (!IsVisible(entity.Type))
        {
            return false;
        }
        var reader = entity.Reader;
        switch (entity.Kind)
        {
            case HandleKind.TypeDefinition:
                return true;
            case HandleKind.MethodDefinition:
                return IsVisible(reader.GetMethodDefinition((MethodDefinitionHandle)entity.Handle).Attributes);
            case HandleKind.FieldDefinition:
                return IsVisible((MethodAttributes)(int)(reader.GetFieldDefinition((FieldDefinitionHandle)entity.Handle).Attributes & FieldAttributes.FieldAccessMask));
            case HandleKind.PropertyDefinition:
            {
                var accessors = reader.GetPropertyDefinition((PropertyDefinitionHandle)entity.Handle).GetAccessors();
                return IsVisible(reader, accessors.Getter) || IsVisible(reader, accessors.Setter);
            }
            case HandleKind.EventDefinition:
            {
                var accessors = reader.GetEventDefinition((EventDefinitionHandle)entity.Handle).GetAccessors();
                return IsVisible(reader, accessors.Adder) || IsVisible(reader, accessors.Remover);
            }
            default:
                return false;
        }
    }

    private static bool IsVisible(MetadataReader reader, MethodDefinitionHandle accessor) =>
        !accessor.IsNil && IsVisible(reader.GetMethodDefinition(accessor).Attributes);

    private static bool IsVisible(MethodAttributes attributes) => (attributes & MethodAttributes.MemberAccessMask) is
        MethodAttributes.Public or MethodAttributes.Family or MethodAttributes.FamORAssem;

    public void Dispose() => _pe.Dispose();
}
