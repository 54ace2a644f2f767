using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;
using DefectDetection.Testing;
using Npgsql;

namespace DefectDetection.Service.Tests.ScaleOut;

/// <summary>
/// One scaled-out deployment for a test: its own PostgreSQL schema and RabbitMQ queue, a shared image folder, an API
/// in the test process (role api, on a test server; restarted by <see cref="RestartApiAsync"/>) and worker processes
/// started from the built <c>defect</c> CLI (<c>serve --role worker</c>) that a test can kill -9.
/// </summary>
internal sealed class ScaleOutCluster : IAsyncDisposable
{
    private readonly List<WorkerProcess> _workers = [];
    private WebApplication? _api;
    private string _key = "";

    private ScaleOutCluster(string schema, string postgres, string data)
    {
        Schema = schema;
        Postgres = postgres;
        Data = data;
        Queue = "defect.test." + schema;
        ModelPath = Path.Combine(data, "model.ddmodel");
    }

    public string Schema { get; }

    public string Postgres { get; }

    public string Queue { get; }

    public string Data { get; }

    public string ModelPath { get; }

    public HttpClient Client { get; private set; } = null!;

    /// <summary>A queued row without a message is published by the API's sweeper once it is this old.</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(1);

    public static async Task<ScaleOutCluster> CreateAsync()
    {
        SharedInfrastructure.RequireReachable();
        string schema = "t" + Guid.NewGuid().ToString("N")[..16];
        string data = Path.Combine(Path.GetTempPath(), "defect-scaleout-" + schema);
        Directory.CreateDirectory(data);
        ScaleOutCluster c = new(schema, await SharedInfrastructure.NewSchemaAsync(schema), data);
        using (DefectDetection.Models.IDefectModel model = TestModel.Load())
        {
            model.Save(c.ModelPath);
        }

        c._key = await ScaleOutServiceCollectionExtensions.CreatePostgresApiKeyAsync(c.Postgres, "test", ApiScopes.Admin);
        return c;
    }

    public ScaleOutOptions Options(ServiceRole role) => new()
    {
        PostgresConnectionString = Postgres,
        RabbitMqUri = SharedInfrastructure.RabbitMq,
        QueueName = Queue,
        Role = role,
        StaleAfter = StaleAfter,
        SweepInterval = TimeSpan.FromMilliseconds(500),
        ReconnectDelay = TimeSpan.FromMilliseconds(500),
        PublishAttempts = 40,
    };

    public async Task StartApiAsync()
    {
        InspectionServiceOptions options = new() { DataDirectory = Data, RunWorkers = false };
        SwitchableModelSource source = new(TestModel.Load(), "test-model@1");
        _api = InspectionService.Create(options, source, configure: b =>
        {
            b.WebHost.UseTestServer();
            b.Logging.ClearProviders();
            b.Services.AddInspectionScaleOut(Options(ServiceRole.Api));
        });
        await _api.StartAsync();
        Client = _api.GetTestClient();
        Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _key);
    }

    public async Task StopApiAsync()
    {
        if (_api is { } api)
        {
            _api = null;
            await api.StopAsync();
            await api.DisposeAsync();
        }
    }

    public async Task RestartApiAsync()
    {
        await StopApiAsync();
        await StartApiAsync();
    }

    public WorkerProcess StartWorker()
    {
        WorkerProcess w = WorkerProcess.Start(this, _workers.Count + 1);
        _workers.Add(w);
        return w;
    }

    /// <summary>Uploads an image; returns its id (202 expected).</summary>
    public async Task<string> UploadAsync(byte[] image, string idempotencyKey)
    {
        using MultipartFormDataContent form = ServiceHarness.Form(image, key: idempotencyKey);
        using HttpResponseMessage response = await Client.PostAsync("/v1/images", form);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"upload {idempotencyKey}: {response.StatusCode} {text}");
        using JsonDocument doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The count of inspections per status.</summary>
    public async Task<Dictionary<string, long>> StatusCountsAsync()
    {
        await using NpgsqlDataSource source = NpgsqlDataSource.Create(Postgres);
        await using NpgsqlCommand cmd = source.CreateCommand("SELECT status, COUNT(*) FROM inspections GROUP BY status");
        await using NpgsqlDataReader r = await cmd.ExecuteReaderAsync();
        Dictionary<string, long> counts = [];
        while (await r.ReadAsync())
        {
            counts[r.GetString(0)] = r.GetInt64(1);
        }

        return counts;
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using NpgsqlDataSource source = NpgsqlDataSource.Create(Postgres);
        await using NpgsqlCommand cmd = source.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until <paramref name="done"/> inspections are no longer queued (PostgreSQL may be away for a while).</summary>
    public async Task WaitFinishedAsync(long done, TimeSpan timeout)
    {
        Stopwatch sw = Stopwatch.StartNew();
        long finished = -1;
        while (sw.Elapsed < timeout)
        {
            try
            {
                finished = await ScalarAsync("SELECT COUNT(*) FROM inspections WHERE status <> 'queued'");
                if (finished >= done)
                {
                    return;
                }
            }
            catch (NpgsqlException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail($"{finished} of {done} inspections finished after {timeout}; worker logs:\n{WorkerLogs()}");
    }

    public string WorkerLogs() => string.Join("\n", _workers.Select(w => $"--- worker {w.Number} ---\n{w.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (WorkerProcess w in _workers)
        {
            w.Dispose();
        }

        await StopApiAsync();
        try
        {
            await SharedInfrastructure.DropSchemaAsync(Schema);
            await using RabbitMQ.Client.IConnection connection = await new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(SharedInfrastructure.RabbitMq) }.CreateConnectionAsync();
            await using RabbitMQ.Client.IChannel channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(Queue, ifUnused: false, ifEmpty: false);
        }
        catch (Exception ex) when (ex is NpgsqlException or RabbitMQ.Client.Exceptions.BrokerUnreachableException or RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
        }

        try
        {
            Directory.Delete(Data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A worker process: <c>dotnet defect.dll serve --role worker ...</c>, its output kept for failure messages.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _serving = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process, int number)
    {
        _process = process;
        Number = number;
    }

    public int Number { get; }

    public string Output => string.Join("\n", _lines);

    /// <summary>The built CLI beside this test assembly's configuration (src/DefectDetection.Cli/bin/&lt;configuration&gt;/net10.0/defect.dll).</summary>
    public static string CliPath
    {
        get
        {
            string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
            string path = Path.Combine(SharedData.RepoRoot, "src", "DefectDetection.Cli", "bin", configuration, "net10.0", "defect.dll");
            Assert.True(File.Exists(path), $"the built CLI is missing: {path} (build src/DefectDetection.Cli -c {configuration})");
            return path;
        }
    }

    public static WorkerProcess Start(ScaleOutCluster cluster, int number)
    {
        ProcessStartInfo psi = new("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[]
        {
            CliPath, "serve", "--role", "worker", "--model", cluster.ModelPath, "--data", cluster.Data, "--urls", "http://127.0.0.1:0",
            "--postgres", cluster.Postgres, "--rabbitmq", SharedInfrastructure.RabbitMq, "--queue", cluster.Queue,
        })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        Process p = new() { StartInfo = psi };
        WorkerProcess w = new(p, number);
        p.OutputDataReceived += (_, e) => w.Line(e.Data);
        p.ErrorDataReceived += (_, e) => w.Line(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return w;
    }

    private void Line(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        if (line.Contains("serving", StringComparison.Ordinal))
        {
            _serving.TrySetResult();
        }
    }

    /// <summary>Waits until the worker prints that it serves.</summary>
    public async Task WaitServingAsync()
    {
        try
        {
            await _serving.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"worker {Number} did not start:\n{Output}");
        }
    }

    /// <summary>Kills the process at once (SIGKILL): no graceful stop, no acknowledgement.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }
}
