using System.Security.Claims;
using System.Text;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using RappelRdv.Api.Dashboard;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Reminders.Audit;
using RappelRdv.Reminders.Database;

namespace RappelRdv.Api.Hangfire;

/// <summary>
/// Hangfire's dashboard at <c>/hangfire</c>, for the operator only. The Api reads Hangfire's storage
/// (the Worker's tables) but runs no Hangfire server: it never executes a job.
/// A browser signs in at <c>/hangfire/login</c> with the admin key, or through the identity provider
/// when its e-mail is in <c>Oidc__Operators</c>, and gets a session cookie (<see cref="Sessions"/>); a
/// script sends <c>Authorization: Bearer &lt;admin key&gt;</c>. Nobody else gets in (<see cref="OperatorOnlyFilter"/>).
/// </summary>
internal static class HangfireDashboard
{
    public const string Path = "/hangfire";
    public const string LoginPath = "/hangfire/login";
    public const string LogoutPath = "/hangfire/logout";
    public const string SignInPath = "/hangfire/signin";
    public const string SignedInPath = "/hangfire/signed-in";

    public static void AddHangfireForOperators(this WebApplicationBuilder builder)
    {
        // The Worker's storage and serializer settings, so that the dashboard reads the jobs the
        // Worker writes. No AddHangfireServer: the Api runs no job.
        builder.Services.AddRappelHangfire(builder.Configuration);
    }

    public static void MapHangfireForOperators(this WebApplication app)
    {
        var formTargets = DashboardEndpoints.FormTargets(app.Services.GetRequiredService<IOptions<OidcOptions>>().Value);
        var login = app.MapGroup(Path).ExcludeFromDescription().AllowAnonymous()
            .AddEndpointFilter(async (context, next) =>
            {
                DashboardEndpoints.Protect(context.HttpContext.Response.Headers, formTargets);
                return await next(context);
            });
        login.MapGet("/login", (string? returnUrl, IOptions<OidcOptions> oidc) => LoginPage(StatusCodes.Status200OK, SafeReturnUrl(returnUrl), null, oidc.Value));
        login.MapPost("/login", SignInAsync);
        login.MapPost("/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(Sessions.Operator);
            return TypedResults.Redirect(LoginPath);
        });
        login.MapGet("/signin", (IOptions<OidcOptions> oidc) => oidc.Value.Enabled
            ? TypedResults.Challenge(new AuthenticationProperties { RedirectUri = SignedInPath }, [Sessions.Oidc])
            : (IResult)TypedResults.Redirect(LoginPath));
        login.MapGet("/signed-in", SignedInAsync);

        // Every other request reads the operator's session first; a browser without one is sent to
        // the login form, and anything else that is refused gets Hangfire's own 401 from the filter.
        app.UseWhen(
            http => http.Request.Path.StartsWithSegments(Path)
                && !http.Request.Path.StartsWithSegments(LoginPath)
                && !http.Request.Path.StartsWithSegments(LogoutPath)
                && !http.Request.Path.StartsWithSegments(SignInPath)
                && !http.Request.Path.StartsWithSegments(SignedInPath),
            branch => branch.Use(async (http, next) =>
            {
                if (TenantKeyAuthentication.BearerToken(http.Request) is not null && !OperatorAccess.IsOperator(http))
                {
                    // A script with a wrong key (a tenant's included: no tenant look-up on the operator's door), counted
                    // like any failed key: 401, or 429 past the limit.
                    await AdminKeyAuthentication.Refuse(http);
                    return;
                }

                await OperatorAccess.ReadSessionAsync(http);
                if (HttpMethods.IsGet(http.Request.Method) && WantsHtml(http.Request) && !OperatorAccess.IsOperator(http))
                {
                    var returnUrl = http.Request.PathBase + http.Request.Path + http.Request.QueryString;
                    http.Response.Redirect($"{LoginPath}?returnUrl={Uri.EscapeDataString(returnUrl)}");
                    return;
                }

                await next(http);
            }));

        // An endpoint ("/hangfire/{**path}") rather than a middleware branch, so that the login
        // endpoints above, more specific, are still reached.
        app.MapHangfireDashboard(Path, new DashboardOptions
        {
            Authorization = [new OperatorOnlyFilter()],
            DashboardTitle = "RappelRdv — tâches Hangfire",
            DisplayStorageConnectionString = false,
            AppPath = null,
            // The Razor components register antiforgery, which Hangfire would then demand on every POST, scripts' included;
            // as before, its forms are protected by the SameSite=Strict session cookie and the bearer key a page cannot forge.
            IgnoreAntiforgeryToken = true,
        }).ExcludeFromDescription();
    }

    private static async Task<IResult> SignInAsync(HttpContext http, AuditTrail audit, IOptions<OidcOptions> oidc)
    {
        // Read by hand rather than bound with [FromForm]: form binding would ask for antiforgery,
        // which SameSite=Strict and a key the attacker does not know make moot here.
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        var key = form?["key"].ToString() ?? "";
        var returnUrl = SafeReturnUrl(form?["returnUrl"].ToString());
        var adminKey = OperatorAccess.AdminKey(http);
        if (key.Length == 0 || !Reminders.Tenants.TenantSecrets.AdminKeyMatches(key, adminKey))
        {
            return LoginPage(FailedLogins.Record(http, "hangfire"), returnUrl, Copy.KeyRefused, oidc.Value);
        }

        // The ticket holds a stamp of the admin key, never the key: a changed key ends every session.
        await SignInOperatorAsync(http,
            [
                new Claim(SessionClaims.Kind, SessionClaims.KeyLogin),
                new Claim(SessionClaims.Role, "operator"),
                new Claim(SessionClaims.KeyStamp, SessionClaims.Stamp(Encoding.UTF8.GetBytes(adminKey))),
            ]);
        await audit.WriteAsync(null, AuditTrail.Actions.OperatorSignIn, "adminKey", http.RemoteAddress(), "key", http.RequestAborted);
        return TypedResults.Redirect(returnUrl);
    }

    private static async Task<IResult> SignedInAsync(HttpContext http, AuditTrail audit, IOptions<OidcOptions> oidc)
    {
        if (await OidcSignIn.TakeIdentityAsync(http) is not { } identity)
        {
            return TypedResults.Redirect(LoginPath);
        }

        if (identity.Email is not { } email || !oidc.Value.IsOperator(email))
        {
            // An unverified or look-alike address, or one not listed: refused, and written where the operator reads refusals.
            FailedLogins.Record(http, "hangfire-not-an-operator");
            await audit.WriteAsync(null, AuditTrail.Actions.SignInRefused, identity.Received, http.RemoteAddress(),
                identity.Refusal is { } why ? "operator: " + why : "operator: not in Oidc__Operators", http.RequestAborted);
            return LoginPage(StatusCodes.Status403Forbidden, Path, identity.Email is null ? Copy.OperatorUnverified : Copy.OperatorRefused, oidc.Value);
        }

        await SignInOperatorAsync(http, [new Claim(SessionClaims.Kind, SessionClaims.Person), new Claim(SessionClaims.Email, email)]);
        await audit.WriteAsync(null, AuditTrail.Actions.OperatorSignIn, email, http.RemoteAddress(), "oidc", http.RequestAborted);
        // A page rather than a redirect, so that the SameSite=Strict session cookie rides along (see DashboardEndpoints.SignedIn).
        return Pages.Message(Copy.SignedInTitle, link: Path, linkText: Copy.OperatorHeading, refreshTo: Path);
    }

    private static Task SignInOperatorAsync(HttpContext http, Claim[] claims) =>
        http.SignInAsync(Sessions.Operator, new ClaimsPrincipal(new ClaimsIdentity(claims, Sessions.Operator)),
            new AuthenticationProperties { IsPersistent = false, AllowRefresh = false });

    private static bool WantsHtml(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>Only back into the dashboard: never an open redirect.</summary>
    private static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url.StartsWith(Path, StringComparison.Ordinal) && !url.StartsWith(LoginPath, StringComparison.Ordinal)
            && !url.Contains("//", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal)
            ? url
            : Path;

    private static IResult LoginPage(int status, string returnUrl, string? error, OidcOptions oidc) =>
        Pages.HangfireLogin(returnUrl, error, oidc.Enabled, status);
}
