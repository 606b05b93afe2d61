using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;
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
    private const string SessionItem = "rappel.operator-session";

    /// <summary>
    /// The admin key as a bearer token, or else a valid operator session (read beforehand by
    /// <see cref="ReadSessionAsync"/>: Hangfire's filter is synchronous). A wrong bearer is refused outright.
    /// </summary>
    public static bool IsOperator(HttpContext http)
    {
        if (TenantKeyAuthentication.BearerToken(http.Request) is { } bearer)
        {
            return TenantSecrets.AdminKeyMatches(bearer, AdminKey(http));
        }

        return http.Items[SessionItem] is true;
    }

    /// <summary>Reads the <c>rappel_operator</c> session (a signed ticket: the admin key's stamp or an operator's e-mail).</summary>
    public static async Task ReadSessionAsync(HttpContext http)
    {
        var session = await http.AuthenticateAsync(Dashboard.Sessions.Operator);
        http.Items[SessionItem] = session.Succeeded;
    }

    public static string AdminKey(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey;
}
