using System.Text.Json;
using DefectDetection.Service.Dashboard;
using DefectDetection.Service.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace DefectDetection.Dashboard.Tests;

/// <summary>The dashboard in real headless Chromium against the service on a socket.</summary>
public sealed class DashboardBrowserTests
{
    [ChromiumFact]
    public async Task Overview_shows_the_counts_of_images_just_posted()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        for (int i = 0; i < 3; i++)
        {
            await host.PostAndWaitAsync(TestModel.Normal(i), "C1");
        }

        await host.PostAndWaitAsync(TestModel.Defect(1), "C1");
        await host.PostAndWaitAsync(TestModel.Defect(2), "C2");
        JsonElement overview = await host.GetJsonAsync("/v1/stats?line=L1");
        long anomalies = overview.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("anomalies").GetInt64());

        IPage page = await host.SignedInPageAsync(host.ReadKey);
        ILocator c1 = page.Locator("#groups tbody tr", new() { HasText = "C1" });
        await Assertions.Expect(c1.Locator("[data-field=total]")).ToHaveTextAsync("4");
        await Assertions.Expect(page.Locator("#groups tbody tr", new() { HasText = "C2" }).Locator("[data-field=total]")).ToHaveTextAsync("1");
        long shown = 0;
        foreach (ILocator cell in await page.Locator("#groups [data-field=anomalies]").AllAsync())
        {
            shown += long.Parse(await cell.InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.Equal(anomalies, shown);
        Assert.True(anomalies >= 1, "the defect images should be judged anomalies");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Line overview" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("text=line-rate")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = DashboardHost.ScreenshotPath("dashboard-overview.png"), FullPage = true });

        // Usable on a tablet in portrait and at 1366x768: nothing wider than the window.
        foreach ((int w, int hgt) in new[] { (768, 1024), (1366, 768) })
        {
            await page.SetViewportSizeAsync(w, hgt);
            Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), $"the overview is wider than {w} px");
        }
    }

    [ChromiumFact]
    public async Task Detail_shows_the_overlay_and_a_wrong_verdict_marked_in_the_browser_reaches_the_verification_store()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        string id = await host.PostAndWaitAsync(TestModel.Defect(3), "C1");

        IPage page = await host.SignedInPageAsync(host.ReadKey);
        await page.GotoAsync($"{host.Url}/dashboard/#/images");
        await page.GetByRole(AriaRole.Link).Filter(new() { HasText = ":" }).First.ClickAsync();
        await page.WaitForURLAsync($"**/#/image/{id}");
        ILocator overlay = page.Locator("img#overlay");
        await Assertions.Expect(overlay).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("overlay\\.png$"));
        await page.WaitForFunctionAsync("() => document.querySelector('#overlay').complete && document.querySelector('#overlay').naturalWidth > 0");
        Assert.True(await overlay.EvaluateAsync<int>("i => i.naturalWidth") > 0);
        await Assertions.Expect(page.Locator("text=against threshold")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = DashboardHost.ScreenshotPath("dashboard-detail.png"), FullPage = true });

        await page.GetByLabel("Wrong").CheckAsync();
        await page.GetByLabel("True label").FillAsync("normal");
        await page.GetByLabel("Add to the training set").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Record verification" }).ClickAsync();
        await Assertions.Expect(page.Locator("#verify-status")).ToHaveTextAsync("Verification recorded.");

        Verification? v = await host.App.Services.GetRequiredService<IVerificationSink>().FindAsync(id);
        Assert.NotNull(v);
        Assert.False(v.Correct);
        Assert.Equal("normal", v.TrueLabel);
        Assert.True(v.AddToTrainingSet);
        Assert.Equal("operator", v.VerifiedBy);
    }

    [ChromiumFact]
    public async Task A_read_only_key_cannot_activate_a_version_and_an_admin_key_can()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        string before = host.ServedVersion;

        IPage reader = await host.SignedInPageAsync(host.ReadKey);
        await reader.GotoAsync($"{host.Url}/dashboard/#/models");
        await Assertions.Expect(reader.Locator("#models tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(reader.Locator("#models th", new() { HasText = "image_auroc" })).ToBeVisibleAsync();
        await Assertions.Expect(reader.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Activate") })).ToHaveCountAsync(0);

        // The action is hidden, and refused by the server when sent anyway (with the session's own CSRF token).
        int status = await reader.EvaluateAsync<int>(
            @"async v => { const s = await (await fetch('/dashboard/api/session')).json();
              return (await fetch('/dashboard/api/models/activate', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf }, body: JSON.stringify({ version: v }) })).status; }",
            host.OtherVersion);
        Assert.Equal(403, status);
        Assert.Equal(before, host.ServedVersion);

        IPage admin = await host.SignedInPageAsync(host.AdminKey);
        await admin.GotoAsync($"{host.Url}/dashboard/#/models");
        await admin.GetByRole(AriaRole.Button, new() { Name = $"Activate {host.OtherVersion}" }).ClickAsync();
        await Assertions.Expect(admin.Locator("#models tbody tr", new() { HasText = host.OtherVersion })).ToContainTextAsync("active");
        Assert.Equal(host.OtherVersion, host.ServedVersion);
        string id = await host.PostAndWaitAsync(TestModel.Normal(7), "C1");
        Assert.Equal(host.OtherVersion, (await host.GetJsonAsync($"/v1/results/{id}")).GetProperty("model_version").GetString());
    }
}
