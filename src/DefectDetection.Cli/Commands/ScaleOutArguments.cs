using System.CommandLine;
using DefectDetection.Service;

namespace DefectDetection.Cli.Commands;

/// <summary>The scale-out options of <c>defect serve</c>: <c>--role</c>, <c>--postgres</c>, <c>--rabbitmq</c> (docs/service-scale-out.md).</summary>
internal sealed class ScaleOutArguments
{
    public Option<string> Role { get; } = new("--role") { Description = "api, worker or both (default both); api and worker need --postgres and --rabbitmq." };

    public Option<string> Postgres { get; } = new("--postgres") { Description = "PostgreSQL connection string for the results (or env DEFECT_POSTGRES); with --rabbitmq, the scaled-out deployment." };

    public Option<string> RabbitMq { get; } = new("--rabbitmq") { Description = "RabbitMQ URI amqp://user:password@host/vhost for the queue (or env DEFECT_RABBITMQ)." };

    public Option<string> Queue { get; } = new("--queue") { Description = "The RabbitMQ queue's name (default defect.inspections)." };

    /// <summary>The scale-out options, or null for the embedded service.</summary>
    public ScaleOutOptions? ToOptions(ParseResult parse, Option<int?> capacity)
    {
        string? postgres = parse.GetValue(Postgres) ?? Environment.GetEnvironmentVariable("DEFECT_POSTGRES");
        string? rabbit = parse.GetValue(RabbitMq) ?? Environment.GetEnvironmentVariable("DEFECT_RABBITMQ");
        ServiceRole role = parse.GetValue(Role) switch
        {
            null or "both" => ServiceRole.Both,
            "api" => ServiceRole.Api,
            "worker" => ServiceRole.Worker,
            string other => throw new ArgumentException($"--role: '{other}' is not api, worker or both."),
        };
        if (string.IsNullOrEmpty(postgres) && string.IsNullOrEmpty(rabbit))
        {
            return role == ServiceRole.Both ? null : throw new ArgumentException("--role api or worker needs --postgres and --rabbitmq (the shared store and queue).");
        }

        ScaleOutOptions defaults = new();
        ScaleOutOptions options = new()
        {
            PostgresConnectionString = postgres ?? throw new ArgumentException("--postgres: give the PostgreSQL connection string too."),
            RabbitMqUri = rabbit ?? throw new ArgumentException("--rabbitmq: give the RabbitMQ URI too."),
            Role = role,
            QueueCapacity = parse.GetValue(capacity) ?? defaults.QueueCapacity,
            QueueName = parse.GetValue(Queue) ?? defaults.QueueName,
        };
        options.Validate();
        return options;
    }

    /// <summary>The service options with the workers on or off for a role.</summary>
    public static InspectionServiceOptions WithRole(InspectionServiceOptions o, ServiceRole role) => new()
    {
        DataDirectory = o.DataDirectory,
        QueueCapacity = o.QueueCapacity,
        MaxBodyBytes = o.MaxBodyBytes,
        MaxImagePixels = o.MaxImagePixels,
        WorkerCount = o.WorkerCount,
        MaxAttempts = o.MaxAttempts,
        RetryAfterSeconds = o.RetryAfterSeconds,
        Webhooks = o.Webhooks,
        WebhookRetry = o.WebhookRetry,
        Alarms = o.Alarms,
        RunWorkers = role != ServiceRole.Api,
    };
}
