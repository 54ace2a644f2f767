using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using DefectDetection.Service.Auth;

namespace DefectDetection.Service.Tests;

public partial class AuthTests
{
    [Fact]
    public async Task EveryOperationOfTheOpenApiDocument_RefusesAnonymous401_AndWrongScope403()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync();
        string ingest = await h.KeyAsync(ApiScopes.Ingest);
        string read = await h.KeyAsync(ApiScopes.Read);
        string ingestRead = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        JsonElement doc = await h.GetJsonAsync(read, "/openapi/v1.json");
        Assert.Equal("bearer", doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("apiKey").GetProperty("scheme").GetString());

        List<(HttpMethod Method, string Path, string Scope)> operations = [];
        foreach (JsonProperty path in doc.GetProperty("paths").EnumerateObject())
        {
            foreach (JsonProperty op in path.Value.EnumerateObject())
            {
                string summary = op.Value.GetProperty("summary").GetString()!;
                Match scope = ScopeInSummary().Match(summary);
                Assert.True(scope.Success, $"{op.Name} {path.Name}: the summary names no scope");
                operations.Add((new HttpMethod(op.Name.ToUpperInvariant()), ParameterRegex().Replace(path.Name, "x"), scope.Groups[1].Value));
            }
        }

        Assert.Contains(operations, o => o.Method == HttpMethod.Post && o.Path == "/v1/images");
        Assert.Contains(operations, o => o.Path == "/v1/webhooks/dead-letters");
        Assert.True(operations.Count >= 5, $"only {operations.Count} operations");

        // The two endpoints outside the document: the document itself and the metrics.
        operations.Add((HttpMethod.Get, "/openapi/v1.json", "read"));
        operations.Add((HttpMethod.Get, "/metrics", "read"));
        foreach ((HttpMethod method, string path, string scope) in operations)
        {
            using HttpRequestMessage anonymous = ServiceHarness.Request(method, path, null);
            Assert.True((await h.Client.SendAsync(anonymous)).StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} anonymous");
            using HttpRequestMessage forged = ServiceHarness.Request(method, path, "dk_0123456789ab_notthesecret");
            Assert.True((await h.Client.SendAsync(forged)).StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} wrong key");
            string wrong = scope switch { "ingest" => read, "read" => ingest, _ => ingestRead };
            using HttpRequestMessage wrongScope = ServiceHarness.Request(method, path, wrong);
            Assert.True((await h.Client.SendAsync(wrongScope)).StatusCode == HttpStatusCode.Forbidden, $"{method} {path} without scope {scope}");
        }

        using HttpResponseMessage health = await h.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        h.DeleteData();
    }

    [Fact]
    public async Task XApiKeyHeaderWorks_AdminImpliesEveryScope_AndNoKeyEverAppearsInTheLogs()
    {
        ServiceHarness h = await ServiceHarness.StartAsync();
        string admin = await h.KeyAsync(ApiScopes.Admin);
        using HttpRequestMessage upload = new(HttpMethod.Post, "/v1/images") { Content = ServiceHarness.Form(TestModel.Normal(1)) };
        upload.Headers.Add("X-Api-Key", admin);
        using HttpResponseMessage accepted = await h.Client.SendAsync(upload);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        string id = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        await h.WaitResultAsync(admin, id);
        await h.GetJsonAsync(admin, "/v1/webhooks/dead-letters");
        using HttpRequestMessage wrong = ServiceHarness.Request(HttpMethod.Get, "/v1/results", admin[..^2] + "xx");
        Assert.Equal(HttpStatusCode.Unauthorized, (await h.Client.SendAsync(wrong)).StatusCode);
        await h.DisposeAsync();

        string secret = admin["dk_0123456789ab_".Length..];
        Assert.NotEmpty(h.LogLines);
        Assert.DoesNotContain(h.LogLines, l => l.Contains(secret[..20], StringComparison.Ordinal));
        h.DeleteData();
    }

    [Fact]
    public void Keys_AreStoredAsHashes_AndScopesParse()
    {
        (string key, Storage.ApiKeyRecord record) = ApiKeys.New("k", ApiScopes.Read);
        Assert.StartsWith("dk_", key);
        Assert.Equal(record.KeyId, ApiKeys.IdOf(key));
        Assert.True(ApiKeys.Matches(key, record));
        Assert.False(ApiKeys.Matches(key + "x", record));
        Assert.DoesNotContain(key, Convert.ToHexString(record.Hash), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(ApiScopes.Ingest | ApiScopes.Read, ApiKeys.ParseScopes("ingest, read"));
        Assert.Throws<ArgumentException>(() => ApiKeys.ParseScopes("write"));
        Assert.True(ApiKeys.Allows(ApiScopes.Admin, ApiScopes.Ingest));
        Assert.False(ApiKeys.Allows(ApiScopes.Read, ApiScopes.Ingest));
    }

    [GeneratedRegex(@"\(scope (ingest|read|admin)\)")]
    private static partial Regex ScopeInSummary();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex ParameterRegex();
}
