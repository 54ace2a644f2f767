using System.Text;
using System.Text.Json;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Webhooks;

namespace DefectDetection.Service.Tests;

public class WebhookAlarmTests
{
    private const string Secret = "a-secret-of-some-length";

    private static InspectionServiceOptions With(WebhookListener listener, WebhookEvents events, params AlarmRule[] alarms) => new()
    {
        Webhooks = [new WebhookSubscription { Url = listener.Url, Secret = Secret, Events = events }],
        WebhookRetry = new WebhookRetryOptions { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200), Timeout = TimeSpan.FromSeconds(5) },
        Alarms = alarms,
    };

    [Fact]
    public async Task AnomalyWebhook_IsSignedWithHmacSha256OverTimestampAndBody_AndSentOncePerAnomaly()
    {
        using WebhookListener listener = new();
        await using ServiceHarness h = await ServiceHarness.StartAsync(With(listener, WebhookEvents.Anomaly | WebhookEvents.Invalid));
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        string normal = await h.UploadOkAsync(key, TestModel.Normal(1));
        string defect = await h.UploadOkAsync(key, TestModel.Defect(2));
        string broken = await h.UploadOkAsync(key, TestModel.Broken);
        await h.WaitResultAsync(key, normal);

        List<WebhookListener.Delivery> got = await listener.WaitAsync(d => d.Count >= 2);
        await Task.Delay(300);
        got = listener.Received.ToList();
        Assert.Equal(2, got.Count);
        foreach (WebhookListener.Delivery d in got)
        {
            Assert.True(WebhookSignature.Verify(Secret, d.Timestamp!, d.Body, d.Signature!), "signature");
            Assert.False(WebhookSignature.Verify("another-secret-entirely", d.Timestamp!, d.Body, d.Signature!));
            Assert.StartsWith("sha256=", d.Signature);
            Assert.InRange(long.Parse(d.Timestamp!), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        }

        WebhookListener.Delivery anomaly = Assert.Single(got, d => d.Event == "anomaly");
        using JsonDocument body = JsonDocument.Parse(anomaly.Body);
        Assert.Equal(defect, body.RootElement.GetProperty("result").GetProperty("id").GetString());
        Assert.True(body.RootElement.GetProperty("result").GetProperty("prediction").GetProperty("is_defect").GetBoolean());
        WebhookListener.Delivery invalid = Assert.Single(got, d => d.Event == "invalid");
        Assert.Contains(broken, Encoding.UTF8.GetString(invalid.Body));
        h.DeleteData();
    }

    [Fact]
    public async Task FailingReceiver_IsRetriedWithBackoff_ThenTheDeliveryIsInTheDeadLetterList()
    {
        using WebhookListener listener = new() { Status = 500 };
        await using ServiceHarness h = await ServiceHarness.StartAsync(With(listener, WebhookEvents.Anomaly));
        string key = await h.KeyAsync(ApiScopes.Admin);
        await h.WaitResultAsync(key, await h.UploadOkAsync(key, TestModel.Defect(3)));

        List<WebhookListener.Delivery> got = await listener.WaitAsync(d => d.Count >= 3);
        Assert.All(got, d => Assert.Equal(got[0].Id, d.Id));
        JsonElement dead = default;
        for (int i = 0; i < 200; i++)
        {
            dead = await h.GetJsonAsync(key, "/v1/webhooks/dead-letters");
            if (dead.GetProperty("items").GetArrayLength() > 0)
            {
                break;
            }

            await Task.Delay(25);
        }

        JsonElement item = Assert.Single(dead.GetProperty("items").EnumerateArray());
        Assert.Equal(3, item.GetProperty("attempts").GetInt32());
        Assert.Equal("HTTP 500", item.GetProperty("last_error").GetString());
        Assert.Equal("anomaly", item.GetProperty("event").GetString());
        await Task.Delay(300);
        Assert.Equal(3, listener.Received.Count);
        h.DeleteData();
    }

    [Fact]
    public async Task AnomalyRateRule_FiresOnceWhenPassed_AndClearsOnceWhenBelow()
    {
        using WebhookListener listener = new();
        AlarmRule rule = new() { Name = "line-rate", Kind = AlarmKind.AnomalyRate, Scope = AlarmScope.Line, Threshold = 50, LastImages = 4 };
        await using ServiceHarness h = await ServiceHarness.StartAsync(With(listener, WebhookEvents.Alarm, rule));
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);

        // 4 normal (0%), then 3 defects: over the last 4 images 25%, 50% (not above), 75% -> fired; more defects keep it fired.
        foreach (byte[] image in new[] { TestModel.Normal(1), TestModel.Normal(2), TestModel.Normal(3), TestModel.Normal(4), TestModel.Defect(1), TestModel.Defect(2), TestModel.Defect(3), TestModel.Defect(4) })
        {
            await h.WaitResultAsync(key, await h.UploadOkAsync(key, image, line: "L7"));
        }

        List<WebhookListener.Delivery> got = await listener.WaitAsync(d => d.Count >= 1);
        using (JsonDocument fired = JsonDocument.Parse(got[0].Body))
        {
            Assert.Equal("fired", fired.RootElement.GetProperty("state").GetString());
            Assert.Equal("line-rate", fired.RootElement.GetProperty("rule").GetString());
            Assert.Equal("L7", fired.RootElement.GetProperty("value").GetString());
            Assert.Equal(75, fired.RootElement.GetProperty("observed").GetDouble());
        }

        Assert.True(WebhookSignature.Verify(Secret, got[0].Timestamp!, got[0].Body, got[0].Signature!));

        // Normal images bring the rate back down: one "cleared".
        for (int i = 0; i < 4; i++)
        {
            await h.WaitResultAsync(key, await h.UploadOkAsync(key, TestModel.Normal(10 + i), line: "L7"));
        }

        got = await listener.WaitAsync(d => d.Count >= 2);
        await Task.Delay(300);
        got = listener.Received.ToList();
        Assert.Equal(2, got.Count);
        Assert.Equal("cleared", JsonDocument.Parse(got[1].Body).RootElement.GetProperty("state").GetString());
        Assert.All(got, d => Assert.Equal("alarm", d.Event));
        h.DeleteData();
    }

    [Fact]
    public async Task InvalidCountRule_PerCamera_FiresOverAWindow()
    {
        using WebhookListener listener = new();
        AlarmRule rule = new() { Name = "cam-invalid", Kind = AlarmKind.InvalidCount, Scope = AlarmScope.Camera, Threshold = 1, Window = TimeSpan.FromMinutes(5) };
        await using ServiceHarness h = await ServiceHarness.StartAsync(With(listener, WebhookEvents.Alarm, rule));
        string key = await h.KeyAsync(ApiScopes.Ingest | ApiScopes.Read);
        await h.WaitResultAsync(key, await h.UploadOkAsync(key, TestModel.Broken, camera: "CX"));
        await h.WaitResultAsync(key, await h.UploadOkAsync(key, TestModel.Broken, camera: "CY"));
        await Task.Delay(200);
        Assert.Empty(listener.Received);
        await h.WaitResultAsync(key, await h.UploadOkAsync(key, TestModel.Broken, camera: "CX"));
        List<WebhookListener.Delivery> got = await listener.WaitAsync(d => d.Count >= 1);
        using JsonDocument fired = JsonDocument.Parse(got[0].Body);
        Assert.Equal("fired", fired.RootElement.GetProperty("state").GetString());
        Assert.Equal("camera", fired.RootElement.GetProperty("scope").GetString());
        Assert.Equal("CX", fired.RootElement.GetProperty("value").GetString());
        h.DeleteData();
    }
}
