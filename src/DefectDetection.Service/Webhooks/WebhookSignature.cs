using System.Security.Cryptography;
using System.Text;

namespace DefectDetection.Service.Webhooks;

/// <summary>
/// The signature of webhook deliveries: header <c>X-Defect-Signature: sha256=&lt;hex&gt;</c>, the HMAC-SHA256 with the
/// subscription's secret of <c>&lt;timestamp&gt;.&lt;body&gt;</c>, where the timestamp (Unix seconds) is sent in
/// <c>X-Defect-Timestamp</c>. Receivers check it with <see cref="Verify"/> and refuse old timestamps.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "X-Defect-Signature";

    /// <summary>The timestamp header.</summary>
    public const string TimestampHeader = "X-Defect-Timestamp";

    /// <summary>The event header (<c>anomaly</c>, <c>alarm</c>, <c>invalid</c>).</summary>
    public const string EventHeader = "X-Defect-Event";

    /// <summary>The delivery id header (the same on every retry of one delivery).</summary>
    public const string DeliveryHeader = "X-Defect-Delivery";

    /// <summary>The signature header's value for a body sent at a timestamp.</summary>
    /// <param name="secret">The subscription's secret.</param>
    /// <param name="timestamp">The timestamp header's value.</param>
    /// <param name="body">The UTF-8 body.</param>
    public static string Compute(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        byte[] prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        byte[] message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    /// <summary>Whether a received signature is right (constant-time comparison).</summary>
    /// <param name="secret">The subscription's secret.</param>
    /// <param name="timestamp">The received timestamp header.</param>
    /// <param name="body">The received body.</param>
    /// <param name="signature">The received signature header.</param>
    public static bool Verify(string secret, string timestamp, ReadOnlySpan<byte> body, string signature) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Compute(secret, timestamp, body)), Encoding.ASCII.GetBytes(signature));
}
