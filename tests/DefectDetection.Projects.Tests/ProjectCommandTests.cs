using System.Text.Json;
using static DefectDetection.Projects.Tests.ProcessSafetyTests;

namespace DefectDetection.Projects.Tests;

/// <summary>The project commands in-process: the loop with <c>--json</c>, and bad input ending in exit code 2 with a message.</summary>
public sealed class ProjectCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-project-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheLoopThroughTheCommands_WritesJsonForEachStep()
    {
        string project = Path.Combine(_dir, "p");
        string data = TestImages.LabelFolders(Path.Combine(_dir, "data"), normals: 8, anomalies: 8);
        string fresh = Path.Combine(_dir, "fresh");
        List<string> bad = TestImages.Write(fresh, "anomaly", 2, 300, 64, defect: true);
        TestImages.Write(fresh, "normal", 2, 400, 64, defect: false);

        Json(Ok("project", "create", "--project", project, "--json"));
        JsonElement import = Json(Ok("dataset", "import", data, "--test-fraction", "0.25", "--project", project, "--json"));
        Assert.Equal(16, import.GetProperty("added").GetInt32());
        JsonElement v1 = Json(Ok("model", "train", "--project", project, "--json"));
        Assert.Equal(("v1", "trained", true), (v1.GetProperty("version").GetString(), v1.GetProperty("status").GetString(), v1.GetProperty("active").GetBoolean()));
        JsonElement trial = Json(Ok("trial", "run", fresh, "--project", project, "--json"));
        Assert.Equal(4, trial.GetProperty("results").GetArrayLength());

        File.WriteAllLines(Path.Combine(_dir, "labels.csv"), Directory.EnumerateFiles(fresh).Select(f => $"{Path.GetFileName(f)},{Path.GetFileName(f).Split('-')[0]}"));
        Assert.Equal(4, Json(Ok("trial", "verify", "1", "--file", Path.Combine(_dir, "labels.csv"), "--project", project, "--json")).GetProperty("verified").GetInt32());
        Assert.Contains("correct", Ok("trial", "verify", "1", bad[0], "--correct", "--project", project) + Ok("trial", "verify", "1", bad[0], "--label", "anomaly", "--project", project));
        Assert.Equal(4, Json(Ok("trial", "accept", "1", "--project", project, "--json")).GetProperty("added").GetArrayLength());
        JsonElement v2 = Json(Ok("model", "retrain", "--activate", "--project", project, "--json"));
        Assert.Equal(16 - 4 + 4, v2.GetProperty("train_images").GetInt32());

        JsonElement compare = Json(Ok("model", "compare", "v1", "v2", "--project", project, "--json"));
        Assert.Equal(4, compare.GetProperty("common_test_images").GetInt32());
        string table = Ok("model", "compare", "v1", "v2", "--project", project);
        Assert.Contains("accuracy", table);
        Assert.Contains("common test images changed verdict", table);
        Assert.Equal(2, Json(Ok("model", "list", "--project", project, "--json")).GetArrayLength());
        Assert.Equal(20, Json(Ok("dataset", "list", "--project", project, "--json")).GetArrayLength());
        Assert.Equal(4, Json(Ok("dataset", "list", "--verified", "--project", project, "--json")).GetArrayLength());
        JsonElement info = Json(Ok("project", "info", "--project", project, "--json"));
        Assert.Equal("v2", info.GetProperty("active_version").GetString());
        JsonElement shown = Json(Ok("model", "show", "v1", "--entries", "--project", project, "--json"));
        Assert.Equal(16, shown.GetProperty("entries").GetArrayLength());
        Assert.Contains("deleted v1", Ok("model", "delete", "--keep-last", "1", "--project", project));
    }

    [Theory]
    [InlineData("model show v9", "no version v9")]
    [InlineData("model activate vx", "is not a version")]
    [InlineData("trial show 4", "no trial 4")]
    [InlineData("dataset remove 12345", "no current dataset entry 12345")]
    [InlineData("model train", "no training images")]
    [InlineData("dataset import /no/such/folder", "/no/such/folder")]
    [InlineData("dataset list --split middle", "middle")]
    public void BadInput_EndsWithExitCode2_AndAMessageNamingIt(string command, string message)
    {
        string project = Path.Combine(_dir, "p");
        Ok("project", "create", "--project", project);
        var (code, _, error) = InProcess([.. command.Split(' '), "--project", project]);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void NotAProject_OrANewerOne_EndsWithExitCode2()
    {
        var (code, _, error) = InProcess("project", "info", "--project", _dir);
        Assert.Equal(2, code);
        Assert.Contains("is not a project", error);

        string project = Path.Combine(_dir, "newer");
        Ok("project", "create", "--project", project);
        ProjectCatalogTests.Sql(Path.Combine(project, DefectProject.CatalogFileName), "PRAGMA user_version = 99");
        (code, _, error) = InProcess("dataset", "list", "--project", project);
        Assert.Equal(2, code);
        Assert.Contains("newer version", error);
        Assert.Contains("schema 99", error);
    }

    private static string Ok(params string[] args)
    {
        var (code, output, error) = InProcess(args);
        Assert.True(code == 0, $"{string.Join(' ', args)}: exit {code}: {error}");
        return output;
    }

    private static JsonElement Json(string output) => JsonDocument.Parse(output).RootElement.Clone();
}
