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
