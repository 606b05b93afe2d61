using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Npgsql;
using RappelRdv.Api.Hangfire;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Api.Tenants;
using RappelRdv.Reminders.Hosting;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Dashboard;

/// <summary>What a session ticket says. Never a key: a key login is recorded as a stamp of the key's hash.</summary>
internal static class SessionClaims
{
    /// <summary><see cref="KeyLogin"/> or <see cref="Person"/>.</summary>
    public const string Kind = "session_kind";
    public const string KeyLogin = "key";
    public const string Person = "person";

    public const string Email = "email";
    public const string Slug = TenantClaims.Slug;

    /// <summary>For a key login: "manager" or "api", the key that was typed.</summary>
    public const string Role = TenantClaims.Role;

    /// <summary>For a key login: a digest of the key's stored hash; a rotated key no longer matches it.</summary>
    public const string KeyStamp = "key_stamp";

    public static string Stamp(byte[] secretOrHash) =>
        Convert.ToBase64String(SHA256.HashData([.. "rappel-session|"u8, .. secretOrHash]).AsSpan(0, 16));

    /// <summary>Who did it, for the audit trail: the person's e-mail, or which key was typed.</summary>
    public static string Actor(ClaimsPrincipal user) =>
        user.FindFirstValue(Kind) == Person
            ? user.FindFirstValue(Email) ?? "?"
            : user.FindFirstValue(Role) == "api" ? "apiKey" : user.FindFirstValue(Role) == "operator" ? "adminKey" : "managerKey";
}

/// <summary>
/// The browser sessions of the dashboard (<c>rappel_manager</c>, path <c>/dashboard</c>, 12 hours) and of
/// Hangfire (<c>rappel_operator</c>, path <c>/hangfire</c>, 8 hours): ASP.NET Core cookie authentication,
/// tickets signed and encrypted with Data Protection keys kept in PostgreSQL (any Api process reads
/// any cookie), an absolute expiry (no sliding), HttpOnly and SameSite=Strict, Secure when the
/// public address is https. Each request checks the ticket against the tenant again, through
/// <see cref="TenantCache"/>: a rotated key, or an e-mail taken off the <c>managers</c> list, ends the session.
/// With <c>Oidc__Authority</c> set, OpenID Connect signs people in (see <see cref="OidcSignIn"/>).
/// </summary>
internal static class Sessions
{
    public const string Manager = "DashboardSession";
    public const string Operator = "OperatorSession";

    /// <summary>The provider's answer, held for the one redirect between <c>/signin-oidc</c> and the page that opens a session.</summary>
    public const string External = "OidcExternal";
    public const string Oidc = "Oidc";

    public const string ManagerCookie = "rappel_manager";
    public const string OperatorCookie = "rappel_operator";

    public static readonly TimeSpan ManagerLifetime = TimeSpan.FromHours(12);
    public static readonly TimeSpan OperatorLifetime = TimeSpan.FromHours(8);

    public static void AddSessions(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddDataProtection().SetApplicationName("RappelRdv");
        services.AddOptions<KeyManagementOptions>().Configure<NpgsqlDataSource>((o, db) => o.XmlRepository = new PostgresKeyRepository(db));
        services.AddOptions<OidcOptions>().BindConfiguration(OidcOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        var authentication = services.AddAuthentication();
        authentication.AddCookie(Manager, o =>
        {
            Configure(o, ManagerCookie, DashboardEndpoints.Path, ManagerLifetime);
            o.Events.OnValidatePrincipal = ValidateManagerAsync;
        });
        authentication.AddCookie(Operator, o =>
        {
            Configure(o, OperatorCookie, HangfireDashboard.Path, OperatorLifetime);
            o.Events.OnValidatePrincipal = ValidateOperatorAsync;
        });
        foreach (var scheme in new[] { Manager, Operator })
        {
            services.AddOptions<CookieAuthenticationOptions>(scheme)
                .Configure<IOptions<PublicOptions>>((o, site) => o.Cookie.SecurePolicy = SecurePolicy(site.Value));
        }

        // Whether the sign-in scheme exists at all is decided before the container is built: the one setting read
        // here by key (OidcOptions.Enabled is the same test). Everything else of it comes from IOptions<OidcOptions>.
        if (!string.IsNullOrEmpty(builder.Configuration["Oidc:Authority"]))
        {
            OidcSignIn.Add(authentication, services, builder.Environment.IsDevelopment());
        }
    }

    /// <summary>Behind a proxy that ends TLS the request looks like http: the public address says how browsers reach us.</summary>
    internal static CookieSecurePolicy SecurePolicy(PublicOptions site) =>
        site.PublicBaseUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;

    private static void Configure(CookieAuthenticationOptions o, string name, string path, TimeSpan lifetime)
    {
        o.Cookie.Name = name;
        o.Cookie.Path = path;
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Strict;
        o.Cookie.IsEssential = true;
        // Max-Age rather than Expires: the browser counts it from now, whatever the server's clock says.
        o.Cookie.MaxAge = lifetime;
        o.ExpireTimeSpan = lifetime;
        o.SlidingExpiration = false;
        // The endpoints decide where a visitor without a session goes; nothing is redirected behind their back.
        o.Events.OnRedirectToLogin = context =>
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Task.CompletedTask;
        };
    }

    /// <summary>Signs a manager in: the key's stamp or the person's e-mail, and the tenant (none yet when a person still has to choose).</summary>
    public static Task SignInManagerAsync(HttpContext http, IEnumerable<Claim> claims, string? idToken)
    {
        var properties = new AuthenticationProperties { IsPersistent = false, AllowRefresh = false };
        if (idToken is not null)
        {
            // Only to sign out at the provider afterwards (id_token_hint); no access token is kept.
            properties.StoreTokens([new AuthenticationToken { Name = "id_token", Value = idToken }]);
        }

        return http.SignInAsync(Manager, new ClaimsPrincipal(new ClaimsIdentity(claims, Manager, SessionClaims.Email, SessionClaims.Role)), properties);
    }

    public static Claim[] KeyLoginClaims(string slug, KeyRole role, byte[] keyHash) =>
    [
        new(SessionClaims.Kind, SessionClaims.KeyLogin),
        new(SessionClaims.Slug, slug),
        new(SessionClaims.Role, role == KeyRole.Api ? "api" : "manager"),
        new(SessionClaims.KeyStamp, SessionClaims.Stamp(keyHash)),
    ];

    public static Claim[] PersonClaims(string email, string? slug) =>
        slug is null
            ? [new(SessionClaims.Kind, SessionClaims.Person), new(SessionClaims.Email, email)]
            : [new(SessionClaims.Kind, SessionClaims.Person), new(SessionClaims.Email, email), new(SessionClaims.Slug, slug)];

    /// <summary>
    /// The one place a dashboard session finds its tenant: <see cref="TenantCache"/>, as the key
    /// handler does; the tenant then rides in <c>HttpContext.Items</c> like a key-authenticated one.
    /// </summary>
    private static async Task ValidateManagerAsync(CookieValidatePrincipalContext context)
    {
        var user = context.Principal!;
        var slug = user.FindFirstValue(SessionClaims.Slug);
        var kind = user.FindFirstValue(SessionClaims.Kind);
        var email = user.FindFirstValue(SessionClaims.Email);
        if (kind == SessionClaims.Person && slug is null && email is not null)
        {
            return;   // signed in, tenant not chosen yet
        }

        var cache = context.HttpContext.RequestServices.GetRequiredService<TenantCache>();
        Func<TenantCache.KnownTenant, bool>? stillValid = kind switch
        {
            SessionClaims.KeyLogin when user.FindFirstValue(SessionClaims.KeyStamp) is { } stamp =>
                t => SessionClaims.Stamp(user.FindFirstValue(SessionClaims.Role) == "api" ? t.ApiKeyHash : t.ManagerKeyHash) == stamp,
            SessionClaims.Person when email is not null => t => t.Tenant.Settings.IsManager(email),
            _ => null,
        };
        var known = slug is null || stillValid is null ? null : await cache.FindAsync(slug, stillValid, context.HttpContext.RequestAborted);
        if (known is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Manager);
            return;
        }

        context.HttpContext.Items[typeof(Tenant)] = known.Tenant;
    }

    private static async Task ValidateOperatorAsync(CookieValidatePrincipalContext context)
    {
        var user = context.Principal!;
        var services = context.HttpContext.RequestServices;
        var valid = user.FindFirstValue(SessionClaims.Kind) switch
        {
            SessionClaims.KeyLogin => user.FindFirstValue(SessionClaims.KeyStamp)
                == SessionClaims.Stamp(Encoding.UTF8.GetBytes(services.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey)),
            SessionClaims.Person => user.FindFirstValue(SessionClaims.Email) is { } email
                && services.GetRequiredService<IOptions<OidcOptions>>().Value.IsOperator(email),
            _ => false,
        };
        if (!valid)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Operator);
        }
    }
}

/// <summary>
/// OpenID Connect (ProConnect or any certified provider): authorization code with PKCE (S256),
/// scopes <c>openid email</c> and <c>Oidc__Scopes</c>, callback <c>PublicBaseUrl/signin-oidc</c>, the
/// answer in the query string (a GET: the correlation and nonce cookies are then SameSite=Lax, not
/// None). The provider's identity lands in a short-lived cookie of its own (<see cref="Sessions.External"/>);
/// <c>/dashboard/signed-in</c> or <c>/hangfire/signed-in</c> turns it into a session, or into a refusal.
/// </summary>
internal static class OidcSignIn
{
    public const string CallbackPath = "/signin-oidc";
    public const string SignedOutCallbackPath = "/signout-callback-oidc";
    public const string ExternalCookie = "rappel_oidc";
    public const string IdTokenItem = "id_token";

    public static void Add(AuthenticationBuilder authentication, IServiceCollection services, bool development)
    {
        authentication.AddCookie(Sessions.External, o =>
        {
            o.Cookie.Name = ExternalCookie;
            o.Cookie.Path = "/";
            o.Cookie.HttpOnly = true;
            // Lax: it must ride along the provider's redirect back to us, a cross-site navigation.
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.MaxAge = TimeSpan.FromMinutes(10);
            o.ExpireTimeSpan = TimeSpan.FromMinutes(10);
            o.SlidingExpiration = false;
        });
        services.AddOptions<CookieAuthenticationOptions>(Sessions.External)
            .Configure<IOptions<PublicOptions>>((o, site) => o.Cookie.SecurePolicy = Sessions.SecurePolicy(site.Value));
        authentication.AddOpenIdConnect(Sessions.Oidc, o =>
        {
            o.ResponseType = OpenIdConnectResponseType.Code;
            o.ResponseMode = OpenIdConnectResponseMode.Query;
            o.UsePkce = true;
            o.Scope.Clear();
            o.Scope.Add("openid");
            o.Scope.Add("email");
            o.CallbackPath = CallbackPath;
            o.SignedOutCallbackPath = SignedOutCallbackPath;
            o.SignInScheme = Sessions.External;
            // ProConnect gives the e-mail from the userinfo endpoint (as a signed JWT), not in the id_token.
            o.GetClaimsFromUserInfoEndpoint = true;
            o.MapInboundClaims = false;
            o.SaveTokens = true;
            o.TokenValidationParameters.NameClaimType = "email";
            o.ClaimActions.MapUniqueJsonKey("usual_name", "usual_name");
            // Whether the provider checked the address: without it nobody is let in (TakeIdentityAsync).
            o.ClaimActions.MapUniqueJsonKey("email_verified", "email_verified");
            o.CorrelationCookie.SameSite = SameSiteMode.Lax;
            o.NonceCookie.SameSite = SameSiteMode.Lax;
            o.Events.OnRemoteFailure = context =>
            {
                // A wrong state, a replayed or altered code, a token that does not validate: no session, the login page says so.
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OidcSignIn))
                    .LogWarning("Refused an OpenID Connect sign-in from {RemoteIp}: {Reason}", context.HttpContext.Connection.RemoteIpAddress,
                        context.Failure?.Message);
                FailedLogins.Record(context.HttpContext, "oidc");
                context.Response.Redirect(DashboardEndpoints.Path + "/login?echec=oidc");
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });
        services.AddOptions<OpenIdConnectOptions>(Sessions.Oidc).Configure<IOptions<OidcOptions>, IOptions<PublicOptions>>((o, options, site) =>
        {
            var oidc = options.Value;
            var publicBaseUrl = site.Value.PublicBaseUrl.TrimEnd('/');
            o.Authority = oidc.Authority;
            o.ClientId = oidc.ClientId;
            o.ClientSecret = oidc.ClientSecret;
            o.RequireHttpsMetadata = oidc.RequireHttpsMetadata ?? !development;
            foreach (var scope in (oidc.Scopes ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                o.Scope.Add(scope);
            }

            var secure = Sessions.SecurePolicy(site.Value);
            o.CorrelationCookie.SecurePolicy = secure;
            o.NonceCookie.SecurePolicy = secure;
            o.Events.OnRedirectToIdentityProvider = context =>
            {
                // What the provider registered, also behind a proxy that rewrites the host.
                context.ProtocolMessage.RedirectUri = publicBaseUrl + CallbackPath;
                return Task.CompletedTask;
            };
            o.Events.OnRedirectToIdentityProviderForSignOut = context =>
            {
                context.ProtocolMessage.PostLogoutRedirectUri = publicBaseUrl + SignedOutCallbackPath;
                // Set by the logout endpoint from the session it just ended (kept out of the state parameter, which it would bloat).
                if (context.HttpContext.Items[IdTokenItem] is string idToken)
                {
                    context.ProtocolMessage.IdTokenHint = idToken;
                }

                return Task.CompletedTask;
            };
        });
    }

    /// <summary>
    /// The provider's answer, then forgets it; null without one. <see cref="ProviderIdentity.Email"/> is set only
    /// for an address the provider vouches for (<c>email_verified</c>), in the form every list is compared in
    /// (<see cref="EmailAddresses"/>); otherwise <see cref="ProviderIdentity.Refusal"/> says why.
    /// </summary>
    public static async Task<ProviderIdentity?> TakeIdentityAsync(HttpContext http)
    {
        var oidc = http.RequestServices.GetRequiredService<IOptions<OidcOptions>>().Value;
        if (!oidc.Enabled)
        {
            return null;   // no provider configured: its scheme does not even exist
        }

        var external = await http.AuthenticateAsync(Sessions.External);
        if (!external.Succeeded)
        {
            return null;
        }

        await http.SignOutAsync(Sessions.External);
        var received = external.Principal!.FindFirstValue("email")?.Trim();
        if (string.IsNullOrEmpty(received))
        {
            return null;
        }

        // Shown and audited as received, within reason: the provider's text, not ours.
        var shown = new string([.. received.Take(254).Select(c => char.IsControl(c) ? '?' : c)]);
        var idToken = external.Properties?.GetTokenValue("id_token");
        // From the id_token and from userinfo (both may say it); any "false" wins.
        var verified = external.Principal.FindAll("email_verified").Select(c => bool.TryParse(c.Value, out var v) ? v : (bool?)null).ToList();
        var refusal = verified.Any(v => v != true) ? "email_verified is false"
            : verified.Count == 0 && !oidc.AllowMissingEmailVerified ? "email_verified is missing"
            : null;
        var email = EmailAddresses.Normalize(received);
        if (refusal is null && email is null)
        {
            refusal = "not an e-mail address in a comparable form (non-ASCII local part, or a domain IDNA would fold)";
        }

        return new ProviderIdentity(refusal is null ? email : null, shown, idToken, refusal);
    }
}

/// <summary>Who the provider says signed in: <see cref="Email"/> (compared form) when it can be let in, else <see cref="Refusal"/>.</summary>
internal sealed record ProviderIdentity(string? Email, string Received, string? IdToken, string? Refusal);

/// <summary>
/// The one place a refused sign-in is recorded (a wrong key on the dashboard or Hangfire login, a
/// failed or refused OpenID Connect answer): the limit per client plugs in here.
/// </summary>
internal static class FailedLogins
{
    /// <summary>
    /// Logged, and counted by the limiter of failed authentications. Returns the status to answer:
    /// <paramref name="status"/>, or 429 (with <c>Retry-After</c> set) once the client failed more than 20 times a minute.
    /// </summary>
    public static int Record(HttpContext http, string where, int status = StatusCodes.Status401Unauthorized)
    {
        var tooMany = http.RequestServices.GetRequiredService<AuthFailureLimiter>().RecordFailure(http);
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FailedLogins))
            .LogWarning("Refused a sign-in ({Where}) from {RemoteIp}", where, http.Connection.RemoteIpAddress);
        if (tooMany is not { } retryAfter)
        {
            return status;
        }

        AuthFailureLimiter.SetRetryAfter(http, retryAfter);
        return StatusCodes.Status429TooManyRequests;
    }
}
