using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Xml.Linq;
using DefectDetection.Imaging;
using DefectDetection.Onnx;
using DefectDetection.Pipeline;
using DefectDetection.Vision;

namespace DefectDetection.Vision.Tests.Packaging;

/// <summary>
/// The XML documentation files the four library packages ship (the ones beside the assemblies, as rewritten by
/// tools/DocFilter after the compile): public API only, no <c>&lt;inheritdoc/&gt;</c> left for IntelliSense to show as
/// nothing, and every public type and member documented. Documentation IDs are computed here with reflection,
/// independently of the tool's metadata-based ones.
/// </summary>
public sealed class PackageDocumentationTests
{
    public static TheoryData<string> Packages => new()
    {
        typeof(Image).Assembly.GetName().Name!,
        typeof(OnnxSession).Assembly.GetName().Name!,
        typeof(IDefectPipeline).Assembly.GetName().Name!,
        typeof(DefectModel).Assembly.GetName().Name!,
    };

    [Theory]
    [MemberData(nameof(Packages))]
    public void Documentation_describes_only_the_public_api(string package)
    {
        var (assembly, members) = Load(package);
        var api = PublicApi(assembly).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);

        var outside = members.Keys.Where(id => !api.Contains(id)).Order(StringComparer.Ordinal).ToList();

        Assert.True(outside.Count == 0, $"{package}.xml documents {outside.Count} members outside the public API:\n" + string.Join('\n', outside.Take(50)));
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Documentation_has_no_inheritdoc_left(string package)
    {
        var (_, members) = Load(package);

        var left = members.Where(m => m.Value.Descendants("inheritdoc").Any()).Select(m => m.Key).Order(StringComparer.Ordinal).ToList();

        Assert.True(left.Count == 0, $"{package}.xml still has <inheritdoc/> in:\n" + string.Join('\n', left));
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Every_public_type_and_member_is_documented(string package)
    {
        var (assembly, members) = Load(package);

        var missing = PublicApi(assembly)
            .Where(m => m.MustBeDocumented)
            .Where(m => !members.TryGetValue(m.Id, out var docs) || string.IsNullOrWhiteSpace(docs.Value) && !docs.Descendants().Any(e => e.Attributes().Any()))
            .Select(m => m.Id)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(missing.Count == 0, $"{package}.xml has no documentation for {missing.Count} public members:\n" + string.Join('\n', missing.Take(50)));
    }

    [Fact]
    public void Public_members_inherit_the_documentation_they_point_to()
    {
        // DefectPipeline.Inspect is `/// <inheritdoc />` in the source: it implements IDefectPipeline.Inspect.
        var (_, members) = Load(typeof(IDefectPipeline).Assembly.GetName().Name!);
        string inspect = Id(typeof(DefectPipeline).GetMethod(nameof(DefectPipeline.Inspect))!);
        string contract = Id(typeof(IDefectPipeline).GetMethod(nameof(IDefectPipeline.Inspect))!);

        Assert.Equal(Summary(members[contract]), Summary(members[inspect]));
        Assert.False(string.IsNullOrWhiteSpace(Summary(members[inspect])));
    }

    private static string Summary(XElement member) => member.Element("summary")?.Value.Trim() ?? "";

    private static (Assembly Assembly, Dictionary<string, XElement> Members) Load(string package)
    {
        var assembly = Assembly.Load(package);
        string xml = Path.ChangeExtension(assembly.Location, ".xml");
        Assert.True(File.Exists(xml), $"no documentation file beside {assembly.Location}");
        var members = XDocument.Load(xml).Root!.Element("members")!.Elements("member")
            .ToDictionary(m => m.Attribute("name")!.Value, StringComparer.Ordinal);
        return (assembly, members);
    }

    /// <summary>
    /// Public and protected types (nested ones in such types) and their public and protected members, without
    /// property and event accessors. Members the compiler writes without documentation comments are in the API but
    /// need no documentation: compiler-generated ones (a record's Equals, GetHashCode, Deconstruct, ...), a class's
    /// implicit parameterless constructor, an enum's value__ and a delegate's methods.
    /// </summary>
    private static IEnumerable<(string Id, bool MustBeDocumented)> PublicApi(Assembly assembly)
    {
        const BindingFlags all = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        foreach (var type in assembly.GetTypes().Where(IsVisible))
        {
            yield return (Id(type), true);
            bool isDelegate = typeof(Delegate).IsAssignableFrom(type);
            var accessors = type.GetProperties(all).SelectMany(p => p.GetAccessors(true))
                .Concat(type.GetEvents(all).SelectMany(e => new[] { e.AddMethod, e.RemoveMethod, e.RaiseMethod }).OfType<MethodInfo>())
                .ToHashSet();
            foreach (var member in type.GetMembers(all))
            {
                bool visible = member switch
                {
                    MethodBase method => !accessors.Contains(method) && IsVisible(method),
                    FieldInfo field => IsVisible(field),
                    PropertyInfo property => property.GetAccessors(true).Any(IsVisible),
                    EventInfo e => e.AddMethod is { } add && IsVisible(add),
                    _ => false,
                };
                if (!visible)
                {
                    continue;
                }
                bool exempt = isDelegate
                    || member.IsDefined(typeof(CompilerGeneratedAttribute))
                    || member is FieldInfo { IsSpecialName: true }
                    || member is ConstructorInfo { IsStatic: false } ctor && ctor.GetParameters().Length == 0;
                yield return (Id(member), !exempt);
            }
        }
    }

    private static bool IsVisible(Type type) =>
        type.IsPublic || (type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamORAssem) && IsVisible(type.DeclaringType!);

    private static bool IsVisible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static bool IsVisible(FieldInfo field) => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly;

    /// <summary>The documentation ID of a type or member, as the C# compiler writes it.</summary>
    private static string Id(MemberInfo member)
    {
        if (member is Type type)
        {
            return "T:" + DefinitionName(type);
        }
        var id = new StringBuilder();
        id.Append(member.MemberType switch
        {
            MemberTypes.Field => "F:",
            MemberTypes.Property => "P:",
            MemberTypes.Event => "E:",
            _ => "M:",
        });
        id.Append(DefinitionName(member.DeclaringType!)).Append('.').Append(member.Name.Replace('.', '#').Replace('<', '{').Replace('>', '}').Replace(',', '@'));
        ParameterInfo[] parameters = member switch
        {
            MethodBase method => method.GetParameters(),
            PropertyInfo property => property.GetIndexParameters(),
            _ => [],
        };
        if (member is MethodInfo { IsGenericMethodDefinition: true } generic)
        {
            id.Append("``").Append(generic.GetGenericArguments().Length);
        }
        if (parameters.Length > 0)
        {
            id.Append('(').AppendJoin(',', parameters.Select(p => SignatureName(p.ParameterType))).Append(')');
        }
        if (member is MethodInfo { Name: "op_Implicit" or "op_Explicit" } conversion)
        {
            id.Append('~').Append(SignatureName(conversion.ReturnType));
        }
        return id.ToString();
    }

    private static string DefinitionName(Type type) =>
        type.DeclaringType is { } outer ? DefinitionName(outer) + "." + type.Name : type.Namespace is { Length: > 0 } ns ? ns + "." + type.Name : type.Name;

    private static string SignatureName(Type type)
    {
        if (type.IsGenericParameter)
        {
            return (type.DeclaringMethod is null ? "`" : "``") + type.GenericParameterPosition;
        }
        if (type.IsByRef)
        {
            return SignatureName(type.GetElementType()!) + "@";
        }
        if (type.IsPointer)
        {
            return SignatureName(type.GetElementType()!) + "*";
        }
        if (type.IsArray)
        {
            return SignatureName(type.GetElementType()!) + (type.IsSZArray ? "[]" : "[" + string.Join(',', Enumerable.Repeat("0:", type.GetArrayRank())) + "]");
        }
        if (!type.IsGenericType)
        {
            return DefinitionName(type);
        }
        // Generic: each level's own arguments in braces (Outer{A}.Inner{B}).
        var arguments = new Queue<Type>(type.GetGenericArguments());
        var levels = new List<Type>();
        for (var t = type; t is not null; t = t.DeclaringType)
        {
            levels.Insert(0, t);
        }
        var name = new StringBuilder(levels[0].Namespace is { Length: > 0 } ns ? ns + "." : "");
        for (int i = 0; i < levels.Count; i++)
        {
            string levelName = levels[i].Name;
            int tick = levelName.IndexOf('`');
            name.Append(i > 0 ? "." : "").Append(tick < 0 ? levelName : levelName[..tick]);
            if (tick >= 0)
            {
                int arity = int.Parse(levelName.AsSpan(tick + 1));
                name.Append('{').AppendJoin(',', Enumerable.Range(0, arity).Select(_ => SignatureName(arguments.Dequeue()))).Append('}');
            }
        }
        return name.ToString();
    }
}
