using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using DefectDetection.Service.Tests.ScaleOut;
using DefectDetection.Service.Webhooks;
using DefectDetection.Testing;

namespace DefectDetection.Service.Tests;

/// <summary>
/// The README's service walkthrough, run for real by <c>samples/ServiceWalkthrough/run.sh</c> on the cookies in
/// <c>../shared</c>: the built CLI trains a project, serves it, and the script posts the 22 test images with curl and
/// reads back results, counts and the webhooks its listener received.
/// </summary>
[Collection(Name)]
public sealed class ServiceWalkthroughTests
{
    /// <summary>The walkthrough trains a model and serves it: it runs alone, not beside other tests.</summary>
    public const string Name = "walkthrough";

    private const string Secret = "a-long-shared-secret";

    [SharedFact]
    public async Task ReadmeWalkthrough_22CookiesPosted_ResultsCountsSignedWebhooksAndTheAlarm()
    {
        foreach (string tool in new[] { "curl", "jq", "python3" })
        {
            Assert.True(OnPath(tool), $"the walkthrough needs {tool} on PATH");
        }

        string work = Path.Combine(Path.GetTempPath(), "defect-walkthrough-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            (int exit, string output) = await RunAsync(work);
            Assert.True(exit == 0, $"run.sh exited with {exit}:\n{output}\n--- serve.log ---\n{Read(Path.Combine(work, "serve.log"))}");

            using JsonDocument outcome = JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "outcome.json")));
            JsonElement o = outcome.RootElement;
            int anomalies = o.GetProperty("anomalies").GetInt32();
            Assert.Equal(22, o.GetProperty("results").GetInt32());
            Assert.Equal(0, o.GetProperty("invalid").GetInt32());
            Assert.Equal(22, anomalies + o.GetProperty("normal").GetInt32());
            Assert.Equal("v1", o.GetProperty("model_version").GetString());
            Assert.Equal(22, o.GetProperty("stats").GetProperty("total").GetInt32());
            Assert.Equal(anomalies, o.GetProperty("stats").GetProperty("anomalies").GetInt32());

            // Every cracked cookie is judged an anomaly (the good ones may hold a false alarm or two).
            using JsonDocument results = JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "results.json")));
            Dictionary<string, string> verdicts = results.RootElement.GetProperty("items").EnumerateArray()
                .ToDictionary(r => r.GetProperty("idempotency_key").GetString()!, r => r.GetProperty("verdict").GetString()!);
            Assert.Equal(22, verdicts.Count);
            Assert.All(Enumerable.Range(1, 8), i => Assert.Equal("anomaly", verdicts[$"test-anomaly-{i}.jpg"]));

            // The listener's own log: one anomaly webhook per anomaly, the alarm fired above its 20% rule, every
            // signature valid (checked again here with the library's verifier over the received bytes).
            List<JsonElement> hooks = [.. File.ReadLines(Path.Combine(work, "webhooks.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)];
            Assert.Equal(anomalies, hooks.Count(h => h.GetProperty("event").GetString() == "anomaly"));
            Assert.Equal(anomalies, hooks.Where(h => h.GetProperty("event").GetString() == "anomaly").Select(h => h.GetProperty("delivery").GetString()).Distinct().Count());
            Assert.All(hooks, h => Assert.True(h.GetProperty("valid").GetBoolean(), "the listener refused a signature"));
            Assert.All(hooks, h => Assert.True(WebhookSignature.Verify(Secret, h.GetProperty("timestamp").GetString()!,
                Encoding.UTF8.GetBytes(h.GetProperty("raw").GetString()!), h.GetProperty("signature").GetString()!)));
            JsonElement fired = Assert.Single(hooks, h => h.GetProperty("event").GetString() == "alarm" && h.GetProperty("body").GetProperty("state").GetString() == "fired");
            Assert.Equal("line-rate", fired.GetProperty("body").GetProperty("rule").GetString());
            Assert.True(fired.GetProperty("body").GetProperty("observed").GetDouble() > 20, "the alarm fired at or below its threshold");
            Assert.Equal(o.GetProperty("webhooks").GetInt32(), hooks.Count);
            Assert.Equal(hooks.Count, o.GetProperty("valid_signatures").GetInt32());
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string work)
    {
        ProcessStartInfo psi = new("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(SharedData.RepoRoot, "samples", "ServiceWalkthrough", "run.sh"));
        psi.ArgumentList.Add(work);
        psi.Environment["PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["HOOK_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["DEFECT_SHARED"] = SharedData.PathOf();
        psi.Environment["DEFECT_CLI"] = WorkerProcess.CliPath;
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        using CancellationTokenSource timeout = new(TimeSpan.FromMinutes(6));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            return (-1, $"timed out after 6 minutes\n{await stdout}\n{await stderr}");
        }

        return (p.ExitCode, $"{await stdout}\n{await stderr}");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : "(none)";

    private static int FreePort()
    {
        using TcpListener l = new(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>The walkthrough's collection: nothing runs beside it.</summary>
[CollectionDefinition(ServiceWalkthroughTests.Name, DisableParallelization = true)]
public sealed class ServiceWalkthroughCollection;
