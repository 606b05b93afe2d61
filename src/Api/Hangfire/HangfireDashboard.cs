using System.Text.Encodings.Web;
using System.Text.Unicode;
using Hangfire;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Reminders.Database;

namespace RappelRdv.Api.Hangfire;

/// <summary>
/// Hangfire's dashboard at <c>/hangfire</c>, for the operator only. The Api reads Hangfire's storage
/// (the Worker's tables) but runs no Hangfire server: it never executes a job.
/// A browser signs in once at <c>/hangfire/login</c> with the admin key and gets a cookie; a script
/// sends <c>Authorization: Bearer &lt;admin key&gt;</c>. Nobody else gets in (<see cref="OperatorOnlyFilter"/>).
/// </summary>
internal static class HangfireDashboard
{
    public const string Path = "/hangfire";
    public const string LoginPath = "/hangfire/login";
    public const string LogoutPath = "/hangfire/logout";

    public static void AddHangfireForOperators(this WebApplicationBuilder builder)
    {
        // The Worker's storage and serializer settings, so that the dashboard reads the jobs the
        // Worker writes. No AddHangfireServer: the Api runs no job.
        builder.Services.AddRappelHangfire(builder.Configuration);
    }

    public static void MapHangfireForOperators(this WebApplication app)
    {
        var login = app.MapGroup(Path).ExcludeFromDescription().AllowAnonymous();
        login.MapGet("/login", (string? returnUrl) => LoginPage(StatusCodes.Status200OK, SafeReturnUrl(returnUrl), error: null));
        login.MapPost("/login", SignInAsync);
        login.MapPost("/logout", (HttpContext http) =>
        {
            http.Response.Cookies.Delete(OperatorCookie.Name, new CookieOptions { Path = Path });
            return TypedResults.Redirect(LoginPath);
        });

        // A browser without the cookie is sent to the login form; anything else that is refused
        // gets Hangfire's own 401 from the filter below.
        app.UseWhen(
            http => http.Request.Path.StartsWithSegments(Path)
                && !http.Request.Path.StartsWithSegments(LoginPath)
                && !http.Request.Path.StartsWithSegments(LogoutPath),
            branch => branch.Use(async (http, next) =>
            {
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
        }).ExcludeFromDescription();
    }

    private static async Task<IResult> SignInAsync(HttpContext http, IConfiguration configuration, TimeProvider clock, ILoggerFactory loggers)
    {
        // Read by hand rather than bound with [FromForm]: form binding would ask for antiforgery,
        // which SameSite=Strict and a key the attacker does not know make moot here.
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        var key = form?["key"].ToString() ?? "";
        var returnUrl = SafeReturnUrl(form?["returnUrl"].ToString());
        var adminKey = OperatorAccess.AdminKey(http);
        if (key.Length == 0 || !Reminders.Tenants.TenantSecrets.AdminKeyMatches(key, adminKey))
        {
            loggers.CreateLogger(typeof(HangfireDashboard)).LogWarning("Refused a sign-in to the Hangfire dashboard from {RemoteIp}", http.Connection.RemoteIpAddress);
            return LoginPage(StatusCodes.Status401Unauthorized, returnUrl, "Clé refusée.");
        }

        var now = clock.GetUtcNow();
        http.Response.Cookies.Append(OperatorCookie.Name, OperatorCookie.Issue(adminKey, now), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            // Behind a proxy that ends TLS the request looks like http: PublicBaseUrl tells the truth.
            Secure = http.Request.IsHttps || (configuration["PublicBaseUrl"]?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ?? false),
            Path = Path,
            Expires = now + OperatorCookie.Lifetime,
            IsEssential = true,
        });
        return TypedResults.Redirect(returnUrl);
    }

    private static bool WantsHtml(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>Only back into the dashboard: never an open redirect.</summary>
    private static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url.StartsWith(Path, StringComparison.Ordinal) && !url.StartsWith(LoginPath, StringComparison.Ordinal)
            && !url.Contains("//", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal)
            ? url
            : Path;

    private static IResult LoginPage(int status, string returnUrl, string? error)
    {
        // Accented letters as they are; markup characters encoded.
        var html = HtmlEncoder.Create(UnicodeRanges.All);
        var message = error is null ? "" : $"""<p class="error" role="alert">{html.Encode(error)}</p>""";
        var page = $$"""
            <!doctype html>
            <html lang="fr">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <meta name="robots" content="noindex">
              <title>RappelRdv — accès opérateur</title>
              <style>
                body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; color: #1e1e1e; }
                label, input, button { display: block; width: 100%; box-sizing: border-box; font-size: 1rem; }
                input { margin: .5rem 0 1rem; padding: .5rem; }
                button { padding: .6rem; background: #000091; color: #fff; border: 0; cursor: pointer; }
                .error { color: #ce0500; font-weight: bold; }
              </style>
            </head>
            <body>
              <h1>Tâches Hangfire</h1>
              <p>Réservé à l'opérateur du service : saisissez la clé d'administration (<code>Admin__ApiKey</code>).</p>
              {{message}}
              <form method="post" action="{{LoginPath}}">
                <input type="hidden" name="returnUrl" value="{{html.Encode(returnUrl)}}">
                <label for="key">Clé d'administration</label>
                <input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
                <button type="submit">Se connecter</button>
              </form>
            </body>
            </html>
            """;
        return TypedResults.Text(page, "text/html; charset=utf-8", statusCode: status);
    }
}
