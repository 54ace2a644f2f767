using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Models;
using DefectDetection.Testing;
using DefectDetection.Vision;
using DefectDetection.Vision.Variation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;

namespace DefectDetection.Service.Tests;

/// <summary>A tiny variation model trained once on generated patterns, and images for it (normal, defect, broken).</summary>
internal static class TestModel
{
    private static readonly Lazy<byte[]> Bytes = new(() =>
    {
        List<Image> normals = Enumerable.Range(0, 8).Select(i => SyntheticImages.Pattern(10 + i, (i % 3) - 1, (i % 2) * 2)).ToList();
        using VariationModel model = new VariationModelTrainer(new VariationModelOptions { MaxShift = 4 }).Fit(normals.Select(x => x.View()).ToList());
        normals.ForEach(x => x.Dispose());
        using MemoryStream stream = new();
        model.Save(stream);
        return stream.ToArray();
    });

    public static IDefectModel Load()
    {
        using MemoryStream stream = new(Bytes.Value);
        return DefectModel.Load(stream);
    }

    public static byte[] Normal(int seed)
    {
        using Image image = SyntheticImages.Pattern(1000 + seed, seed % 3 - 1, 0);
        return SyntheticImages.Jpeg(image);
    }

    public static byte[] Defect(int seed)
    {
        using Image image = SyntheticImages.Pattern(2000 + seed, 0, 1, img => SyntheticImages.Square(img, 30, 30, 12, 255));
        return SyntheticImages.Jpeg(image);
    }

    public static byte[] Broken => [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 1, 2, 3, 4, 5];
}

/// <summary>A model that waits at a gate before each prediction (to hold work in the queue), counting predictions.</summary>
internal sealed class GatedModel(IDefectModel inner) : IDefectModel
{
    private readonly ManualResetEventSlim _gate = new(true);
    private int _predictions;

    public int Predictions => Volatile.Read(ref _predictions);

    public bool Disposed { get; private set; }

    public void Close() => _gate.Reset();

    public void Open() => _gate.Set();

    public string Learner => inner.Learner;

    public DefectTask Task => inner.Task;

    public IReadOnlyList<string> Labels => inner.Labels;

    public IReadOnlyList<string> NormalLabels => inner.NormalLabels;

    public double? Threshold => inner.Threshold;

    public DefectPrediction Predict(ImageView image, CancellationToken cancellationToken = default)
    {
        _gate.Wait(cancellationToken);
        Interlocked.Increment(ref _predictions);
        return inner.Predict(image, cancellationToken);
    }

    public IReadOnlyList<DefectPrediction> Predict(IReadOnlyList<ImageView> images, CancellationToken cancellationToken = default) =>
        images.Select(i => Predict(i, cancellationToken)).ToList();

    public IDefectModel WithThreshold(double threshold) => inner.WithThreshold(threshold);

    public ICropClassifier AsCropClassifier() => inner.AsCropClassifier();

    public void Save(string path, DefectModelSaveOptions? options = null) => inner.Save(path, options);

    public void Save(Stream stream, DefectModelSaveOptions? options = null) => inner.Save(stream, options);

    public void Dispose()
    {
        Disposed = true;
        inner.Dispose();
    }
}

/// <summary>Log lines of a host, kept for assertions (no key may appear in them).</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
    }
}

/// <summary>A service on a test server over a temporary data folder, with keys of each scope.</summary>
internal sealed class ServiceHarness : IAsyncDisposable
{
    private ServiceHarness(WebApplication app, string data, GatedModel model, SwitchableModelSource source)
    {
        Source = source;
        App = app;
        Data = data;
        Model = model;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public SwitchableModelSource Source { get; }

    public string Data { get; }

    public GatedModel Model { get; }

    public HttpClient Client { get; }

    public static async Task<ServiceHarness> StartAsync(InspectionServiceOptions? options = null, bool closed = false, string? data = null)
    {
        data ??= Path.Combine(Path.GetTempPath(), "defect-service-" + Guid.NewGuid().ToString("N"));
        options ??= new InspectionServiceOptions();
        InspectionServiceOptions withData = new()
        {
            DataDirectory = data,
            QueueCapacity = options.QueueCapacity,
            MaxBodyBytes = options.MaxBodyBytes,
            MaxImagePixels = options.MaxImagePixels,
            WorkerCount = options.WorkerCount,
            MaxAttempts = options.MaxAttempts,
            Webhooks = options.Webhooks,
            WebhookRetry = options.WebhookRetry,
            Alarms = options.Alarms,
        };
        GatedModel model = new(TestModel.Load());
        if (closed)
        {
            model.Close();
        }

        CapturedLogs logs = new();
        SwitchableModelSource source = new(model, "test-model@1");
        WebApplication app = InspectionService.Create(withData, source, configure: b =>
        {
            b.WebHost.UseTestServer();
            b.Logging.ClearProviders();
            b.Logging.SetMinimumLevel(LogLevel.Trace);
            b.Logging.AddProvider(logs);
        });
        await app.StartAsync();
        ServiceHarness h = new(app, data, model, source);
        h.LogsFrom(logs);
        return h;
    }

    private void LogsFrom(CapturedLogs logs) => _logs = logs;

    private CapturedLogs? _logs;

    public IEnumerable<string> LogLines => _logs?.Lines ?? [];

    public async Task<string> KeyAsync(ApiScopes scopes) => await ApiKeys.CreateAsync(Data, scopes.ToString(), scopes);

    public static HttpRequestMessage Request(HttpMethod method, string path, string? key)
    {
        HttpRequestMessage request = new(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }

    public static MultipartFormDataContent Form(byte[] image, string? line = "L1", string? camera = "C1", string? key = null, string? capturedAt = null)
    {
        MultipartFormDataContent form = new();
        ByteArrayContent file = new(image);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "file", "part.jpg");
        if (line is not null)
        {
            form.Add(new StringContent(line), "line");
        }

        if (camera is not null)
        {
            form.Add(new StringContent(camera), "camera");
        }

        if (key is not null)
        {
            form.Add(new StringContent(key), "idempotencyKey");
        }

        if (capturedAt is not null)
        {
            form.Add(new StringContent(capturedAt), "capturedAt");
        }

        form.Add(new StringContent("P-1"), "partId");
        form.Add(new StringContent("plant-7"), "facility");
        return form;
    }

    public async Task<HttpResponseMessage> UploadAsync(string key, byte[] image, string? line = "L1", string? camera = "C1", string? idempotencyKey = null)
    {
        using HttpRequestMessage request = Request(HttpMethod.Post, "/v1/images", key);
        request.Content = Form(image, line, camera, idempotencyKey);
        return await Client.SendAsync(request);
    }

    public async Task<string> UploadOkAsync(string key, byte[] image, string? line = "L1", string? camera = "C1", string? idempotencyKey = null)
    {
        using HttpResponseMessage response = await UploadAsync(key, image, line, camera, idempotencyKey);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using JsonDocument doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> GetJsonAsync(string key, string path)
    {
        using HttpRequestMessage request = Request(HttpMethod.Get, path, key);
        using HttpResponseMessage response = await Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Waits until the result is no longer queued; returns it.</summary>
    public async Task<JsonElement> WaitResultAsync(string key, string id, int timeoutMs = 30_000)
    {
        DateTime end = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            JsonElement r = await GetJsonAsync(key, $"/v1/results/{id}");
            if (r.GetProperty("status").GetString() != "queued")
            {
                return r;
            }

            Assert.True(DateTime.UtcNow < end, $"result {id} still queued after {timeoutMs} ms");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Model.Open();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public void DeleteData()
    {
        try
        {
            Directory.Delete(Data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
