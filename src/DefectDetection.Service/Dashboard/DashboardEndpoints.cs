using System.Globalization;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Models;
using DefectDetection.Projects;
using DefectDetection.Service.Api;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Models;
using DefectDetection.Service.Storage;
using DefectDetection.Vision.Anomaly;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DefectDetection.Service.Dashboard;

/// <summary>
/// The dashboard: three embedded files (<c>index.html</c>, <c>app.js</c>, <c>app.css</c>) under <c>/dashboard/</c>
/// and the JSON they read under <c>/dashboard/api/</c>, authenticated by a session cookie exchanged for an API key.
/// Every call checks the session's scope server-side; every POST also checks the session's CSRF token.
/// </summary>
internal static partial class DashboardEndpoints
{
    private const string SessionItem = "dashboard.session";
    private const string CsrfHeader = "X-CSRF-Token";

    public static void Register(IServiceCollection services, InspectionServiceOptions options, IModelSource models)
    {
        services.AddSingleton<DashboardSessions>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<DashboardProject>();

        // With a project, images verified for training join its dataset; an app may register its own sink first.
        services.TryAddSingleton<IVerificationSink>(_ => models is ProjectModelSource project
            ? new ProjectVerificationSink(project.Folder, options.DataDirectory)
            : new SqliteVerificationSink(SqliteVerificationSink.PathIn(options.DataDirectory)));
    }

    public static void Map(WebApplication app)
    {
        app.MapGet("/dashboard/", () => Asset("index.html", "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/dashboard/app.js", () => Asset("app.js", "text/javascript; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/dashboard/app.css", () => Asset("app.css", "text/css; charset=utf-8")).ExcludeFromDescription();

        RouteGroupBuilder api = app.MapGroup("/dashboard/api").ExcludeFromDescription();
        api.MapPost("/session", SignInAsync);
        api.MapGet("/session", (HttpContext c, DashboardProject project) => SessionJson(Session(c), project)).AddEndpointFilter(Require(ApiScopes.Read));
        api.MapPost("/signout", SignOut).AddEndpointFilter(Require(ApiScopes.Read));
        api.MapGet("/overview", OverviewAsync).AddEndpointFilter(Require(ApiScopes.Read));
        api.MapGet("/results", ListAsync).AddEndpointFilter(Require(ApiScopes.Read));
        api.MapGet("/results/{id}", GetAsync).AddEndpointFilter(Require(ApiScopes.Read));
        api.MapGet("/results/{id}/image", ImageAsync).AddEndpointFilter(Require(ApiScopes.Read));
        api.MapGet("/results/{id}/overlay.png", OverlayAsync).AddEndpointFilter(Require(ApiScopes.Read));
        api.MapPost("/results/{id}/verification", VerifyAsync).AddEndpointFilter(Require(ApiScopes.Read));
        api.MapGet("/models", Models).AddEndpointFilter(Require(ApiScopes.Read));
        api.MapPost("/models/activate", ActivateAsync).AddEndpointFilter(Require(ApiScopes.Admin));
        MapProject(api);
    }

    /// <summary>Refuses a request without a session (401), without the scope (403) or, for a POST, without the session's CSRF token (403).</summary>
    private static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> Require(ApiScopes scope) => async (ctx, next) =>
    {
        HttpContext http = ctx.HttpContext;
        DashboardSession? session = http.RequestServices.GetRequiredService<DashboardSessions>().Find(http.Request.Cookies[DashboardSessions.CookieName]);
        if (session is null)
        {
            return Results.Problem("Sign in first.", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (HttpMethods.IsPost(http.Request.Method)
            && !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(http.Request.Headers[CsrfHeader].ToString()), System.Text.Encoding.UTF8.GetBytes(session.CsrfToken)))
        {
            return Results.Problem("The request lacks the session's CSRF token.", statusCode: StatusCodes.Status403Forbidden);
        }

        if (!session.Allows(scope))
        {
            return Results.Problem($"This needs the {scope.ToString().ToLowerInvariant()} scope.", statusCode: StatusCodes.Status403Forbidden);
        }

        http.Items[SessionItem] = session;
        return await next(ctx);
    };

    private static DashboardSession Session(HttpContext c) => (DashboardSession)c.Items[SessionItem]!;

    private static IResult Asset(string name, string contentType)
    {
        Stream? stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("dashboard/" + name);
        return stream is null ? Results.NotFound() : new AssetResult(stream, contentType);
    }

    private static async Task<IResult> SignInAsync(HttpContext http, IApiKeyStore keys, DashboardSessions sessions, DashboardProject project)
    {
        if (!http.Request.HasJsonContentType())
        {
            return Results.Problem("Send the key as JSON.", statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        string? key;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            key = body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("key", out JsonElement k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
        }
        catch (JsonException)
        {
            return Results.Problem("Send {\"key\": \"...\"}.", statusCode: StatusCodes.Status400BadRequest);
        }

        string? id = key is null ? null : ApiKeys.IdOf(key.Trim());
        ApiKeyRecord? record = id is null ? null : await keys.FindKeyAsync(id, http.RequestAborted);
        if (record is null || !ApiKeys.Matches(key!.Trim(), record))
        {
            return Results.Problem("That key is not known.", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (!ApiKeys.Allows(record.Scopes, ApiScopes.Read))
        {
            return Results.Problem("The dashboard needs a key with the read or admin scope.", statusCode: StatusCodes.Status403Forbidden);
        }

        (string sessionId, DashboardSession session) = sessions.Create(record.Name, record.Scopes);
        http.Response.Cookies.Append(DashboardSessions.CookieName, sessionId, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            Path = "/dashboard",
            MaxAge = DashboardSessions.Lifetime,
        });
        return SessionJson(session, project);
    }

    private static IResult SignOut(HttpContext http, DashboardSessions sessions)
    {
        sessions.Remove(http.Request.Cookies[DashboardSessions.CookieName]);
        http.Response.Cookies.Delete(DashboardSessions.CookieName, new CookieOptions { Path = "/dashboard" });
        return Results.NoContent();
    }

    private static IResult SessionJson(DashboardSession s, DashboardProject project) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("name", s.Name);
        w.WriteBoolean("read", s.Allows(ApiScopes.Read));
        w.WriteBoolean("admin", s.Allows(ApiScopes.Admin));
        w.WriteString("csrf", s.CsrfToken);
        w.WriteBoolean("project", project.Exists);
        w.WriteEndObject();
    });

    private static async Task<IResult> OverviewAsync(HttpRequest request, IResultStore store, InspectionServiceOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        int hours = int.TryParse(request.Query["hours"], NumberStyles.None, CultureInfo.InvariantCulture, out int h) && h is >= 1 and <= 24 * 90 ? h : 24;
        DashboardOverview overview = await DashboardOverview.ComputeAsync(store, options.Alarms, clock.GetUtcNow().AddHours(-hours), cancellationToken);
        return Json(w => overview.Write(w, hours));
    }

    private static async Task<IResult> ListAsync(HttpRequest request, IResultStore store, CancellationToken cancellationToken)
    {
        string? Q(string name) => request.Query[name].ToString() is { Length: > 0 } v ? v : null;
        ResultQuery query;
        try
        {
            query = new ResultQuery
            {
                Line = Q("line"),
                Camera = Q("camera"),
                Verdict = Q("verdict") switch
                {
                    null => null,
                    "pending" => VerdictFilter.Pending,
                    "normal" => VerdictFilter.Normal,
                    "anomaly" => VerdictFilter.Anomaly,
                    "invalid" => VerdictFilter.Invalid,
                    string v => throw new ArgumentException($"verdict: '{v}' is not normal, anomaly, invalid or pending."),
                },
                From = Q("from") is { } f ? ImageEndpoints.ParseTime("from", f) : null,
                To = Q("to") is { } t ? ImageEndpoints.ParseTime("to", t) : null,
                Limit = 100,
                BeforeSequence = long.TryParse(Q("cursor"), NumberStyles.None, CultureInfo.InvariantCulture, out long c) ? c : null,
            };
        }
        catch (ArgumentException ex)
        {
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }

        // The store has no model filter: the page is filtered here, so a filtered page may hold fewer than 100 rows.
        string? model = Q("model");
        IReadOnlyList<InspectionRecord> rows = await store.QueryAsync(query, cancellationToken);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (InspectionRecord r in rows.Where(r => model is null || r.Outcome?.ModelVersion == model))
            {
                ServiceJson.WriteResult(w, r);
            }

            w.WriteEndArray();
            ServiceJson.Optional(w, "next_cursor", rows.Count == query.Limit ? ServiceJson.Cursor(rows[^1].Sequence) : null);
            w.WriteEndObject();
        });
    }

    private static async Task<IResult> GetAsync(string id, IResultStore store, IVerificationSink verifications, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } record)
        {
            return Results.Problem($"No result has the id '{id}'.", statusCode: StatusCodes.Status404NotFound);
        }

        Verification? v = await verifications.FindAsync(id, cancellationToken);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("result");
            ServiceJson.WriteResult(w, record);
            if (v is not null)
            {
                w.WriteStartObject("verification");
                w.WriteBoolean("correct", v.Correct);
                w.WriteString("true_label", v.TrueLabel);
                w.WriteBoolean("add_to_training_set", v.AddToTrainingSet);
                w.WriteString("verified_by", v.VerifiedBy);
                w.WriteString("verified_at", v.VerifiedAt.UtcDateTime);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        });
    }

    private static async Task<IResult> ImageAsync(string id, IResultStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(id, cancellationToken) is { } r && File.Exists(r.ImagePath) ? ImageFile(r.ImagePath) : Results.NotFound();

    /// <summary>
    /// The image judged again by the model served now, with its anomaly map, mask contours and boxes drawn by
    /// <see cref="AnomalyVisualizer"/>; 409 when another version judged the image, whose map the one served now would
    /// not reproduce.
    /// </summary>
    private static async Task<IResult> OverlayAsync(string id, IResultStore store, IModelSource models, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } r || !File.Exists(r.ImagePath))
        {
            return Results.NotFound();
        }

        using ModelLease lease = models.Acquire();
        if (r.Outcome?.ModelVersion is { } judged && judged != lease.Version)
        {
            return Results.Problem($"Image {id} was judged by {judged}; the service now serves {lease.Version}, whose anomaly map would not be the one judged.", statusCode: StatusCodes.Status409Conflict);
        }

        byte[] png = await Task.Run(() =>
        {
            using Image image = ImageCodecs.Load(r.ImagePath);
            DefectPrediction prediction = lease.Model.Predict(image.View(), cancellationToken);
            using Image overlay = AnomalyVisualizer.Overlay(image.View(), prediction);
            using MemoryStream stream = new();
            new DefectDetection.Imaging.Formats.Png.PngEncoder().Encode(overlay.View(), stream);
            return stream.ToArray();
        }, cancellationToken);
        return Results.File(png, "image/png");
    }

    private static async Task<IResult> VerifyAsync(string id, HttpContext http, IResultStore store, IVerificationSink sink, TimeProvider clock)
    {
        if (await store.GetAsync(id, http.RequestAborted) is not { } r || r.Status != InspectionStatus.Done)
        {
            return Results.Problem($"No judged result has the id '{id}'.", statusCode: StatusCodes.Status404NotFound);
        }

        bool correct;
        string? label;
        bool add;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            correct = body.RootElement.GetProperty("correct").GetBoolean();
            label = body.RootElement.TryGetProperty("true_label", out JsonElement l) ? l.GetString()?.Trim() : null;
            add = body.RootElement.TryGetProperty("add_to_training_set", out JsonElement a) && a.GetBoolean();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Results.Problem("Send {\"correct\": true|false, \"true_label\": \"...\", \"add_to_training_set\": bool}.", statusCode: StatusCodes.Status400BadRequest);
        }

        string modelSaid = r.Outcome?.IsDefect == true ? "anomaly" : "normal";
        label = correct ? (label is { Length: > 0 } ? label : modelSaid) : label;
        if (label is not { Length: > 0 and <= 100 })
        {
            return Results.Problem("A wrong verdict needs the true label (1-100 characters).", statusCode: StatusCodes.Status400BadRequest);
        }

        await sink.RecordAsync(new Verification
        {
            ResultId = id,
            Correct = correct,
            TrueLabel = label,
            ImagePath = r.ImagePath,
            AddToTrainingSet = add,
            VerifiedBy = Session(http).Name,
            VerifiedAt = clock.GetUtcNow(),
        }, http.RequestAborted);
        return Results.NoContent();
    }

    private static IResult Models(ModelCatalog catalog, DashboardProject project) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("versions");
        foreach (ModelVersionInfo v in catalog.List())
        {
            w.WriteStartObject();
            w.WriteString("version", v.Version);
            w.WriteBoolean("active", v.Active);
            w.WriteBoolean("activatable", v.Activatable);
            if (v.Project is { } p)
            {
                WriteProjectVersion(w, p);
            }

            w.WriteStartObject("metrics");
            foreach ((string name, double value) in v.Metrics)
            {
                w.WriteNumber(name, value);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (project.Exists)
        {
            w.WriteStartObject("project");
            WriteProjectSummary(w, project);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    });

    private static async Task<IResult> ActivateAsync(HttpContext http, ModelCatalog catalog, DashboardProject project)
    {
        string? version;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            version = body.RootElement.GetProperty("version").GetString();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Results.Problem("Send {\"version\": \"...\"}.", statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            return version is not null && await catalog.ActivateAsync(version, http.RequestAborted)
                ? Results.NoContent()
                : Results.Problem(project.Exists ? $"The project has no version '{version}'." : $"No model file in {catalog.Folder} has the version '{version}'.", statusCode: StatusCodes.Status404NotFound);
        }
        catch (ProjectException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status409Conflict);
        }
    }

    private static IResult Json(Action<Utf8JsonWriter> body, int statusCode = StatusCodes.Status200OK) => Results.Text(ServiceJson.Write(body), "application/json", statusCode: statusCode);

    /// <summary>An embedded file with a strict content security policy: only this origin's scripts, styles and images.</summary>
    private sealed class AssetResult(Stream stream, string contentType) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            await using (stream)
            {
                httpContext.Response.ContentType = contentType;
                httpContext.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'";
                httpContext.Response.Headers.XContentTypeOptions = "nosniff";
                httpContext.Response.Headers.CacheControl = "no-cache";
                await stream.CopyToAsync(httpContext.Response.Body, httpContext.RequestAborted);
            }
        }
    }
}
