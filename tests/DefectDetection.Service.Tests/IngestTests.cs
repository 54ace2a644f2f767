using System.Net;
using System.Text.Json;
using DefectDetection.Service.Auth;

namespace DefectDetection.Service.Tests;

public class IngestTests
{
    [Fact]
    public async Task Upload_IsJudged_AndTheResultCarriesThePredictionMetadataAndModelVersion()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync();
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        string normal = await h.UploadOkAsync(key, TestModel.Normal(1));
        string defect = await h.UploadOkAsync(key, TestModel.Defect(1));

        JsonElement n = await h.WaitResultAsync(key, normal);
        JsonElement d = await h.WaitResultAsync(key, defect);
        Assert.Equal("done", n.GetProperty("status").GetString());
        Assert.Equal("normal", n.GetProperty("verdict").GetString());
        Assert.Equal("anomaly", d.GetProperty("verdict").GetString());
        Assert.True(d.GetProperty("prediction").GetProperty("is_defect").GetBoolean());
        Assert.Equal("test-model@1", d.GetProperty("model_version").GetString());
        Assert.Equal("L1", d.GetProperty("line").GetString());
        Assert.Equal("C1", d.GetProperty("camera").GetString());
        Assert.Equal("P-1", d.GetProperty("part_id").GetString());
        Assert.Equal("plant-7", d.GetProperty("facility").GetString());
        Assert.Equal(96, d.GetProperty("prediction").GetProperty("width").GetInt32());
        h.DeleteData();
    }

    [Fact]
    public async Task SameIdempotencyKey_GivesTheSameId_AndOneResult()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync();
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        string first = await h.UploadOkAsync(key, TestModel.Normal(2), idempotencyKey: "client-42");
        await h.WaitResultAsync(key, first);
        string second = await h.UploadOkAsync(key, TestModel.Normal(3), idempotencyKey: "client-42");
        Assert.Equal(first, second);

        JsonElement list = await h.GetJsonAsync(key, "/v1/results");
        Assert.Equal(1, list.GetProperty("items").GetArrayLength());
        Assert.Equal(1, h.Model.Predictions);
        h.DeleteData();
    }

    [Fact]
    public async Task ConcurrentUploadsWithOneIdempotencyKey_GetOneId_AndLeaveOneImageOnDisk()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync();
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        string[] ids = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => h.UploadOkAsync(key, TestModel.Normal(50 + i), idempotencyKey: "same")));
        Assert.Single(ids.Distinct());
        await h.WaitResultAsync(key, ids[0]);
        Assert.Single((await h.GetJsonAsync(key, "/v1/results")).GetProperty("items").EnumerateArray());
        Assert.Single(Directory.EnumerateFiles(Path.Combine(h.Data, "images"), "*", SearchOption.AllDirectories));
        Assert.Equal(1, h.Model.Predictions);
        h.DeleteData();
    }

    [Fact]
    public async Task FullQueue_Answers429WithRetryAfter_AndEverythingAcceptedIsJudged()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync(new InspectionServiceOptions { QueueCapacity = 2 }, closed: true);
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        string a = await h.UploadOkAsync(key, TestModel.Normal(4));
        string b = await h.UploadOkAsync(key, TestModel.Normal(5));
        using HttpResponseMessage refused = await h.UploadAsync(key, TestModel.Normal(6));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(2, (await h.GetJsonAsync(key, "/v1/results?verdict=pending")).GetProperty("items").GetArrayLength());

        h.Model.Open();
        await h.WaitResultAsync(key, a);
        await h.WaitResultAsync(key, b);
        JsonElement list = await h.GetJsonAsync(key, "/v1/results");
        Assert.Equal(2, list.GetProperty("items").GetArrayLength());

        // Room again once the queue drained.
        string c = await h.UploadOkAsync(key, TestModel.Normal(7));
        await h.WaitResultAsync(key, c);
        h.DeleteData();
    }

    [Fact]
    public async Task Restart_QueuedWorkIsJudgedAfterTheRestart_EachImageExactlyOnce()
    {
        string data;
        List<string> ids = [];
        string key;
        ServiceHarness first = await ServiceHarness.StartAsync(closed: true);
        data = first.Data;
        key = await first.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        for (int i = 0; i < 6; i++)
        {
            ids.Add(await first.UploadOkAsync(key, i % 2 == 0 ? TestModel.Normal(i) : TestModel.Defect(i)));
        }

        // Stop with every image still queued (the model's gate is closed; the worker is cancelled mid-wait).
        await first.App.StopAsync();
        await first.App.DisposeAsync();
        Assert.Equal(0, first.Model.Predictions);

        await using ServiceHarness second = await ServiceHarness.StartAsync(data: data);
        foreach (string id in ids)
        {
            JsonElement r = await second.WaitResultAsync(key, id);
            Assert.Equal("done", r.GetProperty("status").GetString());
        }

        JsonElement list = await second.GetJsonAsync(key, "/v1/results?limit=100");
        Assert.Equal(6, list.GetProperty("items").GetArrayLength());
        Assert.Equal(6, list.GetProperty("items").EnumerateArray().Select(x => x.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(6, second.Model.Predictions);
        second.DeleteData();
    }

    [Fact]
    public async Task ImageThatStoppedTheServiceTooOften_IsRecordedInvalid_NotRetriedForever()
    {
        ServiceHarness first = await ServiceHarness.StartAsync(closed: true);
        string key = await first.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        string id = await first.UploadOkAsync(key, TestModel.Normal(30));
        await first.App.StopAsync();
        await first.App.DisposeAsync();

        // Three crashes mid-judging (each start counted, none finished).
        using (Storage.SqliteInspectionStore store = new(Storage.SqliteInspectionStore.PathIn(first.Data)))
        {
            Assert.Equal(0, (await store.GetAsync(id))!.Attempts); // the graceful stop took its start back
            for (int i = 0; i < 3; i++)
            {
                await store.StartAttemptAsync(id);
            }
        }

        await using ServiceHarness second = await ServiceHarness.StartAsync(data: first.Data);
        JsonElement r = await second.WaitResultAsync(key, id);
        Assert.Equal("invalid", r.GetProperty("status").GetString());
        Assert.Contains("given up", r.GetProperty("error").GetString());
        Assert.Equal(0, second.Model.Predictions);
        second.DeleteData();
    }

    [Fact]
    public async Task UndecodableImage_IsRecordedInvalidOnce_WithTheReason()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync();
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        string id = await h.UploadOkAsync(key, TestModel.Broken);
        JsonElement r = await h.WaitResultAsync(key, id);
        Assert.Equal("invalid", r.GetProperty("status").GetString());
        Assert.Equal("invalid", r.GetProperty("verdict").GetString());
        Assert.Contains("cannot be read", r.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("prediction").ValueKind);
        Assert.Equal(0, h.Model.Predictions);

        JsonElement invalid = await h.GetJsonAsync(key, "/v1/results?verdict=invalid");
        Assert.Equal(1, invalid.GetProperty("items").GetArrayLength());
        h.DeleteData();
    }

    [Fact]
    public async Task ImageOverThePixelLimit_IsRecordedInvalid()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync(new InspectionServiceOptions { MaxImagePixels = 1000 });
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        string id = await h.UploadOkAsync(key, TestModel.Normal(8));
        JsonElement r = await h.WaitResultAsync(key, id);
        Assert.Equal("invalid", r.GetProperty("status").GetString());
        Assert.Contains("pixels", r.GetProperty("error").GetString());
        h.DeleteData();
    }

    [Fact]
    public async Task BodyOverTheLimit_Answers413_AndStoresNothing()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync(new InspectionServiceOptions { MaxBodyBytes = 4096 });
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        using HttpResponseMessage response = await h.UploadAsync(key, new byte[20_000]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        JsonElement list = await h.GetJsonAsync(key, "/v1/results");
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
        h.DeleteData();
    }

    [Fact]
    public async Task ResultsFilter_AndStatsCountPerLine()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync();
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        List<string> ids =
        [
            await h.UploadOkAsync(key, TestModel.Normal(10), line: "A"),
            await h.UploadOkAsync(key, TestModel.Defect(11), line: "A"),
            await h.UploadOkAsync(key, TestModel.Defect(12), line: "B", camera: "C2"),
            await h.UploadOkAsync(key, TestModel.Broken, line: "B"),
        ];
        foreach (string id in ids)
        {
            await h.WaitResultAsync(key, id);
        }

        Assert.Equal(2, (await h.GetJsonAsync(key, "/v1/results?line=A")).GetProperty("items").GetArrayLength());
        Assert.Equal(2, (await h.GetJsonAsync(key, "/v1/results?verdict=anomaly")).GetProperty("items").GetArrayLength());
        Assert.Equal(1, (await h.GetJsonAsync(key, "/v1/results?camera=C2")).GetProperty("items").GetArrayLength());
        JsonElement page = await h.GetJsonAsync(key, "/v1/results?limit=3");
        Assert.Equal(3, page.GetProperty("items").GetArrayLength());
        string cursor = page.GetProperty("next_cursor").GetString()!;
        Assert.Equal(1, (await h.GetJsonAsync(key, $"/v1/results?limit=3&cursor={cursor}")).GetProperty("items").GetArrayLength());

        JsonElement stats = await h.GetJsonAsync(key, "/v1/stats?bucket=day");
        JsonElement[] rows = stats.GetProperty("rows").EnumerateArray().ToArray();
        JsonElement a = Assert.Single(rows, r => r.GetProperty("line").GetString() == "A");
        JsonElement b = Assert.Single(rows, r => r.GetProperty("line").GetString() == "B");
        Assert.Equal(2, a.GetProperty("total").GetInt64());
        Assert.Equal(0.5, a.GetProperty("anomaly_rate").GetDouble());
        Assert.Equal(1, b.GetProperty("invalid").GetInt64());
        Assert.Equal(1.0, b.GetProperty("anomaly_rate").GetDouble());
        Assert.Equal(1, (await h.GetJsonAsync(key, "/v1/stats?line=A")).GetProperty("rows").GetArrayLength());

        using HttpRequestMessage bad = ServiceHarness.Request(HttpMethod.Get, "/v1/results?verdict=maybe", key);
        Assert.Equal(HttpStatusCode.BadRequest, (await h.Client.SendAsync(bad)).StatusCode);
        h.DeleteData();
    }

    [Fact]
    public async Task Metrics_CountProcessedImagesAnomaliesInvalidAndLatency()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync();
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        await h.WaitResultAsync(key, await h.UploadOkAsync(key, TestModel.Defect(20)));
        await h.WaitResultAsync(key, await h.UploadOkAsync(key, TestModel.Broken));
        using HttpRequestMessage request = ServiceHarness.Request(HttpMethod.Get, "/metrics", key);
        using HttpResponseMessage response = await h.Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("defect_images_processed", text);
        Assert.Contains("defect_images_anomalies", text);
        Assert.Contains("defect_images_invalid", text);
        Assert.Contains("defect_queue_depth", text);
        Assert.Contains("defect_inspection_duration_seconds_bucket", text);
        h.DeleteData();
    }
}
