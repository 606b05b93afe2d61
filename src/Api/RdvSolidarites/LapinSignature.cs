using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace RappelRdv.Api.RdvSolidarites;

/// <summary><c>X-Lapin-Signature</c>: the hex HMAC-SHA256 of the raw body, keyed with the shared secret.</summary>
internal static class LapinSignature
{
    public const string Header = "X-Lapin-Signature";

    // Stands in for a missing secret so that an unknown tenant costs the same work as a wrong signature.
    private static readonly byte[] NoSecret = RandomNumberGenerator.GetBytes(32);

    /// <summary>True only with a secret and a signature (upper- or lower-case hex) of exactly these bytes.</summary>
    public static bool Matches(string? secret, string? presented, ReadOnlySpan<byte> body)
    {
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(secret is null ? NoSecret : Encoding.UTF8.GetBytes(secret), body, expected);

        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var decoded = presented is { Length: HMACSHA256.HashSizeInBytes * 2 }
            && Convert.FromHexString(presented, given, out _, out var written) == OperationStatus.Done
            && written == given.Length;

        // Compared whatever happened above: the time taken says nothing of how close a guess was.
        return CryptographicOperations.FixedTimeEquals(expected, given) & decoded & secret is not null;
    }
}
