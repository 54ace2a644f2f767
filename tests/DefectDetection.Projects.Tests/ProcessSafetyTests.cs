using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace DefectDetection.Projects.Tests;

/// <summary>
/// The built <c>defect</c> CLI as child processes: concurrent imports into one project, and <c>kill -9</c> in the
/// middle of an import and of a training run; the project must open afterwards, consistent, and a retry must succeed.
/// </summary>
public sealed class ProcessSafetyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-project-processes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ThreeProcessesImportingAtOnce_LeaveAConsistentCatalog()
    {
        string project = Path.Combine(_dir, "p");
        DefectProject.Create(project).Dispose();
        string x = TestImages.LabelFolders(Path.Combine(_dir, "x"), normals: 60, anomalies: 40, seed: 1, size: 48);
        string y = TestImages.LabelFolders(Path.Combine(_dir, "y"), normals: 60, anomalies: 40, seed: 50_000, size: 48);

        // x twice: the second import of the same content must skip it, whichever process commits first.
        Process[] processes = [Cli("dataset", "import", x, "--project", project), Cli("dataset", "import", y, "--project", project), Cli("dataset", "import", x, "--project", project)];
        foreach (Process p in processes)
        {
            Assert.True(p.WaitForExit(120_000), "an import did not finish in two minutes");
            Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
            p.Dispose();
        }

        string catalog = Path.Combine(project, DefectProject.CatalogFileName);
        Assert.Equal("ok", ProjectCatalogTests.Scalar(catalog, "PRAGMA integrity_check"));
        Assert.Equal(200L, ProjectCatalogTests.Scalar(catalog, "SELECT COUNT(*) FROM entries"));
        Assert.Equal(200L, ProjectCatalogTests.Scalar(catalog, "SELECT COUNT(DISTINCT sha256) FROM entries"));
        Assert.Equal(3L, ProjectCatalogTests.Scalar(catalog, "SELECT COUNT(*) FROM imports WHERE status = 'done'"));
        Assert.Equal(100L, ProjectCatalogTests.Scalar(catalog, "SELECT SUM(skipped) FROM imports"));
        using DefectProject opened = DefectProject.Open(project);
        Assert.All(opened.Dataset.List(), e => Assert.True(File.Exists(e.ImagePath)));
    }

    [Fact]
    public void KilledDuringImport_TheProjectOpens_TheImportIsFailed_NothingWasAdded_AndARetrySucceeds()
    {
        string project = Path.Combine(_dir, "p");
        DefectProject.Create(project).Dispose();
        string data = TestImages.LabelFolders(Path.Combine(_dir, "data"), normals: 900, anomalies: 600, size: 40);
        string catalog = Path.Combine(project, DefectProject.CatalogFileName);

        KillWhen(Cli("dataset", "import", data, "--project", project), catalog, "SELECT COUNT(*) FROM imports WHERE status = 'importing'");

        using (DefectProject p = DefectProject.Open(project))
        {
            Assert.Equal([1L], p.Recovery.FailedImports);
            Assert.Equal(0, p.Dataset.Count());
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(project, "tmp")));
            Assert.Equal("failed", ProjectCatalogTests.Scalar(catalog, "SELECT status FROM imports WHERE id = 1"));
            Assert.Contains("ended before it finished", (string)ProjectCatalogTests.Scalar(catalog, "SELECT error FROM imports WHERE id = 1")!);
        }

        Process retry = Cli("dataset", "import", data, "--project", project);
        Assert.True(retry.WaitForExit(180_000));
        Assert.True(retry.ExitCode == 0, retry.StandardError.ReadToEnd());
        using DefectProject after = DefectProject.Open(project);
        Assert.Equal(1500, after.Dataset.Count());
        Assert.Equal("ok", ProjectCatalogTests.Scalar(catalog, "PRAGMA integrity_check"));
    }

    [Fact]
    public void KilledDuringTraining_TheProjectOpens_ListsTheFailedVersion_LeavesNoFiles_AndARetrySucceeds()
    {
        (string project, string catalog) = TrainableProject();
        KillWhen(Cli("model", "train", "--project", project), catalog, "SELECT COUNT(*) FROM versions WHERE status = 'training'");

        using (DefectProject p = DefectProject.Open(project))
        {
            Assert.Equal([1], p.Recovery.FailedVersions);
            ModelVersion v1 = Assert.Single(p.Models.List());
            Assert.Equal(ModelVersionStatus.Failed, v1.Status);
            Assert.Contains("ended before it finished", v1.Error);
            Assert.Null(p.Models.Active);
            Assert.False(File.Exists(Path.Combine(project, "models", "v1.ddmodel")));
            string tmp = Path.Combine(project, "tmp");
            Assert.True(!Directory.Exists(tmp) || !Directory.EnumerateFiles(tmp).Any());
        }

        var (code, output, error) = InProcess("model", "list", "--project", project);
        Assert.True(code == 0, error);
        Assert.Contains("v1", output);
        Assert.Contains("failed", output);

        (code, _, error) = InProcess("model", "train", "--project", project, "--json");
        Assert.True(code == 0, error);
        using DefectProject after = DefectProject.Open(project);
        Assert.Equal([ModelVersionStatus.Failed, ModelVersionStatus.Trained], after.Models.List().Select(v => v.Status));
        Assert.Equal(2, after.Models.Active!.Number);
    }

    [Fact]
    public void CtrlCDuringTraining_MarksTheVersionCancelled_ItselfAndLeavesNoFiles()
    {
        (string project, string catalog) = TrainableProject();
        using Process train = Cli(asInTerminal: true, "model", "train", "--project", project);
        WaitFor(train, catalog, "SELECT COUNT(*) FROM versions WHERE status = 'training'");
        using (Process signal = Process.Start(new ProcessStartInfo("kill", ["-INT", train.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
        {
            signal.WaitForExit();
        }

        Assert.True(train.WaitForExit(60_000), "the CLI did not stop on Ctrl+C");
        string error = train.StandardError.ReadToEnd();
        Assert.True(train.ExitCode == 1, $"exit {train.ExitCode}: {error}");
        Assert.Contains("cancelled", error);

        using DefectProject after = DefectProject.Open(project);
        Assert.True(after.Recovery.IsEmpty, "the process closed its own work; nothing was left for the next open");
        ModelVersion v1 = Assert.Single(after.Models.List());
        Assert.Equal((ModelVersionStatus.Failed, "cancelled"), (v1.Status, v1.Error));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(project, "models")));
        string tmp = Path.Combine(project, "tmp");
        Assert.True(!Directory.Exists(tmp) || !Directory.EnumerateFiles(tmp).Any());
    }

    // A project with 80 images of 160 px: training takes long enough to be caught in progress.
    private (string Folder, string Catalog) TrainableProject()
    {
        string project = Path.Combine(_dir, "p");
        using (DefectProject p = DefectProject.Create(project))
        {
            p.Dataset.Import(new ImportOptions { Source = TestImages.LabelFolders(Path.Combine(_dir, "data"), normals: 40, anomalies: 40, size: 160), TestFraction = 0.2 });
        }

        return (project, Path.Combine(project, DefectProject.CatalogFileName));
    }

    internal static (int Code, string Out, string Err) InProcess(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = DefectDetection.Cli.Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    // Polls the catalog until the query counts a row, then kills the process and its children at once.
    private static void KillWhen(Process process, string catalog, string query)
    {
        using (process)
        {
            WaitFor(process, catalog, query);
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    // Polls the catalog until the query counts a row while the process runs.
    private static void WaitFor(Process process, string catalog, string query)
    {
        Stopwatch sw = Stopwatch.StartNew();
        while (!process.HasExited && sw.Elapsed < TimeSpan.FromMinutes(2))
        {
            if (File.Exists(catalog) && Count(catalog, query) > 0)
            {
                return;
            }

            Thread.Sleep(5);
        }

        Assert.Fail($"the work never showed in the catalog before the process ended (exit {(process.HasExited ? process.ExitCode : -1)}): {(process.HasExited ? process.StandardError.ReadToEnd() : "still running")}");
    }

    private static long Count(string catalog, string query)
    {
        try
        {
            using var c = new SqliteConnection($"Data Source={catalog};Mode=ReadOnly;Pooling=False");
            c.Open();
            using SqliteCommand command = c.CreateCommand();
            command.CommandText = query;
            return (long)command.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return 0; // the schema is not there yet
        }
    }

    // The built CLI (copied beside the tests by the project reference), as a child process.
    private static Process Cli(params string[] args) => Cli(asInTerminal: false, args);

    // asInTerminal: Ctrl+C reaches the CLI as it does in a terminal. A test runner started as a background job
    // (`cmd &` in a script) ignores SIGINT and its children inherit that, so the CLI is started through
    // `env --default-signal=INT`, which restores the default before the CLI starts.
    private static Process Cli(bool asInTerminal, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "defect.dll");
        Assert.True(File.Exists(dll), $"the built CLI is missing: {dll}");
        string host = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var start = new ProcessStartInfo(asInTerminal ? "env" : host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asInTerminal)
        {
            start.ArgumentList.Add("--default-signal=INT");
            start.ArgumentList.Add(host);
        }

        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { }; // drained, so a full pipe never blocks the child
        process.BeginOutputReadLine();
        return process;
    }
}
