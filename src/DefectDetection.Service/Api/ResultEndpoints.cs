using System.Globalization;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DefectDetection.Service.Api;

/// <summary><c>GET /v1/results/{id}</c>, <c>GET /v1/results</c> and <c>GET /v1/stats</c>.</summary>
internal static class ResultEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/results/{id}", GetAsync)
            .RequireAuthorization(ScopePolicies.Read)
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetResult")
            .WithSummary("One result: status, verdict, metadata, model version and the library's prediction JSON (scope read)");
        v1.MapGet("/results", ListAsync)
            .RequireAuthorization(ScopePolicies.Read)
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("ListResults")
            .WithSummary("Results, newest first, filtered by line, camera, verdict (normal, anomaly, invalid, pending) and time (scope read)")
            .WithDescription("Query: line, camera, verdict, from, to (ISO 8601; the capture time, else the upload time), limit (1-500, default 50), cursor (next_cursor of the previous page).");
        v1.MapGet("/stats", StatsAsync)
            .RequireAuthorization(ScopePolicies.Read)
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("GetStats")
            .WithSummary("Counts and rates per line and time bucket (scope read)")
            .WithDescription("Query: line, bucket (hour or day, UTC), from, to.");
    }

    private static async Task<IResult> GetAsync(string id, IResultStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(id, cancellationToken) is { } record
            ? Results.Text(ServiceJson.Result(record), "application/json")
            : Results.Problem($"No result has the id '{id}'.", statusCode: StatusCodes.Status404NotFound);

    private static async Task<IResult> ListAsync(HttpRequest request, IResultStore store, CancellationToken cancellationToken)
    {
        ResultQuery query;
        try
        {
            string? verdict = Query(request, "verdict");
            query = new ResultQuery
            {
                Line = Query(request, "line"),
                Camera = Query(request, "camera"),
                Verdict = verdict switch
                {
                    null => null,
                    "pending" => VerdictFilter.Pending,
                    "normal" => VerdictFilter.Normal,
                    "anomaly" => VerdictFilter.Anomaly,
                    "invalid" => VerdictFilter.Invalid,
                    _ => throw new ArgumentException($"verdict: '{verdict}' is not normal, anomaly, invalid or pending."),
                },
                From = Time(request, "from"),
                To = Time(request, "to"),
                Limit = Query(request, "limit") is { } l ? int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 500 ? n : throw new ArgumentException("limit: give 1 to 500.") : 50,
                BeforeSequence = Query(request, "cursor") is { } c ? long.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out long s) ? s : throw new ArgumentException("cursor: give next_cursor of the previous page.") : null,
            };
        }
        catch (ArgumentException ex)
        {
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }

        IReadOnlyList<InspectionRecord> rows = await store.QueryAsync(query, cancellationToken);
        string json = ServiceJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (InspectionRecord r in rows)
            {
                ServiceJson.WriteResult(w, r);
            }

            w.WriteEndArray();
            ServiceJson.Optional(w, "next_cursor", rows.Count == query.Limit ? ServiceJson.Cursor(rows[^1].Sequence) : null);
            w.WriteEndObject();
        });
        return Results.Text(json, "application/json");
    }

    private static async Task<IResult> StatsAsync(HttpRequest request, IResultStore store, CancellationToken cancellationToken)
    {
        StatsQuery query;
        try
        {
            query = new StatsQuery
            {
                Line = Query(request, "line"),
                Bucket = Query(request, "bucket") switch
                {
                    null or "hour" => StatsBucket.Hour,
                    "day" => StatsBucket.Day,
                    string b => throw new ArgumentException($"bucket: '{b}' is not hour or day."),
                },
                From = Time(request, "from"),
                To = Time(request, "to"),
            };
        }
        catch (ArgumentException ex)
        {
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }

        IReadOnlyList<StatsRow> rows = await store.StatsAsync(query, cancellationToken);
        string json = ServiceJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("bucket", query.Bucket == StatsBucket.Hour ? "hour" : "day");
            w.WriteStartArray("rows");
            foreach (StatsRow r in rows)
            {
                w.WriteStartObject();
                ServiceJson.Optional(w, "line", r.Line);
                w.WriteString("bucket_start", r.BucketStart.UtcDateTime);
                w.WriteNumber("total", r.Total);
                w.WriteNumber("anomalies", r.Anomalies);
                w.WriteNumber("invalid", r.Invalid);
                long judged = r.Total - r.Invalid;
                w.WriteNumber("anomaly_rate", judged == 0 ? 0 : (double)r.Anomalies / judged);
                w.WriteNumber("invalid_rate", r.Total == 0 ? 0 : (double)r.Invalid / r.Total);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        return Results.Text(json, "application/json");
    }

    private static string? Query(HttpRequest request, string name) => request.Query[name].ToString() is { Length: > 0 } v ? v : null;

    private static DateTimeOffset? Time(HttpRequest request, string name) => Query(request, name) is { } t ? ImageEndpoints.ParseTime(name, t) : null;
}
