using System.Diagnostics;
using Google.Protobuf;

namespace OnnxConformance;

/// <summary>
/// Generates the ONNX conformance fixtures and runs ONNX Runtime (tools/ort/run-fixtures.js) over them to write the
/// expected outputs. See tools/README.md.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: dotnet run --project tools/OnnxConformance -- [options]
          (no options)        write every case under tests/DefectDetection.Onnx.Tests/Fixtures/conformance,
                              remove case folders that no longer exist, then run ONNX Runtime over them
          --out DIR           write the cases under DIR instead
          --filter TEXT       only the cases whose name contains TEXT (no clean-up of other folders)
          --no-ort            do not run ONNX Runtime (node tools/ort/run-fixtures.js DIR does it later)
          --list              print the case names and exit
          --resnet18 FILE     write the ResNet-18-shaped fp32 model (46 MB) to FILE and exit
        """;

    public static int Main(string[] args)
    {
        string? outDir = null, filter = null, resnet = null;
        bool runOrt = true, list = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Length: outDir = args[++i]; break;
                case "--filter" when i + 1 < args.Length: filter = args[++i]; break;
                case "--resnet18" when i + 1 < args.Length: resnet = args[++i]; break;
                case "--no-ort": runOrt = false; break;
                case "--list": list = true; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"unknown or incomplete option {args[i]}\n{Usage}"); return 2;
            }
        }

        if (resnet is not null)
        {
            CaseBuilder model = ResNet18.Build();
            string full = Path.GetFullPath(resnet);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, model.Model.ToByteArray());
            Console.WriteLine($"wrote {full} ({new FileInfo(full).Length / 1e6:F1} MB)");
            return 0;
        }

        List<CaseDef> cases = Cases.All().Where(c => filter is null || c.Name.Contains(filter, StringComparison.Ordinal)).ToList();
        var dup = cases.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
        {
            Console.Error.WriteLine($"duplicate case name {dup.Key}");
            return 1;
        }

        if (list)
        {
            foreach (CaseDef c in cases)
            {
                Console.WriteLine($"{c.Name} (opset {c.Opset})");
            }

            return 0;
        }

        string root = FindRepoRoot();
        string dir = Path.GetFullPath(outDir ?? Path.Combine(root, "tests", "DefectDetection.Onnx.Tests", "Fixtures", "conformance"));
        Directory.CreateDirectory(dir);
        long total = 0;
        foreach (CaseDef def in cases)
        {
            total += CaseWriter.Write(CaseWriter.Build(def), Path.Combine(dir, def.Name));
        }

        if (filter is null)
        {
            var keep = cases.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            foreach (string sub in Directory.GetDirectories(dir))
            {
                if (!keep.Contains(Path.GetFileName(sub)) && File.Exists(Path.Combine(sub, "case.json")))
                {
                    Directory.Delete(sub, recursive: true);
                    Console.WriteLine($"removed stale case {Path.GetFileName(sub)}");
                }
            }
        }

        Console.WriteLine($"wrote {cases.Count} cases to {dir} ({total / 1024.0:F0} KiB before expected outputs)");
        if (!runOrt)
        {
            Console.WriteLine($"next: (cd tools/ort && npm ci) && node tools/ort/run-fixtures.js {Path.GetRelativePath(root, dir)}");
            return 0;
        }

        string script = Path.Combine(root, "tools", "ort", "run-fixtures.js");
        if (!Directory.Exists(Path.Combine(root, "tools", "ort", "node_modules", "onnxruntime-node")))
        {
            Console.Error.WriteLine("ONNX Runtime is not installed: run `npm ci` in tools/ort first (or pass --no-ort).");
            return 1;
        }

        var psi = new ProcessStartInfo("node") { UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(dir);
        if (filter is not null)
        {
            psi.ArgumentList.Add("--filter");
            psi.ArgumentList.Add(filter);
        }

        using Process node = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        node.WaitForExit();
        return node.ExitCode;
    }

    private static string FindRepoRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (string? d = start; d is not null; d = Path.GetDirectoryName(d))
            {
                if (File.Exists(Path.Combine(d, "DefectDetection.Core.sln")))
                {
                    return d;
                }
            }
        }

        throw new InvalidOperationException("run from inside the repository (DefectDetection.Core.sln not found)");
    }
}
