using DefectDetection.Service.Alarms;
using DefectDetection.Service.Api;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Dashboard;
using DefectDetection.Service.Metrics;
using DefectDetection.Service.Models;
using DefectDetection.Service.Queue;
using DefectDetection.Service.Storage;
using DefectDetection.Service.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using OpenTelemetry.Metrics;

namespace DefectDetection.Service;

/// <summary>
/// The inspection service as a library host: <see cref="AddInspectionService"/> registers it in an app's services,
/// <see cref="MapInspectionService"/> maps its HTTP API (under <c>/v1</c>, with <c>/openapi/v1.json</c>,
/// <c>/metrics</c> and the anonymous <c>/healthz</c>), and <see cref="Create"/> builds a whole app.
/// </summary>
public static class InspectionService
{
    /// <summary>Registers the service: store, queue, workers, webhooks, alarms, API-key authentication, metrics, OpenAPI.</summary>
    /// <param name="services">The app's services.</param>
    /// <param name="options">The service's options (validated here).</param>
    /// <param name="models">The model source; the service disposes it when the app stops.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static IServiceCollection AddInspectionService(this IServiceCollection services, InspectionServiceOptions options, IModelSource models)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(models);
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton(models);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new SqliteInspectionStore(SqliteInspectionStore.PathIn(options.DataDirectory)));
        services.AddSingleton<IResultStore>(sp => sp.GetRequiredService<SqliteInspectionStore>());
        services.AddSingleton<IWebhookOutbox>(sp => sp.GetRequiredService<SqliteInspectionStore>());
        services.AddSingleton<IApiKeyStore>(sp => sp.GetRequiredService<SqliteInspectionStore>());
        services.AddSingleton<IWorkQueue>(_ => new InProcessWorkQueue(options.QueueCapacity));
        services.AddSingleton<ImageIntake>();
        services.AddMetrics();
        services.AddSingleton<ServiceMetrics>();
        services.AddSingleton<AlarmEvaluator>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddSingleton<InspectionWorker>();
        if (options.RunWorkers)
        {
            services.AddHostedService(sp => sp.GetRequiredService<InspectionWorker>());
        }

        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddHttpClient(WebhookDispatcher.HttpClientName);
        // The authentication core only: AddAuthentication would bring in data protection, which writes a key ring to
        // the user's profile that API keys never use.
        services.AddAuthenticationCore(o =>
        {
            o.DefaultScheme = ApiKeyAuthenticationHandler.SchemeName;
            o.AddScheme(ApiKeyAuthenticationHandler.SchemeName, s => s.HandlerType = typeof(ApiKeyAuthenticationHandler));
        });
        services.AddWebEncoders();
        services.AddAuthorization(ScopePolicies.Add);
        services.AddHealthChecks();
        services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "DefectDetection inspection service";
            doc.Info.Description = "Upload product images, read their inspection results and statistics. Every operation needs an API key (Authorization: Bearer <key> or X-Api-Key) with the scope its summary names.";
            doc.Components ??= new OpenApiComponents();
            doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            doc.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key from `defect serve key create` (also accepted in the X-Api-Key header).",
            };
            doc.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", doc)] = [] }];
            return Task.CompletedTask;
        }));
        DashboardEndpoints.Register(services, options, models);
        services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(ServiceMetrics.MeterName).AddPrometheusExporter());
        return services;
    }

    /// <summary>Adds authentication and maps the API: <c>/v1/...</c>, <c>/openapi/v1.json</c> and <c>/metrics</c> (scope read), <c>/healthz</c> (anonymous).</summary>
    /// <param name="app">The app, after <see cref="AddInspectionService"/>.</param>
    public static WebApplication MapInspectionService(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAuthentication();
        app.UseAuthorization();
        RouteGroupBuilder v1 = app.MapGroup("/v1");
        ImageEndpoints.Map(v1);
        ResultEndpoints.Map(v1);
        WebhookEndpoints.Map(v1);
        app.MapOpenApi().RequireAuthorization(ScopePolicies.Read);
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(ScopePolicies.Read);
        app.MapHealthChecks("/healthz").AllowAnonymous();
        DashboardEndpoints.Map(app);
        app.Lifetime.ApplicationStopped.Register(() => app.Services.GetRequiredService<IModelSource>().Dispose());
        return app;
    }

    /// <summary>Builds an app serving the inspection service (run it with <c>RunAsync</c>).</summary>
    /// <param name="options">The service's options.</param>
    /// <param name="models">The model source; the app disposes it when it stops.</param>
    /// <param name="args">Host arguments (<c>--urls</c> ...).</param>
    /// <param name="configure">Changes to the builder before the app is built (logging, a test server).</param>
    public static WebApplication Create(InspectionServiceOptions options, IModelSource models, string[]? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes + (64 * 1024));
        builder.Services.AddInspectionService(options, models);
        configure?.Invoke(builder);
        WebApplication app = builder.Build();
        app.MapInspectionService();
        return app;
    }

}
