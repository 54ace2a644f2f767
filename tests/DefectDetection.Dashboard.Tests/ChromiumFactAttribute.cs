using DefectDetection.Testing;

namespace DefectDetection.Dashboard.Tests;

/// <summary>
/// A test that drives the system's headless Chromium (Debian's <c>chromium</c>; Playwright never downloads a browser
/// here). Skipped with a reason when no chromium is found, and run (to fail) when <c>DEFECT_REQUIRE_SHARED=1</c>.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null && !SharedData.Required)
        {
            Skip = "needs chromium on the PATH (apt-get install chromium) or DEFECT_CHROMIUM; set DEFECT_REQUIRE_SHARED=1 to make this a failure";
        }
    }
}

/// <summary>Where the browser is: <c>DEFECT_CHROMIUM</c>, else <c>chromium</c> or <c>chromium-browser</c> on the PATH.</summary>
public static class Chromium
{
    public static string? Path { get; } = Find();

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("DEFECT_CHROMIUM") is { Length: > 0 } env && File.Exists(env))
        {
            return env;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string name in new[] { "chromium", "chromium-browser" })
            {
                string candidate = System.IO.Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
