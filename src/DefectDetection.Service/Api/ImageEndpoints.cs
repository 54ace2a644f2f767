using System.Globalization;
using DefectDetection.Service.Auth;
using DefectDetection.Service.Queue;
using DefectDetection.Service.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace DefectDetection.Service.Api;

/// <summary><c>POST /v1/images</c>: upload an image with its metadata; 202 with the id.</summary>
internal static class ImageEndpoints
{
    private const int MaxFieldLength = 256;

    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/images", UploadAsync)
            .RequireAuthorization(ScopePolicies.Ingest)
            .Accepts<ImageUpload>("multipart/form-data")
            .Produces(StatusCodes.Status202Accepted, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithName("UploadImage")
            .WithSummary("Upload an image with its metadata (scope ingest)")
            .WithDescription("Multipart form: the image in 'file'; optional fields camera, line, facility, partId, capturedAt (ISO 8601), idempotencyKey (or the Idempotency-Key header). Answers 202 with the id once the image is stored durably; the same idempotency key gives the same id and no second result. 413 when the body is too large, 429 with Retry-After when the queue is full.");
    }

    private static async Task<IResult> UploadAsync(HttpContext http, InspectionServiceOptions options, ImageIntake intake, CancellationToken cancellationToken)
    {
        HttpRequest request = http.Request;
        if (request.ContentLength > options.MaxBodyBytes)
        {
            return TooLarge(options);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxBodyBytes;
        }

        if (!request.HasFormContentType)
        {
            return Results.Problem("Send multipart/form-data with the image in the 'file' field.", statusCode: StatusCodes.Status400BadRequest);
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = options.MaxBodyBytes, ValueLengthLimit = 4096, ValueCountLimit = 64 }, cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException)
        {
            return ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } || ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase)
                ? TooLarge(options)
                : Results.Problem($"The form cannot be read: {ex.Message}", statusCode: StatusCodes.Status400BadRequest);
        }

        IFormFile? file = form.Files.GetFile("file") ?? (form.Files.Count == 1 ? form.Files[0] : null);
        if (file is null || file.Length == 0)
        {
            return Results.Problem("Give the image in the 'file' field.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (file.Length > options.MaxBodyBytes)
        {
            return TooLarge(options);
        }

        ImageMetadata metadata;
        try
        {
            string? key = Field(form, "idempotencyKey") ?? (request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } h ? Check("Idempotency-Key", h) : null);
            metadata = new ImageMetadata
            {
                Camera = Field(form, "camera"),
                Line = Field(form, "line"),
                Facility = Field(form, "facility"),
                PartId = Field(form, "partId"),
                CapturedAt = Field(form, "capturedAt") is { } t ? ParseTime("capturedAt", t) : null,
                IdempotencyKey = key,
            };
        }
        catch (ArgumentException ex)
        {
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }

        await using Stream stream = file.OpenReadStream();
        (IntakeStatus status, string? id) = await intake.AcceptAsync(stream, file.FileName, metadata, cancellationToken);
        if (status == IntakeStatus.QueueFull)
        {
            http.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Results.Problem("The queue is full; try again after Retry-After seconds.", statusCode: StatusCodes.Status429TooManyRequests);
        }

        string json = ServiceJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteBoolean("duplicate", status == IntakeStatus.Duplicate);
            w.WriteEndObject();
        });
        http.Response.Headers.Location = $"/v1/results/{id}";
        return Results.Text(json, "application/json", statusCode: StatusCodes.Status202Accepted);
    }

    private static IResult TooLarge(InspectionServiceOptions options) =>
        Results.Problem($"The request body is larger than the limit of {options.MaxBodyBytes:N0} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);

    private static string? Field(IFormCollection form, string name) =>
        form.TryGetValue(name, out Microsoft.Extensions.Primitives.StringValues v) && v.ToString() is { Length: > 0 } s ? Check(name, s) : null;

    private static string Check(string name, string value) =>
        value.Length <= MaxFieldLength && !value.Any(char.IsControl) ? value : throw new ArgumentException($"{name}: at most {MaxFieldLength} printable characters.");

    internal static DateTimeOffset ParseTime(string name, string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset t)
            ? t
            : throw new ArgumentException($"{name}: '{text}' is not an ISO 8601 time.");
}

/// <summary>The upload form (documents the multipart fields in the OpenAPI document).</summary>
internal sealed class ImageUpload
{
    /// <summary>The image (JPEG, PNG, BMP or PNM).</summary>
    public IFormFile? File { get; init; }

    /// <summary>The camera.</summary>
    public string? Camera { get; init; }

    /// <summary>The production line.</summary>
    public string? Line { get; init; }

    /// <summary>The facility.</summary>
    public string? Facility { get; init; }

    /// <summary>The part's id.</summary>
    public string? PartId { get; init; }

    /// <summary>When the image was taken (ISO 8601).</summary>
    public DateTimeOffset? CapturedAt { get; init; }

    /// <summary>The client's idempotency key.</summary>
    public string? IdempotencyKey { get; init; }
}
