using DefectDetection.Service.Models;

namespace DefectDetection.Service.Tests;

public class ModelSourceTests
{
    [Fact]
    public void Switch_KeepsTheOldModelForWorkInProgress_AndDisposesItAfterItsLastLease()
    {
        GatedModel first = new(TestModel.Load());
        GatedModel second = new(TestModel.Load());
        using SwitchableModelSource source = new(first, "v1");
        ModelLease held = source.Acquire();
        source.Switch(second, "v2");
        Assert.False(first.Disposed);
        Assert.Equal("v1", held.Version);
        using (ModelLease now = source.Acquire())
        {
            Assert.Equal("v2", now.Version);
            Assert.Same(second, now.Model);
        }

        held.Dispose();
        Assert.True(first.Disposed);
        Assert.False(second.Disposed);
    }

    [Fact]
    public async Task SwitchingTheModelWhileImagesWait_DropsNothing_AndEachResultNamesTheVersionThatJudgedIt()
    {
        await using ServiceHarness h = await ServiceHarness.StartAsync(closed: true);
        string key = await h.KeyAsync(Auth.ApiScopes.Ingest | Auth.ApiScopes.Read);
        List<string> ids = [];
        for (int i = 0; i < 4; i++)
        {
            ids.Add(await h.UploadOkAsync(key, TestModel.Normal(40 + i)));
        }

        // The first image is held by the worker on model 1 (at its gate); the switch lets the rest go to model 2.
        await Task.Delay(200);
        GatedModel second = new(TestModel.Load());
        h.Source.Switch(second, "test-model@2");
        Assert.False(h.Model.Disposed);
        h.Model.Open();
        List<string> versions = [];
        foreach (string id in ids)
        {
            System.Text.Json.JsonElement r = await h.WaitResultAsync(key, id);
            Assert.Equal("done", r.GetProperty("status").GetString());
            versions.Add(r.GetProperty("model_version").GetString()!);
        }

        Assert.Equal(["test-model@1", "test-model@2", "test-model@2", "test-model@2"], versions);
        Assert.Equal(1, h.Model.Predictions);
        Assert.Equal(3, second.Predictions);
        Assert.True(h.Model.Disposed); // released after its last image
        h.DeleteData();
    }

    [Fact]
    public void Options_AreValidated()
    {
        Assert.Throws<ArgumentException>(() => new InspectionServiceOptions().Validate());
        Assert.Throws<ArgumentException>(() => new InspectionServiceOptions { DataDirectory = "d", QueueCapacity = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new InspectionServiceOptions { DataDirectory = "d", Webhooks = [new WebhookSubscription { Url = "ftp://x", Secret = "0123456789abcdef" }] }.Validate());
        Assert.Throws<ArgumentException>(() => new InspectionServiceOptions { DataDirectory = "d", Alarms = [new AlarmRule { Name = "r", Threshold = 5 }] }.Validate());
        new InspectionServiceOptions { DataDirectory = "d", Alarms = [new AlarmRule { Name = "r", Threshold = 5, LastImages = 10 }] }.Validate();
    }
}
