using System.Reflection;
using System.Reflection.Metadata;
using System.Xml.Linq;
using System.Xml.XPath;

namespace DefectDetection.Tools.DocFilter;

/// <summary>
/// Replaces <c>&lt;inheritdoc/&gt;</c> by the documentation it stands for.
/// <list type="bullet">
/// <item>With <c>cref</c>: the documentation of that ID, in this assembly or the one that defines its type.</item>
/// <item>Without: for a type, its base classes' then its interfaces'; for a constructor, the base class's constructor
/// with the same parameters; for a method, property or event, the member it overrides (nearest documented base
/// first), then the interface member it implements (explicitly or by name and signature).</item>
/// <item>At the top of a member, every inherited element the member does not already have (one per tag; per
/// <c>name</c> for <c>param</c>/<c>typeparam</c>; per <c>cref</c> for <c>exception</c>/<c>seealso</c>) takes
/// its place; inside an element (<c>&lt;summary&gt;Also: &lt;inheritdoc/&gt;&lt;/summary&gt;</c>), the content of the
/// inherited element of the same tag and name. A <c>path</c> attribute selects elements of the inherited member
/// (an XPath relative to it: <c>path="summary"</c> or <c>path="/summary"</c>).</item>
/// <item>Parameters are matched by position: an implementation that renames a parameter keeps its own name in
/// <c>param</c> and <c>paramref</c>.</item>
/// </list>
/// </summary>
internal sealed class InheritDocResolver(AssemblySet set)
{
    private readonly Dictionary<(LoadedAssembly, string), XElement?> _resolved = [];
    private readonly HashSet<(LoadedAssembly, string)> _inProgress = [];

    /// <summary>The documentation of <paramref name="entity"/> with its <c>inheritdoc</c> elements expanded; each one with nothing to inherit is described in <paramref name="failures"/> and left out.</summary>
    public XElement Expand(Entity entity, XElement docs, List<string> failures)
    {
        var result = new XElement(docs);
        var elements = result.Elements("inheritdoc").ToList();
        elements.AddRange(result.Descendants("inheritdoc").Where(e => e.Parent != result).ToList());
        foreach (var inheritdoc in elements)
        {
            string? cref = inheritdoc.Attribute("cref")?.Value;
            var source = cref is null ? FindInherited(entity) : FindById(cref);
            if (source is null)
            {
                failures.Add(cref is null ? "nothing to inherit (no documented base or interface member)" : $"nothing to inherit from cref \"{cref}\"");
                inheritdoc.Remove();
                continue;
            }
            var (sourceDocs, sourceEntity) = source.Value;
            var renames = sourceEntity is { } from ? Renames(from, entity) : Renames(null, entity);
            string? path = inheritdoc.Attribute("path")?.Value;
            List<XNode> inherited;
            if (inheritdoc.Parent == result)
            {
                // At the top: the inherited elements the member does not have itself (or what the path selects).
                var present = result.Elements().Where(e => e.Name != "inheritdoc").Select(Key).ToHashSet(StringComparer.Ordinal);
                inherited = (path is null ? sourceDocs.Elements() : Select(sourceDocs, path))
                    .Select(n => Copy(n, renames))
                    .Where(n => n is not XElement e || e.Name != "inheritdoc" && present.Add(Key(e)))
                    .ToList();
            }
            else
            {
                // Inside an element: the content of the inherited element with the same tag and name (or what the path selects).
                var top = inheritdoc.AncestorsAndSelf().First(e => e.Parent == result);
                inherited = path is not null
                    ? Select(sourceDocs, path).Select(n => Copy(n, renames)).ToList()
                    : sourceDocs.Elements(top.Name)
                        .Select(e => (XElement)Copy(e, renames))
                        .FirstOrDefault(e => e.Attribute("name")?.Value == top.Attribute("name")?.Value)?.Nodes().ToList() ?? [];
            }
            if (inherited.Count == 0 && (path is not null || inheritdoc.Parent != result))
            {
                failures.Add(path is null ? $"nothing to inherit into <{inheritdoc.AncestorsAndSelf().First(e => e.Parent == result).Name}>" : $"nothing selected by path \"{path}\"");
                inheritdoc.Remove();
                continue;
            }
            inheritdoc.ReplaceWith(inherited);
        }
        return result;
    }

    /// <summary>
    /// The nodes an XPath selects in the inherited member: <c>/summary</c> and <c>/summary/node()</c> as Roslyn reads them
    /// (from the member element); a path without the leading slash is read the same way.
    /// </summary>
    private static IEnumerable<XNode> Select(XElement docs, string path) =>
        ((System.Collections.IEnumerable)docs.XPathEvaluate(path.TrimStart('/'))).OfType<XNode>();

    private static XNode Copy(XNode node, Dictionary<string, string> renames) => node switch
    {
        XElement e => Rename(new XElement(e), renames),
        XCData c => new XCData(c),
        XText t => new XText(t),
        XComment c => new XComment(c),
        _ => new XText(""),
    };

    private static string Key(XElement element)
    {
        string name = element.Name.LocalName;
        return name switch
        {
            "param" or "typeparam" => name + "|" + element.Attribute("name")?.Value,
            "exception" or "seealso" or "permission" => name + "|" + element.Attribute("cref")?.Value + element.Attribute("href")?.Value,
            _ => name,
        };
    }

    /// <summary>The documentation of a member of any assembly in the set, expanded; null when it has none or cannot be expanded.</summary>
    private XElement? Resolve(Entity entity) => Resolve(entity.Assembly, LoadedAssembly.DocId(entity));

    private XElement? Resolve(LoadedAssembly assembly, string id)
    {
        if (_resolved.TryGetValue((assembly, id), out var done))
        {
            return done;
        }
        var docs = assembly.Docs(id);
        if (docs is null || !docs.Descendants("inheritdoc").Any())
        {
            return docs;
        }
        if (!_inProgress.Add((assembly, id)) || !assembly.Entities.TryGetValue(id, out var entity))
        {
            return null;
        }
        var failures = new List<string>();
        var expanded = Expand(entity, docs, failures);
        _inProgress.Remove((assembly, id));
        return _resolved[(assembly, id)] = failures.Count == 0 ? expanded : null;
    }

    private (XElement Docs, Entity? Entity)? FindById(string id)
    {
        if (id.StartsWith("!:", StringComparison.Ordinal) || set.FindByDocId(id) is not { } assembly)
        {
            return null;
        }
        return Resolve(assembly, id) is { } docs ? (docs, assembly.Entities.TryGetValue(id, out var e) ? e : null) : null;
    }

    private (XElement Docs, Entity? Entity)? FindInherited(Entity entity)
    {
        foreach (var candidate in Candidates(entity))
        {
            if (Resolve(candidate) is { } docs)
            {
                return (docs, candidate);
            }
        }
        return null;
    }

    /// <summary>The members <paramref name="entity"/> may inherit documentation from, in order of preference.</summary>
    private IEnumerable<Entity> Candidates(Entity entity)
    {
        var reader = entity.Reader;
        var type = new TypeInContext(entity.Assembly, entity.Type, []);
        switch (entity.Kind)
        {
            case HandleKind.TypeDefinition:
                foreach (var baseType in set.BaseTypes(type))
                {
                    if (!IsUniversalBase(baseType))
                    {
                        yield return new Entity(baseType.Assembly, baseType.Handle, baseType.Handle);
                    }
                }
                foreach (var face in set.Interfaces(type))
                {
                    yield return new Entity(face.Assembly, face.Handle, face.Handle);
                }
                yield break;

            case HandleKind.MethodDefinition:
            {
                var method = reader.GetMethodDefinition((MethodDefinitionHandle)entity.Handle);
                var signature = Signature.Of(entity);
                if (signature.Name == ".ctor")
                {
                    if (set.BaseTypes(type).FirstOrDefault() is { Assembly: not null } baseType)
                    {
                        foreach (var match in Matches(baseType, signature))
                        {
                            yield return match;
                        }
                    }
                    yield break;
                }
                if (IsOverride(method.Attributes))
                {
                    foreach (var baseType in set.BaseTypes(type))
                    {
                        foreach (var match in Matches(baseType, signature))
                        {
                            yield return match;
                        }
                    }
                }
                foreach (var implementationHandle in reader.GetTypeDefinition(entity.Type).GetMethodImplementations())
                {
                    var implementation = reader.GetMethodImplementation(implementationHandle);
                    if (implementation.MethodBody == entity.Handle && Declaration(entity.Assembly, implementation.MethodDeclaration) is { } declared)
                    {
                        yield return declared;
                    }
                }
                foreach (var face in set.Interfaces(type))
                {
                    foreach (var match in Matches(face, signature))
                    {
                        yield return match;
                    }
                }
                yield break;
            }

            case HandleKind.PropertyDefinition:
            case HandleKind.EventDefinition:
            {
                var signature = Signature.Of(entity);
                if (IsOverride(AccessorAttributes(entity)))
                {
                    foreach (var baseType in set.BaseTypes(type))
                    {
                        foreach (var match in Matches(baseType, signature))
                        {
                            yield return match;
                        }
                    }
                }
                foreach (var face in set.Interfaces(type))
                {
                    foreach (var match in Matches(face, signature))
                    {
                        yield return match;
                    }
                }
                yield break;
            }
        }
    }

    private static bool IsUniversalBase(TypeInContext type)
    {
        var definition = type.Definition;
        var reader = type.Assembly.Reader;
        return reader.GetString(definition.Namespace) == "System"
            && reader.GetString(definition.Name) is "Object" or "ValueType" or "Enum" or "Delegate" or "MulticastDelegate";
    }

    private static bool IsOverride(MethodAttributes attributes) =>
        (attributes & MethodAttributes.Virtual) != 0 && (attributes & MethodAttributes.NewSlot) == 0;

    private static MethodAttributes AccessorAttributes(Entity entity)
    {
        var reader = entity.Reader;
        var accessor = entity.Kind == HandleKind.PropertyDefinition
            ? reader.GetPropertyDefinition((PropertyDefinitionHandle)entity.Handle).GetAccessors() is var p && !p.Getter.IsNil ? p.Getter : p.Setter
            : reader.GetEventDefinition((EventDefinitionHandle)entity.Handle).GetAccessors().Adder;
        return accessor.IsNil ? 0 : reader.GetMethodDefinition(accessor).Attributes;
    }

    /// <summary>The members of <paramref name="type"/> with the same kind, name and signature, those whose return type matches too first.</summary>
    private static IEnumerable<Entity> Matches(TypeInContext type, Signature signature)
    {
        var reader = type.Assembly.Reader;
        var definition = type.Definition;
        IEnumerable<EntityHandle> members = signature.Kind switch
        {
            HandleKind.MethodDefinition => definition.GetMethods().Select(h => (EntityHandle)h),
            HandleKind.PropertyDefinition => definition.GetProperties().Select(h => (EntityHandle)h),
            _ => definition.GetEvents().Select(h => (EntityHandle)h),
        };
        var sameParameters = new List<(Entity Entity, bool SameReturn)>();
        foreach (var handle in members)
        {
            var candidate = new Entity(type.Assembly, type.Handle, handle);
            var other = Signature.Of(candidate, type.Arguments);
            if (other.Name == signature.Name && other.Arity == signature.Arity && other.Parameters.SequenceEqual(signature.Parameters))
            {
                sameParameters.Add((candidate, other.Return == signature.Return));
            }
        }
        return sameParameters.OrderByDescending(m => m.SameReturn).Select(m => m.Entity);
    }

    /// <summary>The interface method a MethodImpl row names, or null when its type is not in the set.</summary>
    private Entity? Declaration(LoadedAssembly assembly, EntityHandle handle)
    {
        var reader = assembly.Reader;
        if (handle.Kind == HandleKind.MethodDefinition)
        {
            var method = reader.GetMethodDefinition((MethodDefinitionHandle)handle);
            return new Entity(assembly, method.GetDeclaringType(), handle);
        }
        if (handle.Kind != HandleKind.MemberReference)
        {
            return null;
        }
        var reference = reader.GetMemberReference((MemberReferenceHandle)handle);
        if (set.Find(ShapeProvider.Instance.Decode(reader, reference.Parent)) is not { } face)
        {
            return null;
        }
        var decoded = reference.DecodeMethodSignature(ShapeProvider.Instance, null);
        var signature = new Signature(HandleKind.MethodDefinition, reader.GetString(reference.Name), decoded.GenericParameterCount,
            decoded.ParameterTypes.Select(p => p.ToString()).ToList(), decoded.ReturnType.ToString());
        // The reference's signature is written in the interface's own type parameters: compare without substituting.
        return Matches(face with { Arguments = [] }, signature).Cast<Entity?>().FirstOrDefault();
    }

    /// <summary>Parameter and type parameter names of the inherited member mapped to the inheriting member's, by position.</summary>
    private static Dictionary<string, string> Renames(Entity? from, Entity to)
    {
        var renames = new Dictionary<string, string>(StringComparer.Ordinal);
        if (from is not { } source)
        {
            return renames;
        }
        AddAll(ParameterNames(source), ParameterNames(to));
        AddAll(TypeParameterNames(source), TypeParameterNames(to));
        return renames;

        void AddAll(List<string> names, List<string> newNames)
        {
            if (names.Count != newNames.Count)
            {
                return;
            }
            for (int i = 0; i < names.Count; i++)
            {
                if (names[i] != newNames[i] && names[i].Length > 0 && newNames[i].Length > 0)
                {
                    renames.TryAdd(names[i], newNames[i]);
                }
            }
        }
    }

    private static List<string> ParameterNames(Entity entity)
    {
        var reader = entity.Reader;
        MethodDefinitionHandle method;
        int count;
        switch (entity.Kind)
        {
            case HandleKind.MethodDefinition:
                method = (MethodDefinitionHandle)entity.Handle;
                count = Signature.Of(entity).Parameters.Count;
                break;
            case HandleKind.PropertyDefinition:
                // An indexer: its getter's parameters are the index.
                method = reader.GetPropertyDefinition((PropertyDefinitionHandle)entity.Handle).GetAccessors().Getter;
                count = Signature.Of(entity).Parameters.Count;
                if (method.IsNil)
                {
                    return [];
                }
                break;
            default:
                return [];
        }
        var names = Enumerable.Repeat("", count).ToList();
        foreach (var handle in reader.GetMethodDefinition(method).GetParameters())
        {
            var parameter = reader.GetParameter(handle);
            if (parameter.SequenceNumber >= 1 && parameter.SequenceNumber <= count)
            {
                names[parameter.SequenceNumber - 1] = reader.GetString(parameter.Name);
            }
        }
        return names;
    }

    private static List<string> TypeParameterNames(Entity entity)
    {
        var reader = entity.Reader;
        return entity.Kind == HandleKind.MethodDefinition
            ? reader.GetMethodDefinition((MethodDefinitionHandle)entity.Handle).GetGenericParameters()
                .Select(h => reader.GetString(reader.GetGenericParameter(h).Name)).ToList()
            : [];
    }

    private static XElement Rename(XElement element, Dictionary<string, string> renames)
    {
        if (renames.Count == 0)
        {
            return element;
        }
        foreach (var e in element.DescendantsAndSelf())
        {
            if (e.Name.LocalName is "param" or "paramref" or "typeparam" or "typeparamref"
                && e.Attribute("name") is { } name && renames.TryGetValue(name.Value, out var newName))
            {
                name.Value = newName;
            }
        }
        return element;
    }
}

/// <summary>What makes two members the same for overriding and implementing: kind, name, arity and parameter types (return type as a tie-break).</summary>
internal sealed record Signature(HandleKind Kind, string Name, int Arity, IReadOnlyList<string> Parameters, string Return)
{
    /// <summary>The signature of a member, with its type's parameters replaced by <paramref name="typeArguments"/> when given.</summary>
    public static Signature Of(Entity entity, IReadOnlyList<Shape>? typeArguments = null)
    {
        var reader = entity.Reader;
        typeArguments ??= [];
        switch (entity.Kind)
        {
            case HandleKind.MethodDefinition:
            {
                var method = reader.GetMethodDefinition((MethodDefinitionHandle)entity.Handle);
                var decoded = method.DecodeSignature(ShapeProvider.Instance, null);
                return new Signature(entity.Kind, reader.GetString(method.Name), decoded.GenericParameterCount,
                    decoded.ParameterTypes.Select(p => p.Substitute(typeArguments).ToString()).ToList(), decoded.ReturnType.Substitute(typeArguments).ToString());
            }
            case HandleKind.PropertyDefinition:
            {
                var property = reader.GetPropertyDefinition((PropertyDefinitionHandle)entity.Handle);
                var decoded = property.DecodeSignature(ShapeProvider.Instance, null);
                return new Signature(entity.Kind, reader.GetString(property.Name), 0,
                    decoded.ParameterTypes.Select(p => p.Substitute(typeArguments).ToString()).ToList(), decoded.ReturnType.Substitute(typeArguments).ToString());
            }
            case HandleKind.EventDefinition:
            {
                var e = reader.GetEventDefinition((EventDefinitionHandle)entity.Handle);
                return new Signature(entity.Kind, reader.GetString(e.Name), 0, [], ShapeProvider.Instance.Decode(reader, e.Type).Substitute(typeArguments).ToString());
            }
            default:
                return new Signature(entity.Kind, "", 0, [], "");
        }
    }
}
