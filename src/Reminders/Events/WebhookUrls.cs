using System.Net;
using System.Net.Sockets;

namespace RappelRdv.Reminders.Events;

/// <summary>
/// Where tenant webhooks may point: https on port 443 (or http on 80) to globally routable
/// addresses only, unless private networks are allowed (a test set-up). Checked when a tenant
/// saves its URL, and again by the Worker on every connection, after DNS resolution.
/// </summary>
public static class WebhookUrls
{
    /// <summary>The ports a webhook may use outside a test set-up: nothing else of a host is reachable through us.</summary>
    public static readonly int[] AllowedPorts = [443, 80];

    // IPv4 ranges that are not global (IANA special-purpose registry), besides multicast and 240/4.
    private static readonly IPNetwork[] NonGlobalV4 =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.88.99.0/24"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("224.0.0.0/3"),
    ];

    // Inside 2000::/3 (the only global unicast IPv6), what still leads elsewhere: translation and
    // tunnels that would carry us to an IPv4 address of the operator's choosing, and documentation.
    private static readonly IPNetwork[] NonGlobalV6 =
    [
        IPNetwork.Parse("2001::/23"),       // IETF protocol assignments, Teredo (2001::/32) among them
        IPNetwork.Parse("2001:db8::/32"),   // documentation
        IPNetwork.Parse("2002::/16"),       // 6to4
        IPNetwork.Parse("3fff::/20"),       // documentation
    ];

    private static readonly IPNetwork GlobalUnicastV6 = IPNetwork.Parse("2000::/3");

    /// <summary>Null when the URL is acceptable, else why not.</summary>
    public static string? Check(string? url, bool allowPrivate)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return "Must be an absolute https URL.";
        }

        if (allowPrivate)
        {
            return null;
        }

        if (uri.Scheme != Uri.UriSchemeHttps)
        {
            return "Must be https (set Webhooks__AllowPrivateNetworks=true to allow http in a test set-up).";
        }

        if (!AllowedPorts.Contains(uri.Port))
        {
            return "Must use the port 443 (set Webhooks__AllowPrivateNetworks=true to allow others in a test set-up).";
        }

        if (uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && !IsPublic(address)))
        {
            return "Must point to a public address.";
        }

        return null;
    }

    /// <summary>Whether this address is globally routable: NAT64, 6to4, Teredo and every special-purpose range are not.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !NonGlobalV4.Any(n => n.Contains(address));
        }

        // NAT64 (64:ff9b::/96, 64:ff9b:1::/48), IPv4-compatible, link-local, unique-local, multicast:
        // all outside 2000::/3.
        return address.AddressFamily == AddressFamily.InterNetworkV6
            && GlobalUnicastV6.Contains(address)
            && !NonGlobalV6.Any(n => n.Contains(address));
    }
}
