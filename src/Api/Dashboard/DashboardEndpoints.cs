using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using RappelRdv.Api.Dashboard.Components;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Api.Stats;
using RappelRdv.Api.Tenants;
using RappelRdv.Reminders.Audit;
using RappelRdv.Reminders.Budgets;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Dashboard;

/// <summary>
/// <c>/dashboard</c>: the managers' page (Razor components rendered on the server, no script), its
/// CSV export, and the ways in: a key typed once into the login form, or OpenID Connect
/// (<c>/dashboard/signin</c>). Either way the browser holds a signed session (<see cref="Sessions"/>),
/// never a key. Forms are protected from cross-site posting by <see cref="SameOrigin"/> (and the
/// session cookie is SameSite=Strict).
/// </summary>
internal static class DashboardEndpoints
{
    public const string Path = "/dashboard";
    public const string LoginPath = "/dashboard/login";
    public const string SignInPath = "/dashboard/signin";
    public const string ChoosePath = "/dashboard/choose";
    public const string StylesheetPath = "/dashboard/dashboard.css";

    private static readonly Lazy<byte[]> Stylesheet = new(() =>
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("RappelRdv.Api.dashboard.css")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        var formTargets = FormTargets(app.ServiceProvider.GetRequiredService<IOptions<OidcOptions>>().Value);
        var group = app.MapGroup(Path)
            .WithTags("Dashboard (managers)")
            .ExcludeFromDescription()
            .AddEndpointFilter(async (context, next) =>
            {
                // Personal data (masked phones) and a tenant's figures: nothing cached, nothing framed, no script at all.
                Protect(context.HttpContext.Response.Headers, formTargets);
                return await next(context);
            });

        var signedIn = group.MapGroup("").AddEndpointFilter(RequireTenantSessionAsync);
        signedIn.MapGet("/", Page);
        signedIn.MapGet("/export.csv", Export);

        group.MapGet("/dashboard.css", (HttpResponse response) =>
        {
            response.Headers.CacheControl = "public, max-age=3600";
            return TypedResults.Bytes(Stylesheet.Value, "text/css; charset=utf-8");
        });
        group.MapGet("/login", (string? echec, IOptions<OidcOptions> oidc) =>
            Pages.Login(echec is null ? null : Copy.ProviderFailed, oidc.Value.Enabled));
        group.MapPost("/login", Login);
        group.MapPost("/logout", Logout);
        group.MapGet("/signin", SignIn);
        group.MapGet("/signed-in", SignedIn);
        group.MapGet("/choose", ChooseForm);
        group.MapPost("/choose", Choose);
    }

    public static void Protect(IHeaderDictionary headers, string formTargets)
    {
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        headers.ContentSecurityPolicy =
            $"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action {formTargets}; frame-ancestors 'none'; base-uri 'none'";
    }

    /// <summary>
    /// Where a form may lead: here, and to the identity provider, since signing out redirects the
    /// logout form there (browsers apply form-action to a form's redirects too).
    /// </summary>
    public static string FormTargets(OidcOptions oidc) =>
        oidc.Enabled && Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority)
            ? "'self' " + authority.GetLeftPart(UriPartial.Authority)
            : "'self'";

    /// <summary>A page for a session that has its tenant; else the login form, or the choice of a tenant. Never data without one.</summary>
    private static async ValueTask<object?> RequireTenantSessionAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var session = await http.AuthenticateAsync(Sessions.Manager);
        if (!session.Succeeded)
        {
            return TypedResults.Redirect(LoginPath);
        }

        http.User = session.Principal!;
        return http.Items[typeof(Tenant)] is Tenant ? await next(invocation) : TypedResults.Redirect(ChoosePath);
    }

    /// <param name="mois">The month of the usage section, <c>YYYY-MM</c> (UTC); without it, the current one.</param>
    private static async Task<IResult> Page(
        string? from, string? to, string? mois, HttpContext http, DashboardData data, AuditTrail audit, CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        string? problem = null;
        var period = data.DefaultPeriod(tenant.Settings.Zone);
        var periodChosen = false;
        if (from is not null || to is not null)
        {
            var errors = new FieldErrors();
            if (NoShowQuery.Parse(from, to, "week", errors) is { } chosen)
            {
                period = chosen;
                periodChosen = true;
            }
            else
            {
                problem = Copy.InvalidPeriod(NoShowQuery.MaxYears);
            }
        }

        var month = data.CurrentMonth();
        string? monthProblem = null;
        if (mois is not null)
        {
            // A month to come has nothing to show; before 2000 or not YYYY-MM is a mistyped address.
            if (UsageCounters.TryParseMonth(mois, out var chosen) && chosen <= month)
            {
                month = chosen;
            }
            else
            {
                monthProblem = Copy.InvalidMonth;
            }
        }

        var loaded = await data.LoadAsync(tenant, period, month, cancellationToken);
        var view = loaded with { Usage = loaded.Usage! with { Problem = monthProblem, PeriodChosen = periodChosen } };
        if (view.Failures.Count > 0)
        {
            // The failures list is personal data (masked phones, appointment ids): who saw it is kept.
            await audit.WriteAsync(tenant.Id, AuditTrail.Actions.ViewFailures, SessionClaims.Actor(http.User), http.RemoteAddress(),
                $"{view.Failures.Count} failures shown", cancellationToken);
        }

        var person = http.User.FindFirstValue(SessionClaims.Kind) == SessionClaims.Person ? http.User.FindFirstValue(SessionClaims.Email) : null;
        return Pages.Dashboard(view, problem, person);
    }

    private static async Task<IResult> Export(
        string? from, string? to, string? by, HttpContext http, DashboardData data, NoShowStatistics statistics, AuditTrail audit,
        CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        var errors = new FieldErrors();
        var query = from is null && to is null
            ? data.DefaultPeriod(tenant.Settings.Zone, string.IsNullOrEmpty(by) ? "week" : by)
            : NoShowQuery.Parse(from, to, by, errors);
        if (query is null || !NoShowQuery.Breakdowns.Contains(query.By, StringComparer.Ordinal))
        {
            if (query is not null)
            {
                errors.Add("by", $"Must be one of: {string.Join(", ", NoShowQuery.Breakdowns)}.");
            }

            return errors.ToResult();
        }

        var stats = await statistics.ComputeAsync(tenant.Id, query, cancellationToken);
        await audit.WriteAsync(tenant.Id, AuditTrail.Actions.ExportCsv, SessionClaims.Actor(http.User), http.RemoteAddress(),
            $"by={query.By} from={NoShowQuery.Format(query.From)} to={NoShowQuery.Format(query.To)}", cancellationToken);
        return TypedResults.File(CsvExport.Write(stats), "text/csv; charset=utf-8", CsvExport.FileName(stats));
    }

    private static async Task<IResult> Login(
        HttpContext http, TenantCache tenants, AuditTrail audit, IOptions<PublicOptions> publicOptions, IOptions<OidcOptions> oidc,
        CancellationToken cancellationToken)
    {
        if (!SameOrigin.IsSameOrigin(http.Request, publicOptions.Value.PublicBaseUrl))
        {
            return CrossSite();
        }

        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(cancellationToken) : null;
        var key = form?["key"].ToString().Trim() ?? "";
        // The same check as the key handler's, through the same cache: the slug in the key finds the tenant, the hash must match.
        var role = KeyRole.Manager;
        var known = key.Length is 0 or > 256 || !TenantSecrets.TryReadSlug(key, out role, out var slug)
            ? null
            : await tenants.FindAsync(slug, key, t => TenantSecrets.Matches(key, role == KeyRole.Api ? t.ApiKeyHash : t.ManagerKeyHash), cancellationToken);
        if (known is null)
        {
            return Pages.Login(Copy.UnknownKey, oidc.Value.Enabled, FailedLogins.Record(http, "dashboard"));
        }

        var claims = Sessions.KeyLoginClaims(known.Tenant.Slug, role, role == KeyRole.Api ? known.ApiKeyHash : known.ManagerKeyHash);
        await Sessions.SignInManagerAsync(http, claims, idToken: null);
        await audit.WriteAsync(known.Tenant.Id, AuditTrail.Actions.SignIn, role == KeyRole.Api ? "apiKey" : "managerKey", http.RemoteAddress(),
            "key", cancellationToken);
        return TypedResults.Redirect(Path);
    }

    private static async Task<IResult> Logout(HttpContext http, IOptions<PublicOptions> publicOptions, IOptions<OidcOptions> oidc)
    {
        if (!SameOrigin.IsSameOrigin(http.Request, publicOptions.Value.PublicBaseUrl))
        {
            return CrossSite();
        }

        var session = await http.AuthenticateAsync(Sessions.Manager);
        var idToken = session.Properties?.GetTokenValue("id_token");
        await http.SignOutAsync(Sessions.Manager);
        if (idToken is null || !oidc.Value.Enabled)
        {
            return TypedResults.Redirect(LoginPath);
        }

        // Signed in at the provider too: end that session there, which sends the browser back to the login page.
        http.Items[OidcSignIn.IdTokenItem] = idToken;
        return TypedResults.SignOut(new AuthenticationProperties { RedirectUri = LoginPath }, [Sessions.Oidc]);
    }

    private static IResult SignIn(IOptions<OidcOptions> oidc) =>
        oidc.Value.Enabled
            ? TypedResults.Challenge(new AuthenticationProperties { RedirectUri = Path + "/signed-in" }, [Sessions.Oidc])
            : TypedResults.Redirect(LoginPath);

    /// <summary>Back from the provider: a session for the tenant this person manages, the choice among several, or a polite refusal.</summary>
    private static async Task<IResult> SignedIn(HttpContext http, DashboardData data, AuditTrail audit, CancellationToken cancellationToken)
    {
        if (await OidcSignIn.TakeIdentityAsync(http) is not { } identity)
        {
            return TypedResults.Redirect(LoginPath);
        }

        if (identity.Email is not { } email)
        {
            FailedLogins.Record(http, "dashboard-unverified");
            await audit.WriteAsync(null, AuditTrail.Actions.SignInRefused, identity.Received, http.RemoteAddress(), identity.Refusal, cancellationToken);
            return Refused(identity.Received, Copy.UnverifiedIntro);
        }

        var idToken = identity.IdToken;

        var managed = await data.ManagedByAsync(email, cancellationToken);
        switch (managed.Count)
        {
            case 0:
                FailedLogins.Record(http, "dashboard-not-a-manager");
                await audit.WriteAsync(null, AuditTrail.Actions.SignInRefused, email, http.RemoteAddress(), "in no managers list", cancellationToken);
                return Refused(email);
            case 1:
                await Sessions.SignInManagerAsync(http, Sessions.PersonClaims(email, managed[0].Slug), idToken);
                await audit.WriteAsync(managed[0].Id, AuditTrail.Actions.SignIn, email, http.RemoteAddress(), "oidc", cancellationToken);
                // A page, not a redirect: the browser is still on the provider's redirect, a cross-site navigation that would
                // not carry the SameSite=Strict session cookie; this page's own navigation does.
                return Pages.Message(Copy.SignedInTitle, link: Path, linkText: Copy.Continue, refreshTo: Path);
            default:
                await Sessions.SignInManagerAsync(http, Sessions.PersonClaims(email, slug: null), idToken);
                return Pages.Choose(managed);
        }
    }

    private static async Task<IResult> ChooseForm(HttpContext http, DashboardData data, CancellationToken cancellationToken)
    {
        var session = await http.AuthenticateAsync(Sessions.Manager);
        return session.Principal?.FindFirstValue(SessionClaims.Email) is { } email
            ? Pages.Choose(await data.ManagedByAsync(email, cancellationToken))
            : TypedResults.Redirect(LoginPath);
    }

    private static async Task<IResult> Choose(
        HttpContext http, TenantCache tenants, AuditTrail audit, IOptions<PublicOptions> publicOptions, CancellationToken cancellationToken)
    {
        if (!SameOrigin.IsSameOrigin(http.Request, publicOptions.Value.PublicBaseUrl))
        {
            return CrossSite();
        }

        var session = await http.AuthenticateAsync(Sessions.Manager);
        if (session.Principal?.FindFirstValue(SessionClaims.Email) is not { } email)
        {
            return TypedResults.Redirect(LoginPath);
        }

        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(cancellationToken) : null;
        var slug = form?["tenant"].ToString() ?? "";
        var known = slug.Length is 0 or > 64 ? null : await tenants.FindAsync(slug, t => t.Tenant.Settings.IsManager(email), cancellationToken);
        if (known is null)
        {
            return Refused(email);
        }

        await Sessions.SignInManagerAsync(http, Sessions.PersonClaims(email, known.Tenant.Slug), session.Properties?.GetTokenValue("id_token"));
        await audit.WriteAsync(known.Tenant.Id, AuditTrail.Actions.SignIn, email, http.RemoteAddress(), "oidc", cancellationToken);
        return TypedResults.Redirect(Path);
    }

    private static IResult Refused(string email, string intro = Copy.RefusedIntro) =>
        Pages.Message(Copy.RefusedTitle, [intro, $"Adresse reçue du fournisseur d'identité : {email}.", Copy.RefusedWhatToDo],
            link: LoginPath, linkText: Copy.BackToLogin, status: StatusCodes.Status403Forbidden);

    private static IResult CrossSite() =>
        Problems.Problem(StatusCodes.Status403Forbidden, "Cross-site form", "This form can only be posted from the dashboard's own pages.");
}
