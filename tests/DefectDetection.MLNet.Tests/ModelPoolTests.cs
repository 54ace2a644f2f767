using System.Net.Http.Json;
using DefectDetection.MLNet.Transforms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;

namespace DefectDetection.MLNet.Tests;

public sealed class ModelPoolTests(SyntheticModels synthetic) : IClassFixture<SyntheticModels>
{
    [Fact]
    public async Task AspNetCoreHost_ServesConcurrentRequests_AndReloadsWhenTheFileChanges()
    {
        // Two versions of one model: the variation model at its own threshold (odd images are defects) and at a
        // threshold no image reaches (nothing is a defect).
        using IDefectModel never = synthetic.Variation.WithThreshold(1e6);
        string lenient = SaveModel(never, "lenient.zip");
        string strict = SaveModel(synthetic.Variation, "strict.zip");
        string served = Path.Combine(synthetic.Folder, "served", "model.zip");
        Directory.CreateDirectory(Path.GetDirectoryName(served)!);
        File.Copy(strict, served, overwrite: true);

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddDefectPredictionEnginePool<ImageRequest, Verdict>()
            .FromFile(served)
            .FromFile("lenient", lenient, watchForChanges: false);
        await using WebApplication app = builder.Build();
        app.MapPost("/inspect", (ImageRequest request, DefectPredictionEnginePool<ImageRequest, Verdict> pool) => pool.Predict(request));
        app.MapPost("/inspect/{name}", (string name, ImageRequest request, DefectPredictionEnginePool<ImageRequest, Verdict> pool) => pool.Predict(name, request));
        await app.StartAsync();
        using HttpClient client = app.GetTestClient();

        // Many requests at once (more than one engine in the pool), each answered like the model itself.
        Verdict[] verdicts = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Post(client, "/inspect", synthetic.Images[i % 6])));
        for (int i = 0; i < verdicts.Length; i++)
        {
            Assert.Equal(i % 2 == 1, verdicts[i].PredictedLabel);
        }

        Assert.False((await Post(client, "/inspect/lenient", synthetic.Images[1])).PredictedLabel);

        // Replace the served file (write aside, then move into place) and wait for the reload.
        var pool = app.Services.GetRequiredService<DefectPredictionEnginePool<ImageRequest, Verdict>>();
        TaskCompletionSource<ModelReloadedEventArgs> reloaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        pool.ModelReloaded += (_, e) => reloaded.TrySetResult(e);
        string aside = served + ".new";
        File.Copy(lenient, aside, overwrite: true);
        File.Move(aside, served, overwrite: true);
        ModelReloadedEventArgs done = await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(done.Error);
        Assert.Equal(2, pool.GetModelVersion());
        Assert.False((await Post(client, "/inspect", synthetic.Images[1])).PredictedLabel);

        // A broken file keeps the previous model serving.
        reloaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        File.WriteAllText(aside, "not a model");
        File.Move(aside, served, overwrite: true);
        ModelReloadedEventArgs failed = await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(failed.Error);
        Assert.Equal(2, pool.GetModelVersion());
        Assert.False((await Post(client, "/inspect", synthetic.Images[1])).PredictedLabel);
        Assert.Equal(2, pool.ModelNames.Count);

        await app.StopAsync();
    }

    [Fact]
    public void UnknownModelName_IsNamedWithTheKnownOnes()
    {
        string file = SaveModel(synthetic.Variation, "named.zip");
        ServiceCollection services = new();
        services.AddDefectPredictionEnginePool<ImageRequest, Verdict>().FromFile("parts", file, watchForChanges: false);
        using ServiceProvider provider = services.BuildServiceProvider();
        var pool = provider.GetRequiredService<DefectPredictionEnginePool<ImageRequest, Verdict>>();
        ArgumentException e = Assert.Throws<ArgumentException>(() => pool.Predict("other", new ImageRequest { ImagePath = synthetic.Images[0] }));
        Assert.Contains("'other'", e.Message, StringComparison.Ordinal);
        Assert.Contains("parts", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => services.AddDefectPredictionEnginePool<ImageRequest, Verdict>().FromFile("parts", file));
    }

    private static async Task<Verdict> Post(HttpClient client, string route, string image)
    {
        HttpResponseMessage response = await client.PostAsJsonAsync(route, new ImageRequest { ImagePath = image });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Verdict>())!;
    }

    private string SaveModel(IDefectModel model, string name)
    {
        MLContext ml = new();
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new ImageRequest { ImagePath = synthetic.Images[0] } });
        using DefectModelTransformer transformer = ml.Transforms.ApplyDefectModel(model).Fit(data);
        string file = Path.Combine(synthetic.Folder, name);
        ml.Model.SaveWithDefectDetection(transformer, data.Schema, file);
        return file;
    }

    public sealed class ImageRequest
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class Verdict
    {
        public bool PredictedLabel { get; set; }

        public float Score { get; set; }

        public float Probability { get; set; }
    }
}
