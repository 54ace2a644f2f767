using System.Text.Json;
using DefectDetection.Projects;
using Microsoft.Playwright;

namespace DefectDetection.Dashboard.Tests;

/// <summary>The dashboard of <c>defect serve --project</c> in real headless Chromium: verification, retraining, activation, trials.</summary>
public sealed class ProjectDashboardTests
{
    private static readonly LocatorAssertionsToHaveTextOptions Training = new() { Timeout = 300_000 };

    [ChromiumFact]
    public async Task A_wrong_verdict_marked_in_the_browser_reaches_the_projects_dataset()
    {
        await using DashboardHost host = await DashboardHost.StartProjectAsync();
        string id = await host.PostAndWaitAsync(TestProject.Upload(900, defect: true), "C1");
        Assert.Equal("v1", (await host.GetJsonAsync($"/v1/results/{id}")).GetProperty("model_version").GetString());

        IPage page = await host.SignedInPageAsync(host.ReadKey);
        await page.GotoAsync($"{host.Url}/dashboard/#/image/{id}");
        await page.GetByLabel("Wrong").CheckAsync();
        await page.GetByLabel("True label").FillAsync("scratch");
        await page.GetByLabel("Add to the training set").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Record verification" }).ClickAsync();
        await Assertions.Expect(page.Locator("#verify-status")).ToHaveTextAsync("Verification recorded.");

        using DefectProject project = DefectProject.Open(host.Project!);
        DatasetEntry entry = Assert.Single(project.Dataset.List(new DatasetQuery { Verified = true }));
        Assert.Equal(("scratch", EntrySplit.Train), (entry.Label, entry.Split));
        Assert.Contains(id, entry.Origin, StringComparison.Ordinal);
        Assert.Contains("operator", entry.Origin, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task An_admin_retrains_and_activates_v2_from_the_page_and_the_service_then_answers_with_v2()
    {
        await using DashboardHost host = await DashboardHost.StartProjectAsync();
        IPage page = await host.SignedInPageAsync(host.AdminKey);
        await page.GotoAsync($"{host.Url}/dashboard/#/models");
        await Assertions.Expect(page.Locator("#models tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#models tbody tr", new() { HasText = "v1" })).ToContainTextAsync("active");

        // Progress is shown while the new version trains: record whether a progress bar ever appeared.
        await page.EvaluateAsync("() => { window.sawProgress = false; new MutationObserver(() => { if (document.querySelector('#retrain-state progress')) window.sawProgress = true; }).observe(document.body, { childList: true, subtree: true }); }");
        await page.GetByRole(AriaRole.Button, new() { Name = "Retrain on the current dataset" }).ClickAsync();
        await Assertions.Expect(page.Locator("#retrain-state")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^v2 trained .*Activate it below to serve it\\.$"), Training);
        Assert.True(await page.EvaluateAsync<bool>("() => window.sawProgress"), "no progress bar was shown while training");
        ILocator v2 = page.Locator("#models tbody tr", new() { HasText = "v2" });
        await Assertions.Expect(v2).ToContainTextAsync("trained");
        Assert.Equal("v1", host.ServedVersion);

        string byV1 = await host.PostAndWaitAsync(TestProject.Upload(940, defect: true), "C1");

        // Images sent while the version is switched are all judged: none is dropped.
        Task<string>[] during = [.. Enumerable.Range(0, 4).Select(i => host.PostAndWaitAsync(TestProject.Upload(950 + i, defect: i % 2 == 0), "C1"))];
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate v2" }).ClickAsync();
        await Assertions.Expect(v2.Locator("td").First).ToHaveTextAsync("active");
        await Assertions.Expect(page.Locator("#model-status")).ToHaveTextAsync("v2 is served now.");
        await Assertions.Expect(page.Locator("#retrain-state")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^v2 trained .*It is served now\\.$"));
        Assert.Equal("v2", host.ServedVersion);
        foreach (string done in await Task.WhenAll(during))
        {
            JsonElement r = await host.GetJsonAsync($"/v1/results/{done}");
            Assert.Equal("done", r.GetProperty("status").GetString());
            Assert.Contains(r.GetProperty("model_version").GetString(), new[] { "v1", "v2" });
        }

        // The overlay is drawn only by the version that judged the image: v1's image gets 409 and the page says why.
        Assert.Equal("v1", (await host.GetJsonAsync($"/v1/results/{byV1}")).GetProperty("model_version").GetString());
        Assert.Equal(409, await page.EvaluateAsync<int>($"() => fetch('/dashboard/api/results/{byV1}/overlay.png').then(r => r.status)"));
        await page.GotoAsync($"{host.Url}/dashboard/#/image/{byV1}");
        await Assertions.Expect(page.Locator("#overlay-note")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("/image$"));

        string after = await host.PostAndWaitAsync(TestProject.Upload(990, defect: true), "C1");
        Assert.Equal("v2", (await host.GetJsonAsync($"/v1/results/{after}")).GetProperty("model_version").GetString());
        Assert.Equal(200, await page.EvaluateAsync<int>($"() => fetch('/dashboard/api/results/{after}/overlay.png').then(r => r.status)"));
        using (DefectProject project = DefectProject.Open(host.Project!))
        {
            Assert.Equal(2, project.Models.Active!.Number);
        }

        await page.ScreenshotAsync(new() { Path = DashboardHost.ScreenshotPath("dashboard-models.png"), FullPage = true });
        await AssertFitsAsync(page);
    }

    [ChromiumFact]
    public async Task A_read_only_key_cannot_activate_retrain_or_accept()
    {
        await using DashboardHost host = await DashboardHost.StartProjectAsync(secondVersion: true);
        IPage reader = await host.SignedInPageAsync(host.ReadKey);
        await reader.GotoAsync($"{host.Url}/dashboard/#/models");
        await Assertions.Expect(reader.Locator("#models tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(reader.Locator("#models tbody tr", new() { HasText = "v2" })).ToContainTextAsync("trained");
        await Assertions.Expect(reader.Locator("#models th", new() { HasText = "ROC AUC" })).ToBeVisibleAsync();
        await Assertions.Expect(reader.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^(Activate|Retrain)") })).ToHaveCountAsync(0);
        await reader.GotoAsync($"{host.Url}/dashboard/#/trial/1");
        await Assertions.Expect(reader.Locator("#trial-results > li")).ToHaveCountAsync(TestProject.TrialFiles.Length);
        await Assertions.Expect(reader.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Accept") })).ToHaveCountAsync(0);

        // Sent anyway with the session's own CSRF token: refused, and nothing changes.
        foreach ((string path, string body) in new[] { ("/models/activate", """{"version":"v2"}"""), ("/models/retrain", "{}"), ("/trials/1/accept", "{}") })
        {
            int status = await reader.EvaluateAsync<int>(
                @"async ([path, body]) => { const s = await (await fetch('/dashboard/api/session')).json();
                  return (await fetch('/dashboard/api' + path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf }, body })).status; }",
                new[] { path, body });
            Assert.True(status == 403, $"{path} answered {status} to a read-only session");
        }

        Assert.Equal("v1", host.ServedVersion);
        using DefectProject project = DefectProject.Open(host.Project!);
        Assert.Equal(1, project.Models.Active!.Number);
        Assert.Equal(2, project.Models.List().Count);
        Assert.Equal(0, project.Trials.Get(1).Accepted);
    }

    [ChromiumFact]
    public async Task Trial_verification_marked_in_the_browser_is_stored_in_the_project_and_an_admin_accepts_it()
    {
        await using DashboardHost host = await DashboardHost.StartProjectAsync();
        Dictionary<string, TrialResult> machine;
        int entriesBefore;
        using (DefectProject project = DefectProject.Open(host.Project!))
        {
            machine = project.Trials.Get(1).Results.ToDictionary(r => Path.GetFileName(r.Source));
            entriesBefore = project.Dataset.Count();
        }

        IPage page = await host.SignedInPageAsync(host.ReadKey);
        await page.GotoAsync($"{host.Url}/dashboard/#/trials");
        await page.GetByRole(AriaRole.Link, new() { Name = "Trial 1" }).ClickAsync();
        ILocator cards = page.Locator("#trial-results > li");
        await Assertions.Expect(cards).ToHaveCountAsync(TestProject.TrialFiles.Length);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#trial-results img')].every(i => i.complete && i.naturalWidth > 0)");

        // Each verdict checked against the truth (the file name), as a person would: correct or wrong, and the true label.
        foreach (string file in new[] { "good-2.png", "bad-1.png" })
        {
            string truth = file.StartsWith("bad", StringComparison.Ordinal) ? "anomaly" : "normal";
            bool right = machine[file].IsDefect == (truth == "anomaly");
            ILocator card = cards.Filter(new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = file }) });
            await card.GetByLabel(right ? "Correct" : "Wrong").CheckAsync();
            await card.GetByLabel("True label").FillAsync(truth);
            await card.GetByRole(AriaRole.Button, new() { Name = "Record" }).ClickAsync();
            await Assertions.Expect(card.GetByRole(AriaRole.Status)).ToContainTextAsync($"Verified {(right ? "correct" : "wrong")}, true label {truth}");
        }

        await Assertions.Expect(page.Locator("#trial-summary")).ToContainTextAsync("2 verified");
        await page.ScreenshotAsync(new() { Path = DashboardHost.ScreenshotPath("dashboard-trial.png"), FullPage = true });
        await AssertFitsAsync(page);
        using (DefectProject project = DefectProject.Open(host.Project!))
        {
            Dictionary<string, TrialResult> stored = project.Trials.Get(1).Results.ToDictionary(r => Path.GetFileName(r.Source));
            Assert.Equal(("normal", !machine["good-2.png"].IsDefect), (stored["good-2.png"].Verification!.TrueLabel, stored["good-2.png"].Verification!.Correct));
            Assert.Equal(("anomaly", machine["bad-1.png"].IsDefect), (stored["bad-1.png"].Verification!.TrueLabel, stored["bad-1.png"].Verification!.Correct));
            Assert.Equal(2, stored.Values.Count(r => r.Verification is not null));
        }

        IPage admin = await host.SignedInPageAsync(host.AdminKey);
        await admin.GotoAsync($"{host.Url}/dashboard/#/trial/1");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Accept verified images into the training set" }).ClickAsync();
        await Assertions.Expect(admin.Locator("#trial-status")).ToHaveTextAsync("Added 2 verified images to the training set.");
        await Assertions.Expect(admin.Locator("#trial-summary")).ToContainTextAsync("2 in the training set");
        using (DefectProject project = DefectProject.Open(host.Project!))
        {
            Assert.Equal(entriesBefore + 2, project.Dataset.Count());
            IReadOnlyList<DatasetEntry> added = project.Dataset.List(new DatasetQuery { Verified = true });
            Assert.Equal(["anomaly", "normal"], added.Select(e => e.Label).Order());
            Assert.All(added, e => Assert.Equal(("trial 1 (v1)", EntrySplit.Train), (e.Origin, e.Split)));
        }
    }

    /// <summary>Nothing wider than the window on a tablet in portrait or at 1366x768.</summary>
    private static async Task AssertFitsAsync(IPage page)
    {
        foreach ((int w, int hgt) in new[] { (768, 1024), (1366, 768) })
        {
            await page.SetViewportSizeAsync(w, hgt);
            Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), $"the page is wider than {w} px");
        }
    }
}
