using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;

namespace DefectDetection.Tools.DocFilter;

/// <summary>A type definition found by name, with the type arguments it was reached with.</summary>
internal readonly record struct TypeInContext(LoadedAssembly Assembly, TypeDefinitionHandle Handle, ImmutableArray<Shape> Arguments)
{
    public TypeDefinition Definition => Assembly.Reader.GetTypeDefinition(Handle);
}

/// <summary>
/// The assembly whose documentation is rewritten and the assemblies it was compiled against (their XML files beside
/// them), with types found by their full name across all of them.
/// </summary>
internal sealed class AssemblySet : IDisposable
{
    private readonly List<LoadedAssembly> _all = [];
    private Dictionary<string, (LoadedAssembly Assembly, TypeDefinitionHandle Handle)>? _types;

    public AssemblySet(LoadedAssembly main, IEnumerable<string> references)
    {
        Main = main;
        _all.Add(main);
        foreach (string path in references)
        {
            if (!File.Exists(path) || string.Equals(Path.GetFullPath(path), Path.GetFullPath(main.Path), StringComparison.Ordinal))
            {
                continue;
            }
            try
            {
                _all.Add(new LoadedAssembly(path, Path.ChangeExtension(path, ".xml")));
            }
            catch (BadImageFormatException)
            {
                // Not a managed assembly (a native library listed as a reference): nothing to inherit from there.
            }
        }
    }

    public LoadedAssembly Main { get; }

    /// <summary>The definition of a named type (its type arguments kept), or null when no assembly defines it.</summary>
    public TypeInContext? Find(Shape shape)
    {
        if (shape is not NamedShape named)
        {
            return null;
        }
        _types ??= IndexTypes();
        return _types.TryGetValue(named.DefinitionName, out var found) ? new TypeInContext(found.Assembly, found.Handle, named.Arguments) : null;
    }

    /// <summary>The assembly that defines the type a documentation ID names (<c>T:</c>) or belongs to (<c>M:</c>, <c>P:</c>, ...).</summary>
    public LoadedAssembly? FindByDocId(string id)
    {
        if (Main.Docs(id) is not null || id.Length < 3 || id[1] != ':')
        {
            return Main;
        }
        string name = id[2..];
        if (id[0] != 'T')
        {
            int parenthesis = name.IndexOf('(');
            if (parenthesis >= 0)
            {
                name = name[..parenthesis];
            }
            int dot = name.LastIndexOf('.');
            if (dot < 0)
            {
                return null;
            }
            name = name[..dot];
        }
        _types ??= IndexTypes();
        return _types.TryGetValue(name, out var found) ? found.Assembly : null;
    }

    private Dictionary<string, (LoadedAssembly, TypeDefinitionHandle)> IndexTypes()
    {
        var types = new Dictionary<string, (LoadedAssembly, TypeDefinitionHandle)>(StringComparer.Ordinal);
        foreach (var assembly in _all)
        {
            var reader = assembly.Reader;
            foreach (var handle in reader.TypeDefinitions)
            {
                // Another assembly's non-public types cannot be derived from or implemented.
                if (assembly != Main && !assembly.IsVisible(handle))
                {
                    continue;
                }
                types.TryAdd(ShapeProvider.Definition(reader, handle).DefinitionName, (assembly, handle));
            }
        }
        return types;
    }

    /// <summary>The base classes of a type, nearest first, with their type arguments in terms of the type's own parameters.</summary>
    public IEnumerable<TypeInContext> BaseTypes(TypeInContext type)
    {
        var current = type;
        while (true)
        {
            var baseHandle = current.Definition.BaseType;
            if (baseHandle.IsNil)
            {
                yield break;
            }
            var shape = ShapeProvider.Instance.Decode(current.Assembly.Reader, baseHandle).Substitute(current.Arguments);
            if (Find(shape) is not { } found)
            {
                yield break;
            }
            yield return found;
            current = found;
        }
    }

    /// <summary>Every interface a type implements (its own, its interfaces' and its base classes'), each once.</summary>
    public IEnumerable<TypeInContext> Interfaces(TypeInContext type)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<TypeInContext>();
        pending.Enqueue(type);
        foreach (var baseType in BaseTypes(type))
        {
            pending.Enqueue(baseType);
        }
        while (pending.TryDequeue(out var current))
        {
            foreach (var implementationHandle in current.Definition.GetInterfaceImplementations())
            {
                var implementation = current.Assembly.Reader.GetInterfaceImplementation(implementationHandle);
                var shape = ShapeProvider.Instance.Decode(current.Assembly.Reader, implementation.Interface).Substitute(current.Arguments);
                if (!seen.Add(shape.ToString()) || Find(shape) is not { } found)
                {
                    continue;
                }
                yield return found;
                pending.Enqueue(found);
            }
        }
    }

    public void Dispose()
    {
        foreach (var assembly in _all)
        {
            assembly.Dispose();
        }
    }
}
