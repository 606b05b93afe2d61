using System.Security.Claims;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Api.Stats;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Dashboard;

/// <summary>
/// <c>/dashboard</c>: the managers' page, its CSV export, and the login that puts the manager key
/// (or the apiKey) in the <c>rappel_manager</c> cookie, which the tenant key handler reads.
/// </summary>
/// <remarks>
/// The key never appears in a URL: it is POSTed once and then lives in an HttpOnly cookie,
/// SameSite=Strict, scoped to <c>/dashboard</c> (so it never reaches the <c>/v1</c> API), Secure
/// over https. Forms are protected from cross-site posting by <see cref="SameOrigin"/> rather
/// than antiforgery tokens, which would need Data Protection keys shared by every Api process.
/// </remarks>
internal static class DashboardEndpoints
{
    public static readonly TimeSpan CookieLifetime = TimeSpan.FromHours(12);

    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dashboard")
            .WithTags("Dashboard (managers)")
            .ExcludeFromDescription()
            .AddEndpointFilter(async (context, next) =>
            {
                // Personal data (masked phones) and a tenant's figures: nothing cached, nothing framed.
                var headers = context.HttpContext.Response.Headers;
                headers.CacheControl = "no-store";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "same-origin";
                headers.ContentSecurityPolicy =
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
                return await next(context);
            });

        group.MapGet("/", Page);
        group.MapGet("/export.csv", Export);
        group.MapGet("/login", () => LoginPage(null, StatusCodes.Status200OK));
        group.MapPost("/login", Login);
        group.MapPost("/logout", Logout);
    }

    private static async Task<IResult> Page(
        string? from, string? to, ClaimsPrincipal user, TenantDirectory tenants, DashboardData data, CancellationToken cancellationToken)
    {
        if (!IsManager(user))
        {
            return ToLogin();
        }

        var tenant = (await tenants.FindAsync(user.TenantId(), cancellationToken))!;
        string? problem = null;
        var period = data.DefaultPeriod(tenant.Settings.Zone);
        if (from is not null || to is not null)
        {
            var errors = new FieldErrors();
            if (NoShowQuery.Parse(from, to, "week", errors) is { } chosen)
            {
                period = chosen;
            }
            else
            {
                problem = $"Période invalide : choisissez deux dates, la seconde après la première, sur {NoShowQuery.MaxYears} ans au plus. " +
                    "La période par défaut est affichée.";
            }
        }

        var view = await data.LoadAsync(tenant, period, cancellationToken);
        return TypedResults.Content(DashboardPage.Render(view, problem), "text/html; charset=utf-8");
    }

    private static async Task<IResult> Export(
        string? from, string? to, string? by, ClaimsPrincipal user, TenantDirectory tenants, DashboardData data, NoShowStatistics statistics,
        CancellationToken cancellationToken)
    {
        if (!IsManager(user))
        {
            return ToLogin();
        }

        var tenant = (await tenants.FindAsync(user.TenantId(), cancellationToken))!;
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
        return TypedResults.File(CsvExport.Write(stats), "text/csv; charset=utf-8", CsvExport.FileName(stats));
    }

    private static async Task<IResult> Login(
        HttpContext context, NpgsqlDataSource db, IOptions<PublicOptions> publicOptions, CancellationToken cancellationToken)
    {
        if (!SameOrigin.IsSameOrigin(context.Request, publicOptions.Value.PublicBaseUrl))
        {
            return CrossSite();
        }

        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(cancellationToken) : null;
        var key = form?["key"].ToString().Trim() ?? "";
        if (key.Length is 0 or > 256 || !await IsTenantKeyAsync(db, key, cancellationToken))
        {
            return LoginPage("Clé inconnue. Vérifiez-la (elle commence par rrm_ ou rra_) ou demandez-en une nouvelle à l'opérateur.",
                StatusCodes.Status401Unauthorized);
        }

        context.Response.Cookies.Append(ManagerCookie.Name, key, CookieOptions(context.Request, publicOptions.Value.PublicBaseUrl));
        return TypedResults.Redirect("/dashboard");
    }

    private static IResult Logout(HttpContext context, IOptions<PublicOptions> publicOptions)
    {
        if (!SameOrigin.IsSameOrigin(context.Request, publicOptions.Value.PublicBaseUrl))
        {
            return CrossSite();
        }

        context.Response.Cookies.Delete(ManagerCookie.Name, CookieOptions(context.Request, publicOptions.Value.PublicBaseUrl));
        return TypedResults.Redirect("/dashboard/login");
    }

    private static CookieOptions CookieOptions(HttpRequest request, string publicBaseUrl) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        // Behind a TLS-terminating proxy the request itself is http: the public URL says how browsers reach us.
        Secure = request.IsHttps || publicBaseUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase),
        Path = "/dashboard",
        MaxAge = CookieLifetime,
        IsEssential = true,
    };

    private static bool IsManager(ClaimsPrincipal user) =>
        user.FindFirst(TenantClaims.Role)?.Value is "manager" or "api";

    // Without a valid cookie: the login form, never data.
    private static IResult ToLogin() => TypedResults.Redirect("/dashboard/login");

    private static IResult LoginPage(string? problem, int status) =>
        TypedResults.Content(DashboardPage.Login(problem), "text/html; charset=utf-8", statusCode: status);

    private static IResult CrossSite() =>
        Problems.Problem(StatusCodes.Status403Forbidden, "Cross-site form", "This form can only be posted from the dashboard's own pages.");

    /// <summary>The same check as the tenant key handler's: the slug in the key finds the tenant, the hash must match.</summary>
    private static async Task<bool> IsTenantKeyAsync(NpgsqlDataSource db, string key, CancellationToken cancellationToken)
    {
        if (!TenantSecrets.TryReadSlug(key, out var role, out var slug))
        {
            return false;
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var hash = await connection.ExecuteScalarAsync<byte[]?>(new CommandDefinition(
            role == KeyRole.Api
                ? "select api_key_hash from tenants where slug = @slug"
                : "select manager_key_hash from tenants where slug = @slug",
            new { slug }, cancellationToken: cancellationToken));
        return hash is not null && TenantSecrets.Matches(key, hash);
    }
}
