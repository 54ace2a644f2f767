using System.Diagnostics;
using DefectDetection.Service.Postgres;
using DefectDetection.Testing;
using DefectDetection.Service.Storage;

namespace DefectDetection.Service.Tests.ScaleOut;

/// <summary>
/// The scaled-out deployment under faults: an API (role api) and worker processes (role worker) on PostgreSQL and
/// RabbitMQ. Whatever fails, every accepted image ends with exactly one stored result, and an undecodable image is
/// recorded as invalid once.
/// </summary>
[Collection(ScaleOutCollection.Name)]
public sealed class ScaleOutFaultTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [ScaleOutFact]
    public async Task KilledWorker_MidBatch_EveryAcceptedImageHasOneResult()
    {
        await using ScaleOutCluster cluster = await ScaleOutCluster.CreateAsync();
        await cluster.StartApiAsync();
        List<string> ids = await UploadBatchAsync(cluster, "a", 40);

        WorkerProcess first = cluster.StartWorker();
        await first.WaitServingAsync();
        await WaitAtLeastAsync(cluster, 3);
        first.Kill();
        long finishedAtKill = await cluster.ScalarAsync("SELECT COUNT(*) FROM inspections WHERE status <> 'queued'");
        Assert.True(finishedAtKill < ids.Count, "the worker finished the whole batch before it was killed: the test proves nothing");

        WorkerProcess second = cluster.StartWorker();
        WorkerProcess third = cluster.StartWorker();
        await Task.WhenAll(second.WaitServingAsync(), third.WaitServingAsync());
        await cluster.WaitFinishedAsync(ids.Count, Patience);
        await AssertOneResultEachAsync(cluster, ids);
    }

    [ScaleOutFact]
    public async Task RestartedApi_AndARowWithoutMessage_NothingIsLost()
    {
        await using ScaleOutCluster cluster = await ScaleOutCluster.CreateAsync();
        await cluster.StartApiAsync();
        WorkerProcess worker = cluster.StartWorker();
        List<string> ids = await UploadBatchAsync(cluster, "a", 15);
        await cluster.RestartApiAsync();
        ids.AddRange(await UploadBatchAsync(cluster, "b", 15));
        await cluster.StopApiAsync();

        // The API stopped between storing a queued row and publishing it: the row is in PostgreSQL, no message exists.
        string orphan = Guid.NewGuid().ToString("N");
        string path = Path.Combine(cluster.Data, orphan + ".jpg");
        await File.WriteAllBytesAsync(path, TestModel.Normal(99));
        using (PostgresInspectionStore store = new(cluster.Postgres, TimeProvider.System))
        {
            await store.AddQueuedAsync(new NewInspection(orphan, new ImageMetadata { Line = "L1" }, DateTimeOffset.UtcNow.AddMinutes(-1), path));
        }

        ids.Add(orphan);
        await cluster.StartApiAsync(); // its sweeper publishes the orphan
        await worker.WaitServingAsync();
        await cluster.WaitFinishedAsync(ids.Count, Patience);
        await AssertOneResultEachAsync(cluster, ids);
        Assert.Equal("done", await StatusAsync(cluster, orphan));
    }

    [ScaleOutFact]
    public async Task RestartedRabbitMq_NothingIsLost()
    {
        string? ctl = Tool("rabbitmqctl");
        Assert.True(ctl is not null || !SharedData.Required, "rabbitmqctl is needed to restart the broker");
        if (ctl is null)
        {
            return;
        }

        await using ScaleOutCluster cluster = await ScaleOutCluster.CreateAsync();
        await cluster.StartApiAsync();
        List<string> ids = await UploadBatchAsync(cluster, "a", 20);
        WorkerProcess worker = cluster.StartWorker();
        await worker.WaitServingAsync();
        await WaitAtLeastAsync(cluster, 2);
        Run(ctl, "stop_app");
        await Task.Delay(2000);
        Run(ctl, "start_app");
        Run(ctl, "await_startup");
        ids.AddRange(await UploadBatchAsync(cluster, "b", 10)); // publishing reconnects
        await cluster.WaitFinishedAsync(ids.Count, Patience);
        await AssertOneResultEachAsync(cluster, ids);
    }

    [ScaleOutFact]
    public async Task StoppedPostgres_ForSeconds_NothingIsLost()
    {
        (string Stop, string Start)? control = PostgresControl();
        Assert.True(control is not null || !SharedData.Required, "pg_ctlcluster (or DEFECT_TEST_POSTGRES_STOP/START) is needed to stop PostgreSQL");
        if (control is not { } pg)
        {
            return;
        }

        await using ScaleOutCluster cluster = await ScaleOutCluster.CreateAsync();
        await cluster.StartApiAsync();
        List<string> ids = await UploadBatchAsync(cluster, "a", 30);
        WorkerProcess worker = cluster.StartWorker();
        await worker.WaitServingAsync();
        await WaitAtLeastAsync(cluster, 2);
        try
        {
            Shell(pg.Stop);
            await Task.Delay(3000);
        }
        finally
        {
            Shell(pg.Start);
        }

        await cluster.WaitFinishedAsync(ids.Count, Patience);
        ids.AddRange(await UploadBatchAsync(cluster, "b", 5));
        await cluster.WaitFinishedAsync(ids.Count, Patience);
        await AssertOneResultEachAsync(cluster, ids);
    }

    // Normal and defect images and one undecodable image, each with its idempotency key.
    private static async Task<List<string>> UploadBatchAsync(ScaleOutCluster cluster, string prefix, int count)
    {
        List<string> ids = [];
        for (int i = 0; i < count; i++)
        {
            byte[] image = i == 0 ? TestModel.Broken : i % 5 == 0 ? TestModel.Defect(i) : TestModel.Normal(i);
            ids.Add(await cluster.UploadAsync(image, $"{prefix}-{i}"));
        }

        Assert.Equal(ids[0], await cluster.UploadAsync(TestModel.Broken, $"{prefix}-0")); // a repeated upload: the same id
        return ids;
    }

    private static async Task WaitAtLeastAsync(ScaleOutCluster cluster, long finished)
    {
        Stopwatch sw = Stopwatch.StartNew();
        while (await cluster.ScalarAsync("SELECT COUNT(*) FROM inspections WHERE status <> 'queued'") < finished)
        {
            Assert.True(sw.Elapsed < Patience, $"no results after {Patience}:\n{cluster.WorkerLogs()}");
            await Task.Delay(10);
        }
    }

    private static async Task AssertOneResultEachAsync(ScaleOutCluster cluster, List<string> ids)
    {
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids.Count, await cluster.ScalarAsync("SELECT COUNT(*) FROM inspections"));
        Dictionary<string, long> counts = await cluster.StatusCountsAsync();
        Assert.False(counts.ContainsKey("queued"), "an accepted image has no result");
        Assert.False(counts.ContainsKey("failed"), $"a result failed:\n{cluster.WorkerLogs()}");
        int broken = ids.Count(id => id == ids[0]) + (ids.Count / 100); // one undecodable image per batch (checked below)
        Assert.True(broken > 0);
        long invalid = counts.GetValueOrDefault("invalid");
        long batches = await cluster.ScalarAsync("SELECT COUNT(*) FROM inspections WHERE idempotency_key LIKE '%-0'");
        Assert.Equal(batches, invalid); // each batch's undecodable image, once; nothing else invalid
        Assert.Equal(1, await cluster.ScalarAsync("SELECT MIN(attempts) FROM inspections WHERE status = 'invalid'")); // never retried
        foreach (string id in ids)
        {
            Assert.NotEqual("queued", await StatusAsync(cluster, id));
        }
    }

    private static async Task<string> StatusAsync(ScaleOutCluster cluster, string id)
    {
        await using Npgsql.NpgsqlDataSource source = Npgsql.NpgsqlDataSource.Create(cluster.Postgres);
        await using Npgsql.NpgsqlCommand cmd = source.CreateCommand("SELECT status FROM inspections WHERE id = @id");
        cmd.Parameters.AddWithValue("@id", id);
        return (string)(await cmd.ExecuteScalarAsync() ?? "missing");
    }

    private static (string Stop, string Start)? PostgresControl()
    {
        if (Environment.GetEnvironmentVariable("DEFECT_TEST_POSTGRES_STOP") is { Length: > 0 } stop
            && Environment.GetEnvironmentVariable("DEFECT_TEST_POSTGRES_START") is { Length: > 0 } start)
        {
            return (stop, start);
        }

        if (Tool("pg_lsclusters") is null)
        {
            return null;
        }

        string[] first = Shell("pg_lsclusters -h").Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return first.Length >= 2 ? ($"pg_ctlcluster {first[0]} {first[1]} stop -m fast", $"pg_ctlcluster {first[0]} {first[1]} start") : null;
    }

    private static string? Tool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static void Run(string file, string args) => Shell($"{file} {args}");

    private static string Shell(string command)
    {
        ProcessStartInfo psi = new("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{command}: exit {p.ExitCode}: {output}");
        return output;
    }
}

/// <summary>The scale-out tests share the servers (one restarts them): they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScaleOutCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "scale-out";
}
