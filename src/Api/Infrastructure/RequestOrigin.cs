namespace RappelRdv.Api.Infrastructure;

/// <summary>Where a request came from, as the audit trail records it.</summary>
internal static class RequestOrigin
{
    /// <summary>
    /// The client's address: the peer's, or the one a known proxy forwarded
    /// (<c>ForwardedHeaders__KnownProxies</c>, applied before any endpoint runs).
    /// </summary>
    public static string? RemoteAddress(this HttpContext http) => http.Connection.RemoteIpAddress?.ToString();
}
