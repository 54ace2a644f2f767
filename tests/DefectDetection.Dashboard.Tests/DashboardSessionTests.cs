using System.Net;
using System.Net.Http.Json;

namespace DefectDetection.Dashboard.Tests;

/// <summary>Sign-in, cookies, scopes and CSRF without a browser.</summary>
public sealed class DashboardSessionTests
{
    [Fact]
    public async Task Sign_in_sets_an_HttpOnly_SameSite_Strict_cookie_and_every_POST_needs_the_CSRF_token()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        using HttpClient anonymous = new() { BaseAddress = new Uri(host.Url) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/dashboard/api/overview")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/dashboard/api/session", new { key = "dk_000000000000_nope" })).StatusCode);

        HttpResponseMessage signIn = await anonymous.PostAsJsonAsync("/dashboard/api/session", new { key = host.AdminKey });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        string cookie = signIn.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        string csrf = (await signIn.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("csrf").GetString()!;
        Assert.DoesNotContain(host.AdminKey, cookie, StringComparison.Ordinal);

        using HttpClient signedIn = new() { BaseAddress = new Uri(host.Url) };
        signedIn.DefaultRequestHeaders.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await signedIn.GetAsync("/dashboard/api/overview?hours=1")).StatusCode);

        // No token, a wrong token: refused and nothing changes; the right token: done.
        Assert.Equal(HttpStatusCode.Forbidden, (await signedIn.PostAsJsonAsync("/dashboard/api/models/activate", new { version = host.OtherVersion })).StatusCode);
        using HttpRequestMessage wrong = new(HttpMethod.Post, "/dashboard/api/models/activate") { Content = JsonContent.Create(new { version = host.OtherVersion }) };
        wrong.Headers.Add("X-CSRF-Token", "not-the-token");
        Assert.Equal(HttpStatusCode.Forbidden, (await signedIn.SendAsync(wrong)).StatusCode);
        Assert.NotEqual(host.OtherVersion, host.ServedVersion);
        using HttpRequestMessage right = new(HttpMethod.Post, "/dashboard/api/models/activate") { Content = JsonContent.Create(new { version = host.OtherVersion }) };
        right.Headers.Add("X-CSRF-Token", csrf);
        Assert.Equal(HttpStatusCode.NoContent, (await signedIn.SendAsync(right)).StatusCode);
        Assert.Equal(host.OtherVersion, host.ServedVersion);
    }

    [Fact]
    public async Task Pages_are_served_from_the_assembly_with_a_self_only_content_policy_and_an_ingest_key_cannot_sign_in()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        foreach (string path in new[] { "/dashboard/", "/dashboard/app.js", "/dashboard/app.css" })
        {
            HttpResponseMessage r = await host.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.StartsWith("default-src 'self'", r.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            // Nothing is fetched from elsewhere (the XML namespace names of SVG and XHTML are names, not downloads).
            string body = (await r.Content.ReadAsStringAsync()).Replace("http://www.w3.org/", "", StringComparison.Ordinal);
            Assert.DoesNotContain("http://", body, StringComparison.Ordinal);
            Assert.DoesNotContain("https://", body, StringComparison.Ordinal);
        }

        string ingest = await Service.Auth.ApiKeys.CreateAsync(host.Data, "camera", Service.Auth.ApiScopes.Ingest);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.Client.PostAsJsonAsync("/dashboard/api/session", new { key = ingest })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.Client.PostAsync("/dashboard/api/session", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await host.Client.PostAsync("/dashboard/api/session", new FormUrlEncodedContent([new("key", host.AdminKey)]))).StatusCode);
    }

    [Fact]
    public async Task Without_a_project_the_project_calls_answer_404_and_the_session_says_so()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        using HttpClient anonymous = new() { BaseAddress = new Uri(host.Url) };
        HttpResponseMessage signIn = await anonymous.PostAsJsonAsync("/dashboard/api/session", new { key = host.AdminKey });
        System.Text.Json.JsonElement session = await signIn.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.False(session.GetProperty("project").GetBoolean());

        using HttpClient admin = new() { BaseAddress = new Uri(host.Url) };
        admin.DefaultRequestHeaders.Add("Cookie", signIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0]);
        admin.DefaultRequestHeaders.Add("X-CSRF-Token", session.GetProperty("csrf").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/dashboard/api/trials")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/dashboard/api/trials/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("/dashboard/api/models/retrain", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("/dashboard/api/trials/1/accept", new { })).StatusCode);
    }
}
