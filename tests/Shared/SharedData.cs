using System.Runtime.CompilerServices;

namespace DefectDetection.Testing;

/// <summary>
/// Locates <c>../shared</c> (datasets and models beside the repository root). Tests that need it use
/// <see cref="SharedFactAttribute"/> / <see cref="SharedTheoryAttribute"/>: they are skipped with a reason when the
/// folder is absent, and fail instead when <c>DEFECT_REQUIRE_SHARED=1</c> (as in CI).
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> RootLazy = new(FindRoot);

    /// <summary>The shared folder, or null when absent.</summary>
    public static string? Root => RootLazy.Value;

    /// <summary>True when CI demands the shared data.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("DEFECT_REQUIRE_SHARED") == "1";

    /// <summary>The repository root (the folder holding DefectDetection.Core.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>A path under the shared folder; fails the test with a clear message if the folder is absent.</summary>
    public static string PathOf(params string[] parts)
    {
        string root = Root ?? throw new InvalidOperationException(
            $"The shared data folder was not found beside the repository root ({Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"))}).");
        string path = Path.Combine([root, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException($"Shared data file missing: {path}", path);
        }

        return path;
    }

    /// <summary>The ImageNet MobileNetV2 with QDQ int8 quantisation, the default backbone of the anomaly and transfer-learning tests.</summary>
    public static string MobileNetV2Qdq => PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");

    internal static string? SkipReason()
    {
        if (Root is not null)
        {
            return null;
        }

        if (Required)
        {
            // Not skipped: the test runs and fails on the missing folder.
            return null;
        }

        return "needs ../shared beside the repository root (datasets and models); set DEFECT_REQUIRE_SHARED=1 to make this a failure";
    }

    private static string? FindRoot()
    {
        string? env = Environment.GetEnvironmentVariable("DEFECT_SHARED_DIR");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
        {
            return Path.GetFullPath(env);
        }

        string candidate = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
        return Directory.Exists(Path.Combine(candidate, "datasets")) || Directory.Exists(Path.Combine(candidate, "models")) ? candidate : null;
    }

    private static string FindRepoRoot([CallerFilePath] string thisFile = "")
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "DefectDetection.Core.sln")))
            {
                return dir;
            }
        }

        // Fall back to the source location (tests/Shared/SharedData.cs).
        return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", ".."));
    }
}

/// <summary>A fact that needs <c>../shared</c>; see <see cref="SharedData"/>.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    /// <summary>Sets the skip reason when the shared data is absent and not required.</summary>
    public SharedFactAttribute() => Skip = SharedData.SkipReason();
}

/// <summary>A theory that needs <c>../shared</c>; see <see cref="SharedData"/>.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets the skip reason when the shared data is absent and not required.</summary>
    public SharedTheoryAttribute() => Skip = SharedData.SkipReason();
}
