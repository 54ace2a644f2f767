using System.Diagnostics;
using System.Globalization;

namespace DefectDetection.Projects.Tests;

/// <summary>
/// Opening a project closes the work of processes that have ended (a real process that ran and exited stands for the
/// killed one) and leaves alone the work and temporary files of processes still running.
/// </summary>
public sealed class RecoveryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-project-recovery-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Open_FailsTheWorkOfEndedProcesses_AndRemovesOnlyTheirTemporaryFiles()
    {
        string folder = Path.Combine(_dir, "p");
        DefectProject.Create(folder).Dispose();
        (int pid, string started) = EndedProcess();
        Process self = Process.GetCurrentProcess();
        string selfStarted = self.StartTime.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
        string catalog = Path.Combine(folder, DefectProject.CatalogFileName);
        string host = Environment.MachineName;
        ProjectCatalogTests.Sql(catalog, $$"""
            INSERT INTO imports(id, source, status, started_at, pid, pid_started, host) VALUES (1, '/a', 'importing', '2026-01-01T00:00:00.000Z', {{pid}}, '{{started}}', '{{host}}');
            INSERT INTO imports(id, source, status, started_at, pid, pid_started, host) VALUES (2, '/b', 'importing', '2026-01-01T00:00:00.000Z', {{self.Id}}, '{{selfStarted}}', '{{host}}');
            INSERT INTO imports(id, source, status, started_at, pid, pid_started, host) VALUES (3, '/c', 'importing', '2026-01-01T00:00:00.000Z', {{pid}}, '{{started}}', 'another-machine');
            INSERT INTO versions(id, number, status, task, config, started_at, pid, pid_started, host) VALUES (1, 1, 'training', 'classify', '{"task":"auto","resolved_task":"classify","backbone":null,"time_budget_seconds":300,"seed":0,"chosen":null,"threshold":null}', '2026-01-01T00:00:00.000Z', {{pid}}, '{{started}}', '{{host}}');
            INSERT INTO trials(id, number, version_id, source, status, started_at, pid, pid_started, host) VALUES (1, 1, 1, '/t', 'running', '2026-01-01T00:00:00.000Z', {{pid}}, '{{started}}', '{{host}}');
            """);
        string tmp = Path.Combine(folder, "tmp");
        Directory.CreateDirectory(tmp);
        string dead = Path.Combine(tmp, $"{pid}_{started.Replace(':', '-')}_0123.ddmodel.tmp");
        string alive = Path.Combine(tmp, $"{self.Id}_{selfStarted.Replace(':', '-')}_4567.blob.tmp");
        File.WriteAllText(dead, "half a model");
        File.WriteAllText(alive, "being written");

        using DefectProject p = DefectProject.Open(folder);
        Assert.Equal([1], p.Recovery.FailedVersions);
        Assert.Equal([1L], p.Recovery.FailedImports);
        Assert.Equal([1], p.Recovery.FailedTrials);
        Assert.Equal(1, p.Recovery.TemporaryFilesRemoved);
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(alive));
        Assert.Equal("importing", ProjectCatalogTests.Scalar(catalog, "SELECT status FROM imports WHERE id = 2")); // this process: still running
        Assert.Equal("importing", ProjectCatalogTests.Scalar(catalog, "SELECT status FROM imports WHERE id = 3")); // another machine: not ours to judge
        Assert.Equal(TrialStatus.Failed, p.Trials.List().Single().Status);
        Assert.Equal(ModelVersionStatus.Failed, p.Models.Get(1).Status);

        using DefectProject again = DefectProject.Open(folder);
        Assert.True(again.Recovery.IsEmpty); // closed once
    }

    // A process that started and ended: its id and start time, as the catalog records an owner.
    private static (int Pid, string Started) EndedProcess()
    {
        // `cat` waits on its input, so its start time is read while it still runs; closing the input ends it.
        using Process p = Process.Start(new ProcessStartInfo("cat") { UseShellExecute = false, RedirectStandardInput = true })!;
        string started = p.StartTime.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
        p.StandardInput.Close();
        p.WaitForExit();
        return (p.Id, started);
    }
}
