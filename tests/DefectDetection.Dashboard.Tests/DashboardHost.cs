using System.Net.Http.Headers;
using DefectDetection.Models;
using DefectDetection.Service;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Models;
using DefectDetection.Service.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Playwright;

namespace DefectDetection.Dashboard.Tests;

/// <summary>
/// The service on a real socket (the browser needs one) with an admin and a read-only key, plus a headless Chromium
/// page when asked: over a temporary data folder holding two model files in <c>models/</c> (<see cref="StartAsync"/>),
/// or serving a generated project like <c>defect serve --project</c> (<see cref="StartProjectAsync"/>).
/// </summary>
internal sealed class DashboardHost : IAsyncDisposable
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    private DashboardHost(WebApplication app, string root, string data, IModelSource source, string url)
    {
        App = app;
        _root = root;
        Data = data;
        Source = source;
        Url = url;
        Client = new HttpClient { BaseAddress = new Uri(url) };
    }

    private readonly string _root;

    public WebApplication App { get; }

    /// <summary>The service's data folder.</summary>
    public string Data { get; }

    public IModelSource Source { get; }

    /// <summary>The version the service judges with now.</summary>
    public string ServedVersion
    {
        get
        {
            using ModelLease lease = Source.Acquire();
            return lease.Version;
        }
    }

    /// <summary>The project folder (<see cref="StartProjectAsync"/>), or null.</summary>
    public string? Project { get; private init; }

    public string Url { get; }

    public HttpClient Client { get; }

    public string AdminKey { get; private init; } = "";

    public string ReadKey { get; private init; } = "";

    /// <summary>The version of the second model file (the first is served at the start).</summary>
    public string OtherVersion { get; private set; } = "";

    public static async Task<DashboardHost> StartAsync()
    {
        string root = NewFolder();
        string models = Path.Combine(root, "models");
        Directory.CreateDirectory(models);
        string first = Path.Combine(models, "parts-v1.ddmodel");
        string second = Path.Combine(models, "parts-v2.ddmodel");
        using (IDefectModel model = TestModel.Load())
        {
            model.Save(first);
            using IDefectModel stricter = model.WithThreshold(model.Threshold!.Value * 1.5);
            stricter.Save(second);
        }

        File.WriteAllText(Path.ChangeExtension(first, ".metrics.json"), """{"accuracy": 0.95, "f1": 0.93, "image_auroc": 0.991}""");
        File.WriteAllText(Path.ChangeExtension(second, ".metrics.json"), """{"accuracy": 0.97, "f1": 0.96, "image_auroc": 0.994}""");
        DashboardHost host = await StartAsync(root, root, new SwitchableModelSource(Vision.DefectModel.Load(first), SwitchableModelSource.VersionOf(first)));
        host.OtherVersion = SwitchableModelSource.VersionOf(second);
        return host;
    }

    /// <summary>
    /// Serves a new project (<see cref="TestProject.Create"/>: v1 active, trial 1; with <paramref name="secondVersion"/>
    /// also v2, trained and not active) as <c>defect serve --project</c> does, results in its <c>service/</c> folder.
    /// </summary>
    public static async Task<DashboardHost> StartProjectAsync(bool secondVersion = false)
    {
        string root = NewFolder();
        string project = TestProject.Create(Path.Combine(root, "project"), Path.Combine(root, "images"), secondVersion);
        return await StartAsync(root, Path.Combine(project, "service"), ProjectModelSource.Open(project, TimeSpan.FromSeconds(2)), project);
    }

    private static string NewFolder() => Path.Combine(Path.GetTempPath(), "defect-dashboard-" + Guid.NewGuid().ToString("N"));

    private static async Task<DashboardHost> StartAsync(string root, string data, IModelSource source, string? project = null)
    {
        WebApplication app = InspectionService.Create(new InspectionServiceOptions
        {
            DataDirectory = data,
            Alarms = [new AlarmRule { Name = "line-rate", Kind = AlarmKind.AnomalyRate, Scope = AlarmScope.Line, Threshold = 20, LastImages = 2 }],
        }, source, ["--urls", "http://127.0.0.1:0"], b => b.Logging.SetMinimumLevel(LogLevel.Error));
        await app.StartAsync();
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DashboardHost(app, root, data, source, url)
        {
            AdminKey = await ApiKeys.CreateAsync(data, "quality-admin", ApiScopes.Admin),
            ReadKey = await ApiKeys.CreateAsync(data, "operator", ApiScopes.Read),
            Project = project,
        };
    }

    /// <summary>Uploads an image on line L1 (camera given) and waits for its result; returns the id.</summary>
    public async Task<string> PostAndWaitAsync(byte[] image, string camera)
    {
        using HttpRequestMessage request = new(HttpMethod.Post, "/v1/images") { Content = ServiceHarness.Form(image, "L1", camera) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using HttpResponseMessage response = await Client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string id = doc.RootElement.GetProperty("id").GetString()!;
        DateTime end = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using HttpRequestMessage get = new(HttpMethod.Get, $"/v1/results/{id}");
            get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            using HttpResponseMessage r = await Client.SendAsync(get);
            if (!(await r.Content.ReadAsStringAsync()).Contains("\"status\":\"queued\"", StringComparison.Ordinal))
            {
                return id;
            }

            Assert.True(DateTime.UtcNow < end, $"{id} still queued");
            await Task.Delay(50);
        }
    }

    /// <summary>GETs <paramref name="path"/> of the <c>/v1</c> API with the admin key.</summary>
    public async Task<System.Text.Json.JsonElement> GetJsonAsync(string path)
    {
        using HttpRequestMessage request = new(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using HttpResponseMessage response = await Client.SendAsync(request);
        return System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>A new page in headless Chromium at 1366x768, signed in to the dashboard with <paramref name="key"/>.</summary>
    public async Task<IPage> SignedInPageAsync(string key)
    {
        _playwright ??= await Playwright.CreateAsync();
        _browser ??= await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium.Path ?? throw new InvalidOperationException("chromium was not found on the PATH (apt-get install chromium)."),
            Headless = true,
        });
        IBrowserContext context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 768 }, TimezoneId = "Europe/Berlin", Locale = "en-GB" });
        IPage page = await context.NewPageAsync();
        await page.GotoAsync(Url + "/dashboard/");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.Locator("#nav").WaitForAsync();
        return page;
    }

    /// <summary>Where the documentation screenshots go (docs/images of the repository).</summary>
    public static string ScreenshotPath(string name)
    {
        string dir = Path.Combine(Testing.SharedData.RepoRoot, "docs", "images");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
