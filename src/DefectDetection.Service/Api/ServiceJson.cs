using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DefectDetection.Service.Storage;

namespace DefectDetection.Service.Api;

/// <summary>The service's JSON (snake_case, like the library's prediction JSON, which a result embeds as it is).</summary>
internal static class ServiceJson
{
    public static string Write(Action<Utf8JsonWriter> body)
    {
        ArrayBufferWriter<byte> buffer = new();
        using (Utf8JsonWriter w = new(buffer))
        {
            body(w);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string Result(InspectionRecord r) => Write(w => WriteResult(w, r));

    public static string Verdict(InspectionRecord r) => r.Status switch
    {
        InspectionStatus.Queued => "pending",
        InspectionStatus.Done => r.Outcome?.IsDefect == true ? "anomaly" : "normal",
        _ => "invalid",
    };

    public static void WriteResult(Utf8JsonWriter w, InspectionRecord r)
    {
        InspectionOutcome? o = r.Outcome;
        w.WriteStartObject();
        w.WriteString("id", r.Id);
        w.WriteString("status", SqliteInspectionStore.StatusText(r.Status));
        w.WriteString("verdict", Verdict(r));
        Optional(w, "model_version", o?.ModelVersion);
        Optional(w, "camera", r.Metadata.Camera);
        Optional(w, "line", r.Metadata.Line);
        Optional(w, "facility", r.Metadata.Facility);
        Optional(w, "part_id", r.Metadata.PartId);
        Optional(w, "captured_at", r.Metadata.CapturedAt);
        Optional(w, "idempotency_key", r.Metadata.IdempotencyKey);
        w.WriteString("received_at", r.ReceivedAt.UtcDateTime);
        Optional(w, "completed_at", o?.CompletedAt);
        Optional(w, "error", o?.Error);
        if (o?.PredictionJson is { } prediction)
        {
            w.WritePropertyName("prediction");
            w.WriteRawValue(prediction, skipInputValidation: true);
        }
        else
        {
            w.WriteNull("prediction");
        }

        w.WriteEndObject();
    }

    public static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    public static void Optional(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, v.UtcDateTime);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    public static string Cursor(long sequence) => sequence.ToString(CultureInfo.InvariantCulture);
}
