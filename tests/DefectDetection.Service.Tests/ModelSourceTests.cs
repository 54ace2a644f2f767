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
    public void Options_AreValidated()
    {
        Assert.Throws<ArgumentException>(() => new InspectionServiceOptions().Validate());
        Assert.Throws<ArgumentException>(() => new InspectionServiceOptions { DataDirectory = "d", QueueCapacity = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new InspectionServiceOptions { DataDirectory = "d", Webhooks = [new WebhookSubscription { Url = "ftp://x", Secret = "0123456789abcdef" }] }.Validate());
        Assert.Throws<ArgumentException>(() => new InspectionServiceOptions { DataDirectory = "d", Alarms = [new AlarmRule { Name = "r", Threshold = 5 }] }.Validate());
        new InspectionServiceOptions { DataDirectory = "d", Alarms = [new AlarmRule { Name = "r", Threshold = 5, LastImages = 10 }] }.Validate();
    }
}
