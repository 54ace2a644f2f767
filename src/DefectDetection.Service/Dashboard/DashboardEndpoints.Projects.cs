using System.Globalization;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Projects;
using DefectDetection.Service.Api;
using DefectDetection.Service.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DefectDetection.Service.Dashboard;

/// <summary>
/// The project pages of <c>defect serve --project</c>: retraining from the models page, and the trial detections with
/// each image's verdict, a person's verification and "accept" into the training set. Without a project they answer 404.
/// </summary>
internal static partial class DashboardEndpoints
{
    private static void MapProject(RouteGroupBuilder api)
    {
        api.MapPost("/models/retrain", Retrain).AddEndpointFilter(Require(ApiScopes.Admin)).AddEndpointFilter(ProjectOnly);
        api.MapGet("/trials", Trials).AddEndpointFilter(Require(ApiScopes.Read)).AddEndpointFilter(ProjectOnly);
        api.MapGet("/trials/{number:int}", TrialAsync).AddEndpointFilter(Require(ApiScopes.Read)).AddEndpointFilter(ProjectOnly);
        api.MapGet("/trials/{number:int}/results/{id:long}/overlay.png", (int number, long id, DashboardProject project) => TrialImage(project, number, id, overlay: true))
            .AddEndpointFilter(Require(ApiScopes.Read)).AddEndpointFilter(ProjectOnly);
        api.MapGet("/trials/{number:int}/results/{id:long}/image", (int number, long id, DashboardProject project) => TrialImage(project, number, id, overlay: false))
            .AddEndpointFilter(Require(ApiScopes.Read)).AddEndpointFilter(ProjectOnly);

        // Verifying a trial image needs what verifying a service image needs (read); changing the dataset needs admin.
        api.MapPost("/trials/{number:int}/results/{id:long}/verification", VerifyTrialAsync).AddEndpointFilter(Require(ApiScopes.Read)).AddEndpointFilter(ProjectOnly);
        api.MapPost("/trials/{number:int}/accept", AcceptTrialAsync).AddEndpointFilter(Require(ApiScopes.Admin)).AddEndpointFilter(ProjectOnly);
    }

    private static async ValueTask<object?> ProjectOnly(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next) =>
        ctx.HttpContext.RequestServices.GetService(typeof(DashboardProject)) is DashboardProject { Exists: true }
            ? await next(ctx)
            : Results.Problem("This service serves a model file, not a project (start it with defect serve --project DIR).", statusCode: StatusCodes.Status404NotFound);

    private static IResult Retrain(HttpContext http, DashboardProject project) =>
        project.TryStartRetraining(Session(http).Name)
            ? Json(w => { w.WriteStartObject(); WriteRetraining(w, project.Retraining!); w.WriteEndObject(); }, StatusCodes.Status202Accepted)
            : Results.Problem("A retraining is running already; wait for it to end.", statusCode: StatusCodes.Status409Conflict);

    private static IResult Trials(DashboardProject project)
    {
        IReadOnlyList<Trial> trials = project.Use(p => p.Trials.List());
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("trials");
            foreach (Trial t in trials.Reverse())
            {
                w.WriteStartObject();
                WriteTrial(w, t);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static async Task<IResult> TrialAsync(int number, DashboardProject project, CancellationToken cancellationToken)
    {
        (Trial? trial, IReadOnlyList<string> labels) = await Task.Run(() => project.Use(p => (FindTrial(p, number), LabelsOf(p))), cancellationToken);
        if (trial is null)
        {
            return NoTrial(number);
        }

        return Json(w =>
        {
            w.WriteStartObject();
            WriteTrial(w, trial);
            WriteStrings(w, "labels", labels);
            w.WriteStartArray("results");
            foreach (TrialResult r in trial.Results)
            {
                WriteTrialResult(w, r);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static IResult TrialImage(DashboardProject project, int number, long id, bool overlay)
    {
        TrialResult? result = project.Use(p => FindTrial(p, number)?.Results.FirstOrDefault(r => r.Id == id));
        string? path = overlay ? result?.OverlayPath : result?.ImagePath;
        return path is not null && File.Exists(path) ? ImageFile(path) : Results.NotFound();
    }

    private static async Task<IResult> VerifyTrialAsync(int number, long id, HttpContext http, DashboardProject project)
    {
        VerificationInput input;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            string? label = body.RootElement.TryGetProperty("true_label", out JsonElement l) ? l.GetString()?.Trim() : null;
            input = new VerificationInput { Correct = body.RootElement.GetProperty("correct").GetBoolean(), TrueLabel = label is { Length: > 0 } ? label : null };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Results.Problem("Send {\"correct\": true|false, \"true_label\": \"...\"}.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (input.TrueLabel is { Length: > 100 })
        {
            return Results.Problem("The true label is longer than 100 characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            TrialResult? verified = await Task.Run(() => project.Use(p =>
                FindTrial(p, number)?.Results.Any(r => r.Id == id) == true ? p.Trials.Verify(id, input) : null), http.RequestAborted);
            return verified is null
                ? Results.Problem($"Trial {number} has no image {id}.", statusCode: StatusCodes.Status404NotFound)
                : Json(w => WriteTrialResult(w, verified));
        }
        catch (ProjectException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<IResult> AcceptTrialAsync(int number, DashboardProject project, CancellationToken cancellationToken)
    {
        AcceptResult? accepted = await Task.Run(() => project.Use(p => FindTrial(p, number) is null ? null : p.Trials.Accept(number)), cancellationToken);
        return accepted is null ? NoTrial(number) : Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("added", accepted.Added.Count);
            w.WriteNumber("duplicates", accepted.Duplicates.Count);
            w.WriteEndObject();
        });
    }

    private static Trial? FindTrial(DefectProject project, int number) =>
        project.Trials.List().Any(t => t.Number == number) ? project.Trials.Get(number) : null;

    private static IResult NoTrial(int number) => Results.Problem($"The project has no trial {number}.", statusCode: StatusCodes.Status404NotFound);

    /// <summary>The labels a person may give: the project's fixed labels, else its normal labels and those in its dataset.</summary>
    private static IReadOnlyList<string> LabelsOf(DefectProject p) =>
        p.Labels ?? [.. p.NormalLabels.Concat(p.GetSummary().Entries.Values.SelectMany(l => l.Keys)).Append("anomaly").Distinct(StringComparer.Ordinal)];

    /// <summary>A stored image, typed by its first bytes.</summary>
    private static IResult ImageFile(string path)
    {
        Span<byte> header = stackalloc byte[16];
        using (FileStream stream = File.OpenRead(path))
        {
            header = header[..stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false)];
        }

        string type = ImageCodecs.DetectFormat(header) switch
        {
            ImageFormat.Png => "image/png",
            ImageFormat.Jpeg => "image/jpeg",
            ImageFormat.Bmp => "image/bmp",
            _ => "application/octet-stream",
        };
        return Results.File(Path.GetFullPath(path), type);
    }

    private static void WriteProjectVersion(Utf8JsonWriter w, ModelVersion v)
    {
        w.WriteString("status", v.Status.ToString().ToLowerInvariant());
        ServiceJson.Optional(w, "learner", v.Learner);
        w.WriteNumber("train_images", v.TrainImages);
        w.WriteNumber("test_images", v.TestImages);
        if (v.TrainingSeconds is { } seconds)
        {
            w.WriteNumber("training_seconds", seconds);
        }

        w.WriteString("started_at", v.StartedAt);
        if (v.FinishedAt is { } finished)
        {
            w.WriteString("finished_at", finished);
        }

        ServiceJson.Optional(w, "error", v.Error);
    }

    private static void WriteProjectSummary(Utf8JsonWriter w, DashboardProject project)
    {
        (string name, int train, int test, int verified) = project.Use(p => (p.Name,
            p.Dataset.Count(new DatasetQuery { Split = EntrySplit.Train }), p.Dataset.Count(new DatasetQuery { Split = EntrySplit.Test }), p.Dataset.Count(new DatasetQuery { Verified = true })));
        w.WriteString("name", name);
        w.WriteNumber("train_images", train);
        w.WriteNumber("test_images", test);
        w.WriteNumber("verified_images", verified);
        if (project.Retraining is { } retraining)
        {
            w.WriteStartObject("retraining");
            WriteRetraining(w, retraining);
            w.WriteEndObject();
        }
    }

    private static void WriteRetraining(Utf8JsonWriter w, RetrainState s)
    {
        w.WriteString("status", s.Status);
        w.WriteString("requested_by", s.RequestedBy);
        w.WriteString("started_at", s.StartedAt.UtcDateTime);
        ServiceJson.Optional(w, "stage", s.Stage);
        w.WriteNumber("fraction", s.Fraction);
        if (s.Items.Total > 0)
        {
            w.WriteNumber("done", s.Items.Done);
            w.WriteNumber("total", s.Items.Total);
        }

        ServiceJson.Optional(w, "version", s.Version);
        ServiceJson.Optional(w, "error", s.Error);
        ServiceJson.Optional(w, "finished_at", s.FinishedAt);
    }

    private static void WriteTrial(Utf8JsonWriter w, Trial t)
    {
        w.WriteNumber("number", t.Number);
        w.WriteString("version", $"v{t.Version}");
        w.WriteString("status", t.Status.ToString().ToLowerInvariant());
        w.WriteString("started_at", t.StartedAt);
        w.WriteNumber("images", t.Images);
        w.WriteNumber("verified", t.Verified);
        w.WriteNumber("accepted", t.Accepted);
        ServiceJson.Optional(w, "error", t.Error);
    }

    private static void WriteTrialResult(Utf8JsonWriter w, TrialResult r)
    {
        w.WriteStartObject();
        w.WriteNumber("id", r.Id);
        w.WriteString("file", Path.GetFileName(r.Source));
        w.WriteString("label", r.Label);
        w.WriteBoolean("is_defect", r.IsDefect);
        w.WriteNumber("score", r.Score);
        w.WriteNumber("confidence", r.Confidence);
        w.WriteNumber("defects", r.Defects.Count);
        w.WriteBoolean("overlay", r.OverlayPath is not null);
        w.WriteBoolean("accepted", r.AcceptedEntryId is not null);
        if (r.Verification is { } v)
        {
            w.WriteStartObject("verification");
            w.WriteBoolean("correct", v.Correct);
            w.WriteString("true_label", v.TrueLabel);
            w.WriteString("verified_at", v.VerifiedAt);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }
}
