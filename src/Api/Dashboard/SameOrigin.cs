namespace RappelRdv.Api.Dashboard;

/// <summary>
/// Refuses a form posted from another site (login CSRF, forced logout). Browsers say where a
/// request comes from in headers a page cannot forge: <c>Sec-Fetch-Site</c> (all current
/// browsers) or else <c>Origin</c>, which they send with every POST. A request with neither does
/// not come from a browser's form, and is refused as well: the dashboard has no other client.
/// The cookie itself is SameSite=Strict, so it never rides along a cross-site request anyway.
/// </summary>
internal static class SameOrigin
{
    public static bool IsSameOrigin(HttpRequest request, string publicBaseUrl)
    {
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0)
        {
            return fetchSite == "same-origin";
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0 || origin == "null" || !Uri.TryCreate(origin, UriKind.Absolute, out var from))
        {
            return false;
        }

        // Our own address as the request sees it, or as browsers see it behind a proxy (PublicBaseUrl).
        var own = $"{request.Scheme}://{request.Host}";
        return SameAuthority(from, own) || SameAuthority(from, publicBaseUrl);
    }

    private static bool SameAuthority(Uri origin, string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var other)
        && string.Equals(origin.Scheme, other.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(origin.Host, other.Host, StringComparison.OrdinalIgnoreCase)
        && origin.Port == other.Port;
}
