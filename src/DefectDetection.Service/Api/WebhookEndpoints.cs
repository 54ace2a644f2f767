using DefectDetection.Service.Auth;
using DefectDetection.Service.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DefectDetection.Service.Api;

/// <summary><c>GET /v1/webhooks/dead-letters</c>: deliveries that failed every attempt.</summary>
internal static class WebhookEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/webhooks/dead-letters", DeadLettersAsync)
            .RequireAuthorization(ScopePolicies.Admin)
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .WithName("ListDeadLetters")
            .WithSummary("Webhook deliveries that failed every attempt, newest first (scope admin)");
    }

    private static async Task<IResult> DeadLettersAsync(IWebhookOutbox outbox, CancellationToken cancellationToken)
    {
        IReadOnlyList<WebhookDelivery> dead = await outbox.DeadLettersAsync(500, cancellationToken);
        string json = ServiceJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (WebhookDelivery d in dead)
            {
                w.WriteStartObject();
                w.WriteNumber("id", d.Id);
                w.WriteString("url", d.Url);
                w.WriteString("event", d.Event);
                w.WriteNumber("attempts", d.Attempts);
                w.WriteString("created_at", d.CreatedAt.UtcDateTime);
                ServiceJson.Optional(w, "last_error", d.LastError);
                w.WritePropertyName("payload");
                w.WriteRawValue(d.Payload, skipInputValidation: true);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        return Results.Text(json, "application/json");
    }
}
