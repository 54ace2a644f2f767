using System.Net.Sockets;
using DefectDetection.Testing;
using Npgsql;

namespace DefectDetection.Service.Tests.ScaleOut;

/// <summary>
/// The PostgreSQL server and RabbitMQ broker of the scale-out tests: from DEFECT_TEST_POSTGRES (an Npgsql connection
/// string) and DEFECT_TEST_RABBITMQ (an amqp URI), which .ci/run exports, else a local default. Tests that need them are
/// skipped when they are not reachable, and fail instead when DEFECT_REQUIRE_SHARED=1.
/// </summary>
internal static class SharedInfrastructure
{
    private static readonly Lazy<string?> Unreachable = new(Probe);

    public static string Postgres => Environment.GetEnvironmentVariable("DEFECT_TEST_POSTGRES") is { Length: > 0 } s
        ? s : "Host=127.0.0.1;Port=5432;Username=defect;Password=defect;Database=defect_test";

    public static string RabbitMq => Environment.GetEnvironmentVariable("DEFECT_TEST_RABBITMQ") is { Length: > 0 } s
        ? s : "amqp://defect:defect@127.0.0.1:5672/";

    /// <summary>A skip reason, or null when both are reachable or they are required.</summary>
    public static string? SkipReason()
    {
        string? why = Unreachable.Value;
        return why is not null && !SharedData.Required
            ? $"needs PostgreSQL and RabbitMQ ({why}); set DEFECT_TEST_POSTGRES / DEFECT_TEST_RABBITMQ, or DEFECT_REQUIRE_SHARED=1 to make this a failure"
            : null;
    }

    /// <summary>Fails with the reason when the servers are not reachable (the tests run unskipped when required).</summary>
    public static void RequireReachable() => Assert.True(Unreachable.Value is null, $"DEFECT_REQUIRE_SHARED=1 but {Unreachable.Value}");

    /// <summary>A connection string whose tables live in a new schema of their own (dropped by <see cref="DropSchemaAsync"/>).</summary>
    public static async Task<string> NewSchemaAsync(string schema)
    {
        await using NpgsqlDataSource source = NpgsqlDataSource.Create(Postgres);
        await using NpgsqlCommand cmd = source.CreateCommand($"CREATE SCHEMA {schema}");
        await cmd.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(Postgres) { SearchPath = schema }.ConnectionString;
    }

    public static async Task DropSchemaAsync(string schema)
    {
        await using NpgsqlDataSource source = NpgsqlDataSource.Create(Postgres);
        await using NpgsqlCommand cmd = source.CreateCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        await cmd.ExecuteNonQueryAsync();
    }

    private static string? Probe()
    {
        try
        {
            NpgsqlConnectionStringBuilder pg = new(Postgres);
            Uri amqp = new(RabbitMq);
            if (!Reachable(pg.Host ?? "127.0.0.1", pg.Port))
            {
                return $"PostgreSQL at {pg.Host}:{pg.Port} is not reachable";
            }

            if (!Reachable(amqp.Host, amqp.Port > 0 ? amqp.Port : 5672))
            {
                return $"RabbitMQ at {amqp.Host}:{amqp.Port} is not reachable";
            }

            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or UriFormatException)
        {
            return ex.Message;
        }
    }

    private static bool Reachable(string host, int port)
    {
        try
        {
            using TcpClient client = new();
            return client.ConnectAsync(host, port).Wait(TimeSpan.FromSeconds(2)) && client.Connected;
        }
        catch (Exception ex) when (ex is SocketException or AggregateException)
        {
            return false;
        }
    }
}

/// <summary>A fact that needs PostgreSQL and RabbitMQ; see <see cref="SharedInfrastructure"/>.</summary>
public sealed class ScaleOutFactAttribute : FactAttribute
{
    /// <summary>Sets the skip reason when the servers are not reachable and not required.</summary>
    public ScaleOutFactAttribute() => Skip = SharedInfrastructure.SkipReason();
}
