using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using Microsoft.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace RappelRdv.Api.Tests.Oidc;

/// <summary>
/// A real OpenID Connect provider (OpenIddict 7), on a loopback port, for the dashboard's sign-in tests:
/// discovery, authorization code with PKCE, token, userinfo (where ProConnect gives the e-mail) and
/// end session. Its "login page" is a form that asks for the e-mail to sign in as. It checks the
/// client id, secret and redirect URIs as a registered provider would (degraded mode: no database).
/// </summary>
public sealed class TestOpenIdProvider : IAsyncDisposable
{
    public const string ClientId = "rappel-test";
    public const string ClientSecret = "rappel-test-secret-0123456789";

    private readonly WebApplication app;

    private TestOpenIdProvider(WebApplication app) => this.app = app;

    public string Authority { get; private set; } = "";

    /// <summary>The Api's public address: what the redirect URIs must start with.</summary>
    public string ClientBaseUrl { get; set; } = "";

    /// <summary>When set, the next token response carries an id_token whose payload was altered after signing.</summary>
    public bool TamperWithNextIdToken { get; set; }

    /// <summary>
    /// What the next sign-in says of its address: <c>true</c> when null (a provider that checked it),
    /// <c>false</c>, or nothing at all (<c>"missing"</c>). Taken by that sign-in.
    /// </summary>
    public string? NextEmailVerified { get; set; }

    /// <summary>Each end-session request the provider honoured (the e-mail of its id_token_hint).</summary>
    public ConcurrentQueue<string> EndedSessions { get; } = new();

    public static async Task<TestOpenIdProvider> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        TestOpenIdProvider? provider = null;
        builder.Services.AddOpenIddict().AddServer(options =>
        {
            options.SetAuthorizationEndpointUris("connect/authorize")
                .SetTokenEndpointUris("connect/token")
                .SetUserInfoEndpointUris("connect/userinfo")
                .SetEndSessionEndpointUris("connect/endsession");
            options.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            options.RegisterScopes(Scopes.OpenId, Scopes.Email);
            options.AddEphemeralEncryptionKey().AddEphemeralSigningKey().DisableAccessTokenEncryption();
            options.EnableDegradedMode().DisableTokenStorage().DisableAuthorizationStorage();
            options.UseAspNetCore()
                .EnableAuthorizationEndpointPassthrough()
                .EnableUserInfoEndpointPassthrough()
                .EnableEndSessionEndpointPassthrough()
                .DisableTransportSecurityRequirement();

            // What a registered provider checks; the degraded mode leaves it to us.
            options.AddEventHandler<OpenIddictServerEvents.ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId)
                {
                    context.Reject(Errors.InvalidClient, "Unknown client.");
                }
                else if (context.RedirectUri != provider!.ClientBaseUrl + "/signin-oidc")
                {
                    context.Reject(Errors.InvalidRequest, "Unregistered redirect_uri.");
                }

                return default;
            }));
            options.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.ClientSecret != ClientSecret)
                {
                    context.Reject(Errors.InvalidClient, "Wrong client credentials.");
                }

                return default;
            }));
            options.AddEventHandler<OpenIddictServerEvents.ValidateEndSessionRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.PostLogoutRedirectUri is { } uri && uri != provider!.ClientBaseUrl + "/signout-callback-oidc")
                {
                    context.Reject(Errors.InvalidRequest, "Unregistered post_logout_redirect_uri.");
                }

                return default;
            }));
            options.AddEventHandler<OpenIddictServerEvents.ApplyTokenResponseContext>(handler => handler
                .UseInlineHandler(context =>
                {
                    if (provider!.TamperWithNextIdToken && context.Response.IdToken is { } idToken)
                    {
                        provider.TamperWithNextIdToken = false;
                        var parts = idToken.Split('.');
                        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
                        parts[1] = Base64UrlEncoder.Encode(payload.Replace("agent@var.fr", "chef@var.fr", StringComparison.Ordinal));
                        context.Response.IdToken = string.Join('.', parts);
                    }

                    return default;
                })
                .SetOrder(int.MinValue + 100_000));
        });

        var app = builder.Build();
        provider = new TestOpenIdProvider(app);
        app.MapMethods("/connect/authorize", [HttpMethods.Get], (HttpContext http) => Authorize(http, provider));
        app.MapMethods("/connect/userinfo", [HttpMethods.Get, HttpMethods.Post], (Delegate)UserInfoAsync);
        app.MapMethods("/connect/endsession", [HttpMethods.Get, HttpMethods.Post], (Delegate)provider.EndSessionAsync);
        await app.StartAsync();
        provider.Authority = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return provider;
    }

    /// <summary>The provider's login page: without an e-mail, a form asking for one; with it, the code goes back to the client.</summary>
    private static IResult Authorize(HttpContext http, TestOpenIdProvider provider)
    {
        var request = http.GetOpenIddictServerRequest()!;
        var email = http.Request.Query["login_email"].ToString();
        if (email.Length == 0)
        {
            var hidden = string.Concat(http.Request.Query.Select(p =>
                $"<input type=\"hidden\" name=\"{WebUtility.HtmlEncode(p.Key)}\" value=\"{WebUtility.HtmlEncode(p.Value.ToString())}\">"));
            return Results.Content(
                $"""
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider</title></head><body><main><h1>Test provider</h1>
                <form method="get" action="/connect/authorize">{hidden}<label for="login_email">E-mail</label>
                <input id="login_email" name="login_email" type="email"><button type="submit">Sign in</button></form></main></body></html>
                """, "text/html");
        }

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, "sub-" + email).SetClaim(Claims.Email, email);
        switch (provider.NextEmailVerified)
        {
            case "missing":
                break;
            case "false":
                identity.SetClaim(Claims.EmailVerified, false);
                break;
            default:
                identity.SetClaim(Claims.EmailVerified, true);
                break;
        }

        provider.NextEmailVerified = null;
        identity.SetScopes(request.GetScopes());
        // The e-mail in the id_token and in userinfo, as most providers do (ProConnect: userinfo only).
        identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<IResult> UserInfoAsync(HttpContext http)
    {
        var principal = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal!;
        var answer = new Dictionary<string, object?>
        {
            [Claims.Subject] = principal.GetClaim(Claims.Subject),
            [Claims.Email] = principal.GetClaim(Claims.Email),
        };
        if (principal.GetClaim(Claims.EmailVerified) is { } verified)
        {
            answer[Claims.EmailVerified] = bool.Parse(verified);   // a JSON boolean, as providers send it
        }

        return Results.Json(answer);
    }

    private async Task<IResult> EndSessionAsync(HttpContext http)
    {
        var hint = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        EndedSessions.Enqueue(hint?.GetClaim(Claims.Email) ?? "");
        return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
