using DefectDetection.Service.Postgres;
using DefectDetection.Service.Queue;
using DefectDetection.Service.RabbitMq;
using DefectDetection.Service.ScaleOut;
using DefectDetection.Service.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace DefectDetection.Service;

/// <summary>Puts the inspection service on PostgreSQL and RabbitMQ (see <see cref="ScaleOutOptions"/>).</summary>
public static class ScaleOutServiceCollectionExtensions
{
    /// <summary>
    /// Replaces the embedded store and queue with PostgreSQL and RabbitMQ; call after
    /// <see cref="InspectionService.AddInspectionService"/> with options whose
    /// <see cref="InspectionServiceOptions.RunWorkers"/> matches the role. API roles also run the sweeper.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="options">The scale-out options (validated here).</param>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public static IServiceCollection AddInspectionScaleOut(this IServiceCollection services, ScaleOutOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton(sp => new PostgresInspectionStore(options.PostgresConnectionString, sp.GetRequiredService<TimeProvider>()));
        services.RemoveAll<IResultStore>().RemoveAll<IWebhookOutbox>().RemoveAll<IApiKeyStore>().RemoveAll<IWorkQueue>();
        services.AddSingleton<IResultStore>(sp => sp.GetRequiredService<PostgresInspectionStore>());
        services.AddSingleton<IWebhookOutbox>(sp => sp.GetRequiredService<PostgresInspectionStore>());
        services.AddSingleton<IApiKeyStore>(sp => sp.GetRequiredService<PostgresInspectionStore>());
        services.AddSingleton(sp => new RabbitMqWorkQueue(options, sp.GetRequiredService<PostgresInspectionStore>(), sp.GetRequiredService<ILogger<RabbitMqWorkQueue>>()));
        services.AddSingleton<IWorkQueue>(sp => sp.GetRequiredService<RabbitMqWorkQueue>());
        if (options.Role != ServiceRole.Worker)
        {
            services.AddHostedService<QueueSweeper>();
        }

        return services;
    }

    /// <summary>Stores a new API key in the PostgreSQL store (creating the tables when missing); returns the key, shown once.</summary>
    /// <param name="connectionString">The PostgreSQL connection string.</param>
    /// <param name="name">A name for the key.</param>
    /// <param name="scopes">The key's scopes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public static async Task<string> CreatePostgresApiKeyAsync(string connectionString, string name, Auth.ApiScopes scopes, CancellationToken cancellationToken = default)
    {
        using PostgresInspectionStore store = new(connectionString, TimeProvider.System);
        await store.InitializeAsync(cancellationToken);
        (string key, ApiKeyRecord record) = Auth.ApiKeys.New(name, scopes);
        await store.AddKeyAsync(record, cancellationToken);
        return key;
    }
}
