using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RappelRdv.Worker.Events;

/// <summary>
/// The Standard Webhooks signature (<c>webhook-signature: v1,&lt;base64 HMAC-SHA256&gt;</c> of
/// <c>id.timestamp.body</c>, keyed with the base64 part of <c>whsec_…</c>). Written here rather than
/// taken from the StandardWebhooks package, which would bring all of ASP.NET Core into the Worker for
/// these few lines; the end-to-end tests check it from the contract alone.
/// </summary>
internal static class WebhookSignature
{
    private const string SecretPrefix = "whsec_";

    public static string Timestamp(DateTimeOffset sentAt) => sentAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    public static string Sign(string secret, string id, DateTimeOffset sentAt, string payload)
    {
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var signed = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{Timestamp(sentAt)}.{payload}"));
        return "v1," + Convert.ToBase64String(signed);
    }

    /// <summary>
    /// The header's value: the new secret's signature, then for 24 hours after a rotation the old
    /// secret's, space-separated, so that an agenda still on the old secret keeps verifying.
    /// </summary>
    public static string Header(string secret, string? previousSecret, string id, DateTimeOffset sentAt, string payload) =>
        previousSecret is { Length: > 0 } previous
            ? Sign(secret, id, sentAt, payload) + " " + Sign(previous, id, sentAt, payload)
            : Sign(secret, id, sentAt, payload);
}
