using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using DefectDetection.Fuzzing;

// A seeded mutation fuzzer (no libFuzzer for .NET here): see tools/README.md.
// dotnet run --project tools/Fuzz -c Release -- --target modelfile --seconds 120 --seed 1
Dictionary<string, Func<FuzzTarget>> targets = new(StringComparer.Ordinal)
{
    ["modelfile"] = () => new ModelFileTarget(),
    ["manifest"] = () => new DatasetManifestTarget(),
    ["pipeline"] = () => new PipelineTarget(),
    ["onnx"] = () => new OnnxTarget(),
};

string? name = null;
double seconds = 60, timeout = 10;
int seed = 1;
long memoryLimit = 1L << 30;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--target": name = Next(); break;
        case "--seconds": seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--timeout": timeout = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--memory-mb": memoryLimit = long.Parse(Next(), CultureInfo.InvariantCulture) << 20; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}

if (name is null || !targets.TryGetValue(name, out Func<FuzzTarget>? create))
{
    Console.Error.WriteLine($"usage: --target {string.Join('|', targets.Keys)} [--seconds 60] [--seed 1] [--timeout 10] [--memory-mb 1024]");
    return 2;
}

using FuzzTarget target = create();
Fuzzer fuzzer = new(target, new Random(seed), TimeSpan.FromSeconds(timeout), memoryLimit);
return fuzzer.Run(TimeSpan.FromSeconds(seconds));

namespace DefectDetection.Fuzzing
{
    /// <summary>The outcome of one input.</summary>
    internal readonly record struct Outcome(bool Crash, string Signature, string Detail);

    /// <summary>
    /// The loop: mutate an input from the pool, run it with a time limit and an allocation guard, keep inputs that
    /// give a new outcome, and save crashes (shrunk a little) under tests/fuzz-corpus/&lt;target&gt;/&lt;sha&gt;.bin.
    /// </summary>
    internal sealed class Fuzzer(FuzzTarget target, Random random, TimeSpan timeout, long memoryLimit)
    {
        private const int MaxPool = 512;

        private readonly Mutator _mutator = new(target, random);
        private readonly List<byte[]> _pool = [];
        private readonly HashSet<string> _outcomes = new(StringComparer.Ordinal);
        private readonly HashSet<string> _crashes = new(StringComparer.Ordinal);
        private readonly HashSet<string> _known = new(StringComparer.Ordinal);
        private readonly string _last = Path.Combine(Path.GetTempPath(), $"defect-fuzz-{target.Name}.last");

        public int Run(TimeSpan budget)
        {
            // Known crashes not fixed yet (tests/fuzz-corpus/<target>/open/): found again, they are counted, not failed.
            string open = Path.Combine(FuzzTarget.CorpusFolder(target.Name), "open");
            foreach (string file in Directory.Exists(open) ? Directory.GetFiles(open, "*.bin") : [])
            {
                Outcome o = Execute(File.ReadAllBytes(file));
                if (o.Crash)
                {
                    _known.Add(o.Signature);
                    Console.WriteLine($"known open crash: {o.Signature} ({Path.GetFileName(file)})");
                }
            }

            foreach (byte[] s in target.Seeds())
            {
                Outcome o = Execute(s);
                Console.WriteLine($"seed ({s.Length} bytes): {(o.Signature.Length == 0 ? "ok" : o.Signature)}");
                if (o.Crash)
                {
                    Save(s, o);
                }

                _pool.Add(s);
            }

            Stopwatch clock = Stopwatch.StartNew();
            long runs = 0, knownHits = 0;
            while (clock.Elapsed < budget)
            {
                byte[] input = _mutator.Mutate(_pool[random.Next(_pool.Count)], _pool);
                Outcome o = Execute(input);
                runs++;
                if (o.Crash && _known.Contains(o.Signature))
                {
                    knownHits++;
                }
                else if (o.Crash)
                {
                    if (_crashes.Add(o.Signature))
                    {
                        Save(Shrink(input, o), o);
                    }

                    if (o.Signature.StartsWith("timeout", StringComparison.Ordinal))
                    {
                        break; // the hung thread cannot be stopped
                    }
                }
                else if (_outcomes.Add(o.Signature))
                {
                    // A new outcome (a new message shape): keep the input to mutate further.
                    if (_pool.Count < MaxPool)
                    {
                        _pool.Add(input);
                    }
                    else
                    {
                        _pool[random.Next(_pool.Count)] = input;
                    }
                }

                if (runs % 5000 == 0)
                {
                    Console.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: {runs} inputs, {_outcomes.Count} outcomes, {_crashes.Count} crashes");
                }
            }

            File.Delete(_last);
            Console.WriteLine($"{target.Name}: {runs} inputs in {clock.Elapsed.TotalSeconds:F0} s ({runs / Math.Max(1, clock.Elapsed.TotalSeconds):F0}/s), {_outcomes.Count} distinct outcomes, {_crashes.Count} crashes, {knownHits} inputs hit {_known.Count} known open crashes");
            return _crashes.Count == 0 ? 0 : 1;
        }

        private Outcome Execute(byte[] input)
        {
            File.WriteAllBytes(_last, input); // left behind if the process dies (stack overflow)
            Outcome result = default;
            Thread worker = new(() => result = RunGuarded(input)) { IsBackground = true };
            worker.Start();
            return worker.Join(timeout) ? result : new Outcome(true, $"timeout after {timeout.TotalSeconds} s", "");
        }

        private Outcome RunGuarded(byte[] input)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target.Run(input);
                return Guard(before, new Outcome(false, "", ""));
            }
            catch (Exception e) when (target.IsDocumented(e))
            {
                return Guard(before, new Outcome(false, Shape(e.Message), e.Message));
            }
            catch (Exception e)
            {
                StackFrame? frame = new StackTrace(e).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("DefectDetection", StringComparison.Ordinal) == true);
                string where = frame?.GetMethod() is { } m ? $"{m.DeclaringType?.Name}.{m.Name}" : "?";
                return new Outcome(true, $"{e.GetType().Name} at {where}", e.ToString());
            }
        }

        private Outcome Guard(long before, Outcome outcome)
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            return allocated > memoryLimit
                ? new Outcome(true, $"memory: allocated {allocated >> 20} MiB (limit {memoryLimit >> 20} MiB)", outcome.Detail)
                : outcome;
        }

        // A message without its numbers, paths and quoted values: a cheap stand-in for coverage.
        private static string Shape(string message)
        {
            char[] chars = [.. message.Take(120).Select(c => char.IsDigit(c) ? '#' : c)];
            string s = new(chars);
            int colon = s.IndexOf(": ", StringComparison.Ordinal);
            return colon >= 0 ? s[(colon + 2)..] : s;
        }

        // Drops chunks (halves, quarters, ...) while the same crash remains; at most 200 tries.
        private byte[] Shrink(byte[] input, Outcome crash)
        {
            if (crash.Signature.StartsWith("timeout", StringComparison.Ordinal))
            {
                return input;
            }

            byte[] best = input;
            int tries = 0;
            for (int chunk = best.Length / 2; chunk >= 1 && tries < 200; chunk /= 2)
            {
                for (int at = 0; at + chunk <= best.Length && tries < 200; tries++)
                {
                    byte[] candidate = [.. best.AsSpan(0, at), .. best.AsSpan(at + chunk)];
                    if (Execute(candidate).Signature == crash.Signature)
                    {
                        best = candidate;
                    }
                    else
                    {
                        at += chunk;
                    }
                }
            }

            return best;
        }

        private void Save(byte[] input, Outcome crash)
        {
            string folder = FuzzTarget.CorpusFolder(target.Name);
            Directory.CreateDirectory(folder);
            string path = Path.Combine(folder, Convert.ToHexStringLower(SHA256.HashData(input))[..16] + ".bin");
            File.WriteAllBytes(path, input);
            Console.WriteLine($"CRASH {crash.Signature} ({input.Length} bytes) -> {Path.GetRelativePath(FuzzTarget.RepoRoot, path)}");
            Console.WriteLine(crash.Detail.Length > 2000 ? crash.Detail[..2000] : crash.Detail);
        }
    }
}
