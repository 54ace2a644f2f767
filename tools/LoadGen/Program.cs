using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace DefectDetection.LoadGen;

/// <summary>
/// Posts images to a running <c>defect serve</c> and reports the sustained rate, the upload-to-stored-result latency
/// (from the server's own timestamps: received_at to completed_at), the resident memory of the server's processes over
/// the run (at its start, middle and end: an API and its workers are named <c>--pid api=N,worker-1=M</c>) and the CPU
/// and load average it ran beside.
/// <code>LoadGen --url http://localhost:5000 --key KEY --images DIR --count 1000 --concurrency 4 [--rate 20] [--warmup 20] [--pid N|name=N,...]</code>
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        Dictionary<string, string> a = Parse(args);
        if (!a.TryGetValue("url", out string? url) || !a.TryGetValue("key", out string? key) || !a.TryGetValue("images", out string? dir))
        {
            Console.Error.WriteLine("usage: LoadGen --url URL --key KEY --images DIR [--count 1000] [--concurrency 4] [--rate 0 (images/s, 0 = as fast as accepted)] [--line L] [--warmup N (images judged first, not counted)] [--pid SERVER_PID | name=PID,name=PID...]");
            return 2;
        }

        int count = Int(a, "count", 1000), concurrency = Int(a, "concurrency", 4);
        double rate = a.TryGetValue("rate", out string? r) ? double.Parse(r, CultureInfo.InvariantCulture) : 0;
        (string Name, int Pid)[] processes = a.TryGetValue("pid", out string? p) ? ParseProcesses(p) : [];
        string line = a.GetValueOrDefault("line", "load");
        byte[][] images = Directory.EnumerateFiles(dir).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
        if (images.Length == 0)
        {
            Console.Error.WriteLine($"no .jpg or .png images in {dir}");
            return 2;
        }

        using HttpClient http = new() { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        List<long>[] memory = [.. processes.Select(_ => new List<long>())];
        using CancellationTokenSource stopSampling = new();
        Task sampler = Task.WhenAll(processes.Select((proc, i) => SampleMemoryAsync(proc.Pid, memory[i], stopSampling.Token)));
        string loadAtStart = LoadAverage();

        int warmup = Int(a, "warmup", 0);
        if (warmup > 0)
        {
            // Not counted: the first images of every worker pay for start-up (JIT, buffers), as in a process that has
            // been serving for a while they would not.
            Console.WriteLine($"warming up with {warmup} images");
            for (int w = 0; w < warmup; w++)
            {
                using MultipartFormDataContent form = new();
                form.Add(new ByteArrayContent(images[w % images.Length]), "file", "image.jpg");
                form.Add(new StringContent("warmup"), "line");
                using HttpResponseMessage response = await http.PostAsync("/v1/images", form);
                response.EnsureSuccessStatusCode();
            }

            while (true)
            {
                using JsonDocument pending = JsonDocument.Parse(await http.GetStringAsync("/v1/results?line=warmup&verdict=pending&limit=500"));
                if (pending.RootElement.GetProperty("items").GetArrayLength() == 0)
                {
                    break;
                }

                await Task.Delay(100);
            }
        }

        string[] ids = new string[count];
        int next = -1, refused = 0, failed = 0;
        Stopwatch clock = Stopwatch.StartNew();
        Console.WriteLine($"posting {count} images ({images.Length} distinct) with {concurrency} clients{(rate > 0 ? FormattableString.Invariant($" at {rate} images/s") : "")}");
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                if (rate > 0)
                {
                    TimeSpan due = TimeSpan.FromSeconds(i / rate) - clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due);
                    }
                }

                string idempotencyKey = $"load-{i}-{Guid.NewGuid():N}"; // the same on every retry of this image: one result
                while (true)
                {
                    using MultipartFormDataContent form = new();
                    ByteArrayContent file = new(images[i % images.Length]);
                    file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
                    form.Add(file, "file", "image.jpg");
                    form.Add(new StringContent(line), "line");
                    form.Add(new StringContent($"cam-{i % 2}"), "camera");
                    form.Add(new StringContent(idempotencyKey), "idempotencyKey");
                    using HttpResponseMessage response = await http.PostAsync("/v1/images", form);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        Interlocked.Increment(ref refused);
                        await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200));
                        continue;
                    }

                    if ((int)response.StatusCode >= 500)
                    {
                        // The service answers 5xx when its store or broker is away for longer than it retries itself;
                        // the upload is retried with the same idempotency key, as a camera would.
                        if (Interlocked.Increment(ref failed) <= 3)
                        {
                            Console.Error.WriteLine($"image {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}; retried");
                        }

                        await Task.Delay(TimeSpan.FromSeconds(1));
                        continue;
                    }

                    response.EnsureSuccessStatusCode();
                    using JsonDocument doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    ids[i] = doc.RootElement.GetProperty("id").GetString()!;
                    break;
                }
            }
        })));
        double postSeconds = clock.Elapsed.TotalSeconds;

        // Wait for every result; latency from the server's timestamps.
        List<double> latencies = [];
        DateTimeOffset first = DateTimeOffset.MaxValue, last = DateTimeOffset.MinValue;
        int invalid = 0, anomalies = 0;
        foreach (string id in ids)
        {
            while (true)
            {
                using JsonDocument doc = JsonDocument.Parse(await http.GetStringAsync($"/v1/results/{id}"));
                JsonElement root = doc.RootElement;
                if (root.GetProperty("status").GetString() == "queued")
                {
                    await Task.Delay(50);
                    continue;
                }

                DateTimeOffset received = root.GetProperty("received_at").GetDateTimeOffset();
                DateTimeOffset completed = root.GetProperty("completed_at").GetDateTimeOffset();
                latencies.Add((completed - received).TotalMilliseconds);
                first = received < first ? received : first;
                last = completed > last ? completed : last;
                invalid += root.GetProperty("status").GetString() == "done" ? 0 : 1;
                anomalies += root.GetProperty("verdict").GetString() == "anomaly" ? 1 : 0;
                break;
            }
        }

        await stopSampling.CancelAsync();
        await sampler;
        latencies.Sort();
        double seconds = (last - first).TotalSeconds;
        Console.WriteLine(FormattableString.Invariant($"images:          {count} ({anomalies} anomalies, {invalid} invalid), 429 answers: {refused}, 5xx answers (retried): {failed}"));
        Console.WriteLine(FormattableString.Invariant($"posting took:    {postSeconds:F1} s"));
        Console.WriteLine(FormattableString.Invariant($"sustained:       {count / seconds:F1} images/s (first upload to last stored result: {seconds:F1} s)"));
        Console.WriteLine(FormattableString.Invariant($"latency (upload -> stored result): p50 {Percentile(latencies, 0.50):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms, max {latencies[^1]:F0} ms"));
        for (int i = 0; i < processes.Length; i++)
        {
            List<long> m = memory[i];
            if (m.Count > 0)
            {
                int tenth = Math.Max(1, m.Count / 10);
                Console.WriteLine(FormattableString.Invariant($"RSS {processes[i].Name,-10} start {Mb(m[0])} MiB, middle {Mb(m[m.Count / 2])} MiB, end {Mb(m[^1])} MiB, max {Mb(m.Max())} MiB; mean of first 10% {Mb((long)m.Take(tenth).Average())} MiB, of last 10% {Mb((long)m.TakeLast(tenth).Average())} MiB ({m.Count} samples)"));
            }
        }

        Console.WriteLine($"machine:         {CpuModel()}, {Environment.ProcessorCount} cores; load average (1/5/15 min) at start {loadAtStart}, at end {LoadAverage()}");

        return 0;
    }

    private static double Percentile(List<double> sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static long Mb(long bytes) => bytes / (1024 * 1024);

    private static async Task SampleMemoryAsync(int pid, List<long> samples, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            string? rss = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            if (rss is not null)
            {
                samples.Add(long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024);
            }

            await Task.Delay(500, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static (string Name, int Pid)[] ParseProcesses(string value) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select((part, i) =>
        {
            string[] kv = part.Split('=', 2);
            return kv.Length == 2 ? (kv[0], int.Parse(kv[1], CultureInfo.InvariantCulture)) : (i == 0 ? "server" : $"server-{i + 1}", int.Parse(kv[0], CultureInfo.InvariantCulture));
        })];

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) is { } line
            ? line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()
            : "unknown CPU";

    private static int Int(Dictionary<string, string> a, string name, int fallback) =>
        a.TryGetValue(name, out string? v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static Dictionary<string, string> Parse(string[] args)
    {
        Dictionary<string, string> a = new(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            a[args[i].TrimStart('-')] = args[i + 1];
        }

        return a;
    }
}
