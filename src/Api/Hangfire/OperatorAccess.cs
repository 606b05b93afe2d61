using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;
using Microsoft.Extensions.Options;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Hangfire;

/// <summary>Hangfire asks this on every dashboard request, pages and their JSON alike.</summary>
internal sealed class OperatorOnlyFilter : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) => OperatorAccess.IsOperator(context.GetHttpContext());
}

internal static class OperatorAccess
{
    /// <summary>The admin key as a bearer token, or else a valid sign-in cookie. A wrong bearer is refused outright.</summary>
    public static bool IsOperator(HttpContext http)
    {
        var adminKey = AdminKey(http);
        if (TenantKeyAuthentication.BearerToken(http.Request) is { } bearer)
        {
            return TenantSecrets.AdminKeyMatches(bearer, adminKey);
        }

        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        return OperatorCookie.IsValid(http.Request.Cookies[OperatorCookie.Name], adminKey, now);
    }

    public static string AdminKey(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey;
}

/// <summary>
/// The sign-in cookie: an expiry and an HMAC of it keyed with the admin key. It never carries the
/// key itself, needs no server-side session (any Api replica checks it), and stops working as soon
/// as the admin key is changed.
/// </summary>
internal static class OperatorCookie
{
    public const string Name = "rappel_operator";

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    public static string Issue(string adminKey, DateTimeOffset now)
    {
        var expires = (now + Lifetime).ToUnixTimeSeconds();
        return $"{expires.ToString(CultureInfo.InvariantCulture)}.{Sign(adminKey, expires)}";
    }

    public static bool IsValid(string? value, string adminKey, DateTimeOffset now)
    {
        if (value is null || value.Split('.') is not [var expiresText, var signature]
            || !long.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || expires <= now.ToUnixTimeSeconds() || expires > (now + Lifetime).ToUnixTimeSeconds())
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(adminKey, expires)), Encoding.ASCII.GetBytes(signature));
    }

    private static string Sign(string adminKey, long expires) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(adminKey),
            Encoding.UTF8.GetBytes($"rappel-hangfire-dashboard|{expires.ToString(CultureInfo.InvariantCulture)}")));
}
