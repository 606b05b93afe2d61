using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace RappelRdv.Reminders.RdvSolidarites;

/// <summary>
/// Protects the RDV-Solidarités password or shared secret of a tenant before it is stored, so that a
/// dump of the database alone does not reveal it: AES-256-GCM under a key derived (HKDF-SHA256) from
/// <c>RdvSolidarites__SecretsKey</c>, else from <c>Admin__ApiKey</c>, which the Api and the Worker both
/// have and which is never in the database.
/// <para>
/// Why not ASP.NET Core Data Protection, as the dashboard's sessions: its key ring is stored in the
/// table <c>data_protection_keys</c> unencrypted (PostgresKeyRepository), so a dump holds both the
/// ciphertext and its key. Encrypting that ring would change the sessions' storage for a second user of
/// it; a key from configuration protects these few secrets alone, and the Worker needs no key ring.
/// The price: changing the key (or <c>Admin__ApiKey</c> without a <c>SecretsKey</c>) makes the stored
/// secrets unreadable; each then fails with a reason that says so, until the tenant's <c>api</c> is PUT again.
/// </para>
/// </summary>
public sealed class RdvSolidaritesSecrets
{
    private const string Version = "v1";

    // Binds a ciphertext to its use: a protected value copied into another field is refused.
    private static readonly byte[] Purpose = Encoding.UTF8.GetBytes("RappelRdv rdvSolidarites.api secret");

    private readonly byte[]? key;
    private readonly string keyId = "";

    public RdvSolidaritesSecrets(IConfiguration configuration)
        : this(configuration["RdvSolidarites:SecretsKey"] is { Length: > 0 } own ? own : configuration["Admin:ApiKey"])
    {
    }

    public RdvSolidaritesSecrets(string? keyMaterial)
    {
        if (string.IsNullOrEmpty(keyMaterial))
        {
            return;
        }

        key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(keyMaterial), 32, salt: null, info: Purpose);
        // Names the key without revealing it: a value protected under another key is told apart from a damaged one.
        keyId = Convert.ToHexStringLower(SHA256.HashData(key))[..8];
    }

    public bool CanProtect => key is not null;

    /// <summary><c>v1.{key id}.{base64 nonce | tag | ciphertext}</c>.</summary>
    public string Protect(string secret)
    {
        var k = key ?? throw new InvalidOperationException("Neither RdvSolidarites__SecretsKey nor Admin__ApiKey is set.");
        var plain = Encoding.UTF8.GetBytes(secret);
        var sealedBytes = new byte[12 + 16 + plain.Length];
        var nonce = sealedBytes.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(k, 16);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), Purpose);
        return $"{Version}.{keyId}.{Convert.ToBase64String(sealedBytes)}";
    }

    /// <summary>The secret, or null with why it cannot be read (a sentence fit for a write-back's reason).</summary>
    public string? Unprotect(string stored, out string? problem)
    {
        problem = null;
        var parts = stored.Split('.');
        if (key is null)
        {
            problem = "the Worker has neither RdvSolidarites__SecretsKey nor Admin__ApiKey to read the tenant's secret";
            return null;
        }

        if (parts.Length != 3 || parts[0] != Version || parts[1] != keyId)
        {
            problem = "the tenant's RDV-Solidarités secret was stored under another key; PUT the tenant's rdvSolidarites.api again";
            return null;
        }

        try
        {
            var sealedBytes = Convert.FromBase64String(parts[2]);
            var plain = new byte[sealedBytes.Length - 28];
            using var aes = new AesGcm(key, 16);
            aes.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), plain, Purpose);
            return Encoding.UTF8.GetString(plain);
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException or OverflowException)
        {
            problem = "the tenant's RDV-Solidarités secret cannot be read; PUT the tenant's rdvSolidarites.api again";
            return null;
        }
    }
}
