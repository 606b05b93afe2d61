using System.Security.Cryptography;
using System.Text;

namespace RappelRdv.Reminders.Tenants;

public enum KeyRole
{
    Api,
    Manager,
}

/// <summary>
/// Tenant keys: <c>rra_{slug}_{secret}</c> (agenda) and <c>rrm_{slug}_{secret}</c> (manager).
/// The slug finds the tenant; the 256-bit secret is checked against a SHA-256 hash in constant
/// time. A fast hash is enough here: the secret is random, not a password.
/// </summary>
public static class TenantSecrets
{
    public static string NewKey(KeyRole role, string slug) =>
        $"{Prefix(role)}{slug}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";

    public static string NewWebhookSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The secret of a tenant's no-show history (<c>tenants.history_key</c>): 256 random bits, never shown, never rotated.</summary>
    public static byte[] NewHistoryKey() => RandomNumberGenerator.GetBytes(32);

    /// <summary>
    /// How a citizen's no-show history is keyed once the phone itself is erased: HMAC-SHA256 of the
    /// E.164 number under the tenant's secret. Not a plain hash: every French number can be hashed in
    /// minutes, so a hash would be the number; without the tenant's secret the key says nothing, and
    /// two tenants' keys of one number differ.
    /// </summary>
    public static byte[] CitizenKey(byte[] historyKey, string e164) => HMACSHA256.HashData(historyKey, Encoding.UTF8.GetBytes(e164));

    /// <summary>The names a rotation takes, as the wire spells them.</summary>
    public static readonly string[] Rotatable = ["apiKey", "managerKey", "webhookSecret"];

    /// <summary>How long the replaced webhook secret still signs events, beside the new one.</summary>
    public static readonly TimeSpan PreviousWebhookSecretLifetime = TimeSpan.FromHours(24);

    /// <summary>
    /// <c>webhook-signature</c> of the Standard Webhooks: <c>v1,…</c> with the tenant's secret and,
    /// for a day after a rotation, a second <c>v1,…</c> with the one it replaced, space-separated.
    /// An agenda still checking with the old secret, or already with the new one, accepts it.
    /// </summary>
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static bool TryReadSlug(string key, out KeyRole role, out string slug)
    {
        role = KeyRole.Api;
        slug = "";
        if (key.StartsWith(Prefix(KeyRole.Api), StringComparison.Ordinal))
        {
            role = KeyRole.Api;
        }
        else if (key.StartsWith(Prefix(KeyRole.Manager), StringComparison.Ordinal))
        {
            role = KeyRole.Manager;
        }
        else
        {
            return false;
        }

        var rest = key.AsSpan(4);
        var separator = rest.IndexOf('_');
        if (separator <= 0 || separator > 64)
        {
            return false;
        }

        slug = rest[..separator].ToString();
        return true;
    }

    public static bool Matches(string key, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(key), storedHash);

    public static bool AdminKeyMatches(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(Hash(presented), Hash(expected));

    private static string Prefix(KeyRole role) => role == KeyRole.Api ? "rra_" : "rrm_";

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
