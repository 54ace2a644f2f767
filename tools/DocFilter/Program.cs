using System.Security.Cryptography;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace DefectDetection.Tools.DocFilter;

/// <summary>
/// <code>
/// DocFilter filter --assembly obj/X.dll --xml obj/X.xml [--references list.txt] [--state obj/X.docfilter] [--origin X.csproj]
/// DocFilter check  --assembly X.dll --xml X.xml
/// </code>
/// <c>filter</c> rewrites the documentation file in place: only the public API stays (public and protected members of
/// public types, nested ones included) and every <c>&lt;inheritdoc/&gt;</c> is expanded from this assembly's docs or
/// those of the assemblies listed one per line in <c>--references</c> (each assembly's XML file beside it). An
/// <c>inheritdoc</c> with nothing to inherit is an error (exit 1), printed in MSBuild's format so the build lists it.
/// With <c>--state</c>, the compiler's file is kept as <c>STATE.raw.xml</c> and the output's hash as <c>STATE.stamp</c>:
/// running again without a new compile starts from the compiler's file, not from the rewritten one.
/// <c>check</c> counts what a documentation file holds beyond the public API and exits 1 when it is not clean.
/// </summary>
internal static class Program
{
    private const string Indent = "            ";
    private const string CloseIndent = "        ";

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("filter" or "check"))
        {
            return Usage();
        }
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                return Usage();
            }
            options[args[i][2..]] = args[i + 1];
        }
        if (!options.TryGetValue("assembly", out var assembly) || !options.TryGetValue("xml", out var xml))
        {
            return Usage();
        }
        string origin = options.GetValueOrDefault("origin") ?? "DocFilter";
        try
        {
            return args[0] == "filter"
                ? Filter(assembly, xml, options.GetValueOrDefault("references"), options.GetValueOrDefault("state"), origin)
                : Check(assembly, xml);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{origin}: error DOC000: DocFilter failed on {xml}: {e}");
            return 1;
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: DocFilter filter --assembly X.dll --xml X.xml [--references FILE] [--state PREFIX] [--origin NAME]");
        Console.Error.WriteLine("       DocFilter check --assembly X.dll --xml X.xml");
        return 2;
    }

    private static int Filter(string assemblyPath, string xmlPath, string? referencesPath, string? state, string origin)
    {
        string input = xmlPath;
        if (state is not null)
        {
            // The compiler's file is kept aside; the rewritten one is recognised by the hash stored last time.
            string raw = state + ".raw.xml";
            string stamp = state + ".stamp";
            bool rewritten = File.Exists(raw) && File.Exists(stamp) && File.ReadAllText(stamp).Trim() == Hash(File.ReadAllBytes(xmlPath));
            if (!rewritten)
            {
                File.Copy(xmlPath, raw, overwrite: true);
            }
            input = raw;
        }

        var document = XDocument.Load(input, LoadOptions.PreserveWhitespace);
        var references = referencesPath is null ? [] : File.ReadAllLines(referencesPath).Where(l => l.Length > 0);
        using var set = new AssemblySet(new LoadedAssembly(assemblyPath, null), references);
        set.Main.UseDocument(document);
        var resolver = new InheritDocResolver(set);
        var errors = new List<string>();
        var replacements = new List<(XElement Old, XElement New)>();
        var removals = new List<XElement>();
        foreach (var member in Members(document))
        {
            string id = member.Attribute("name")?.Value ?? "";
            if (!set.Main.Entities.TryGetValue(id, out var entity))
            {
                errors.Add($"error DOC002: {id}: the documentation file names a member the assembly does not have (a DocFilter bug: its IDs differ from the compiler's)");
                continue;
            }
            if (!set.Main.IsVisible(entity))
            {
                removals.Add(member);
                continue;
            }
            if (!member.Descendants("inheritdoc").Any())
            {
                continue;
            }
            var failures = new List<string>();
            var expanded = resolver.Expand(entity, member, failures);
            errors.AddRange(failures.Select(f => $"error DOC001: {id}: <inheritdoc/> has {f}; write its documentation"));
            replacements.Add((member, expanded));
        }
        foreach (var (old, expanded) in replacements)
        {
            Reindent(expanded);
            old.ReplaceWith(expanded);
        }
        foreach (var member in removals)
        {
            if (member.PreviousNode is XText { Value: var space } text && string.IsNullOrWhiteSpace(space))
            {
                text.Remove();
            }
            member.Remove();
        }

        foreach (var error in errors)
        {
            Console.Error.WriteLine($"{origin}: {error}");
        }
        if (errors.Count > 0)
        {
            return 1;
        }

        byte[] output = Serialize(document);
        string temporary = xmlPath + ".tmp";
        File.WriteAllBytes(temporary, output);
        File.Move(temporary, xmlPath, overwrite: true);
        if (state is not null)
        {
            File.WriteAllText(state + ".stamp", Hash(output) + "\n");
        }
        Console.WriteLine($"DocFilter: {Path.GetFileName(xmlPath)}: kept {Members(document).Count()} members, removed {removals.Count} non-public, expanded <inheritdoc/> in {replacements.Count}");
        return 0;
    }

    private static int Check(string assemblyPath, string xmlPath)
    {
        var document = XDocument.Load(xmlPath, LoadOptions.PreserveWhitespace);
        using var assembly = new LoadedAssembly(assemblyPath, null);
        int total = 0, unknown = 0, hidden = 0, inheriting = 0, onlyInheriting = 0;
        foreach (var member in Members(document))
        {
            total++;
            string id = member.Attribute("name")?.Value ?? "";
            if (!assembly.Entities.TryGetValue(id, out var entity))
            {
                unknown++;
                Console.WriteLine($"  unknown ID {id}");
            }
            else if (!assembly.IsVisible(entity))
            {
                hidden++;
            }
            if (member.Descendants("inheritdoc").Any())
            {
                inheriting++;
                if (member.Elements().All(e => e.Name == "inheritdoc"))
                {
                    onlyInheriting++;
                }
            }
        }
        Console.WriteLine($"{Path.GetFileName(xmlPath)}: {total} members, {hidden} of non-public types or non-public, " +
            $"{inheriting} with <inheritdoc/> ({onlyInheriting} with nothing else), {unknown} unknown");
        return hidden + inheriting + unknown == 0 ? 0 : 1;
    }

    private static IEnumerable<XElement> Members(XDocument document) =>
        document.Root?.Element("members")?.Elements("member") ?? [];

    /// <summary>Lays out a member the way the compiler does: one child per line.</summary>
    private static void Reindent(XElement member)
    {
        foreach (var text in member.Nodes().OfType<XText>().Where(t => string.IsNullOrWhiteSpace(t.Value)).ToList())
        {
            text.Remove();
        }
        foreach (var node in member.Nodes().ToList())
        {
            node.AddBeforeSelf(new XText("\n" + Indent));
        }
        member.Add(new XText("\n" + CloseIndent));
    }

    private static byte[] Serialize(XDocument document)
    {
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = false, NewLineHandling = NewLineHandling.None }))
        {
            document.Save(writer);
        }
        return stream.ToArray();
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}
