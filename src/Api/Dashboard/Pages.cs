using Microsoft.AspNetCore.Http.HttpResults;
using RappelRdv.Api.Dashboard.Components;
using RappelRdv.Api.Hangfire;

namespace RappelRdv.Api.Dashboard;

/// <summary>
/// The dashboard's pages with their parameters typed: each method names a component's parameters
/// with <c>nameof</c> and takes them with their types, so that a parameter renamed, retyped or
/// forgotten is a compile error rather than a page rendered without it.
/// </summary>
internal static class Pages
{
    public static RazorComponentResult<LoginPage> Login(string? problem, bool oidcEnabled, int status = StatusCodes.Status200OK) =>
        Render<LoginPage>(new()
        {
            [nameof(LoginPage.Problem)] = problem,
            [nameof(LoginPage.OidcEnabled)] = oidcEnabled,
        }, status);

    public static RazorComponentResult<DashboardPage> Dashboard(DashboardView view, string? problem, string? signedInAs) =>
        Render<DashboardPage>(new()
        {
            [nameof(DashboardPage.View)] = view,
            [nameof(DashboardPage.Problem)] = problem,
            [nameof(DashboardPage.SignedInAs)] = signedInAs,
        });

    public static RazorComponentResult<MessagePage> Message(
        string heading, IReadOnlyList<string>? paragraphs = null, string? link = null, string? linkText = null, string? refreshTo = null,
        int status = StatusCodes.Status200OK) =>
        Render<MessagePage>(new()
        {
            [nameof(MessagePage.Heading)] = heading,
            [nameof(MessagePage.Paragraphs)] = paragraphs ?? [],
            [nameof(MessagePage.Link)] = link,
            [nameof(MessagePage.LinkText)] = linkText,
            [nameof(MessagePage.RefreshTo)] = refreshTo,
        }, status);

    public static RazorComponentResult<ChoosePage> Choose(IReadOnlyList<ManagedTenant> tenants) =>
        Render<ChoosePage>(new() { [nameof(ChoosePage.Tenants)] = tenants });

    /// <summary>The operators' sign-in page in front of the Hangfire dashboard (HangfireDashboard).</summary>
    public static RazorComponentResult<HangfireLoginPage> HangfireLogin(string returnUrl, string? error, bool oidcEnabled, int status = StatusCodes.Status200OK) =>
        Render<HangfireLoginPage>(new()
        {
            [nameof(HangfireLoginPage.ReturnUrl)] = returnUrl,
            [nameof(HangfireLoginPage.Error)] = error,
            [nameof(HangfireLoginPage.OidcEnabled)] = oidcEnabled,
        }, status);

    private static RazorComponentResult<T> Render<T>(Dictionary<string, object?> parameters, int status = StatusCodes.Status200OK)
        where T : Microsoft.AspNetCore.Components.IComponent =>
        new(parameters) { StatusCode = status, ContentType = "text/html; charset=utf-8" };
}
