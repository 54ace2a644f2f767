namespace DefectDetection.Cli.Tests;

/// <summary><c>defect serve</c> and <c>defect serve key create</c>: arguments and keys (the service itself is tested in DefectDetection.Service.Tests).</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("defect-serve-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void KeyCreate_PrintsTheKeyOnce_AndStoresOnlyItsHash()
    {
        var (code, output, err) = Run("serve", "key", "create", "--data", _dir, "--scopes", "ingest,read", "--name", "camera-1");
        Assert.True(code == 0, err);
        string key = output.Trim();
        Assert.StartsWith("dk_", key);
        Assert.Contains("not shown again", err);
        byte[] db = File.ReadAllBytes(Path.Combine(_dir, "results.db"));
        Assert.DoesNotContain(key[16..], System.Text.Encoding.Latin1.GetString(db), StringComparison.Ordinal);
    }

    [Fact]
    public void BadScopesMissingOptionsAndBadConfig_EndWithExitCode2()
    {
        Assert.Equal(2, Run("serve", "key", "create", "--data", _dir, "--scopes", "write", "--name", "x").Code);
        Assert.Equal(2, Run("serve", "key", "create", "--data", _dir, "--scopes", "read").Code);
        Assert.Equal(2, Run("serve", "--data", _dir).Code);
        string config = Path.Combine(_dir, "serve.json");
        File.WriteAllText(config, """{ "alarms": [ { "name": "r", "kind": "rate", "threshold": 5, "last_images": 10 } ] }""");
        var (code, _, err) = Run("serve", "--data", _dir, "--model", config, "--config", config);
        Assert.Equal(2, code);
        Assert.Contains("kind 'rate'", err);
        File.WriteAllText(config, """{ "webhooks": [ { "url": "http://localhost:9/hook", "secret": "short" } ] }""");
        Assert.Contains("Secret", Run("serve", "--data", _dir, "--model", config, "--config", config).Err);
    }
}
