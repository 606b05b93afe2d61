using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using OpenTelemetry.Trace;
using RappelRdv.Api.OpenApi;
using RappelRdv.Api.Tenants;
using RappelRdv.Api.Twilio;
using RappelRdv.Reminders.Hosting;
using RappelRdv.Reminders.Telemetry;
using RappelRdv.Reminders.Tenants;
using Serilog;

namespace RappelRdv.Api.Infrastructure;

internal static class ApiSetup
{
    public static void AddRappelApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // The contract's default address; ASPNETCORE_URLS (or --urls) overrides it.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(PublicOptions.DefaultBaseUrl);
        }

        // What the Worker runs too (options, database, migration, tenants, appointments), then the Api's own part.
        builder.AddRappelCore();
        // Traces: the engine's, and this host's requests (probes and scrapes aside).
        builder.AddRappelTelemetry(RappelTelemetry.ApiService, tracing => tracing.AddAspNetCoreInstrumentation(o =>
        {
            o.RecordException = false;
            o.Filter = context => !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments("/metrics");
        }));
        builder.AddRequestLimits();
        services.AddSingleton<AuthFailureLimiter>();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddProblemDetails();
        services.AddExceptionHandler<DatabaseUnavailable>();
        services.AddRappelOpenApi();
        services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));

        // No default scheme: a handler runs only for an endpoint whose policy names it (Policies below),
        // never for every request (a key sent to /health or /twilio would cost a look-up, uncounted).
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, TenantKeyAuthentication>(TenantKeyAuthentication.Name, null)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthentication>(AdminKeyAuthentication.Name, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Agenda, p => p.AddAuthenticationSchemes(TenantKeyAuthentication.Name).RequireClaim(TenantClaims.Role, "api"))
            .AddPolicy(Policies.Manager, p => p.AddAuthenticationSchemes(TenantKeyAuthentication.Name).RequireClaim(TenantClaims.Role, "api", "manager"))
            .AddPolicy(Policies.Admin, p => p.AddAuthenticationSchemes(AdminKeyAuthentication.Name).RequireAuthenticatedUser());

        services.AddSingleton<TwilioSignatureFilter>();
        services.AddSingleton<TenantCache>();
        services.AddHostedService<TenantChangeListener>();
        services.AddSingleton<RappelRdv.Reminders.Replies.CitizenAnswers>();
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        // A number is a JSON number: "30" for durationMinutes is refused, and the document says "integer", not "integer or string".
        options.NumberHandling = JsonNumberHandling.Strict;
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new RappelRdv.Contracts.UtcTimestampConverter());
    }

    public static void UseRappelApi(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // Bad input is never a 5xx: a body that cannot be read (too large, a form over its limits) is the caller's problem.
            StatusCodeSelector = exception => exception switch
            {
                BadHttpRequestException bad => bad.StatusCode,
                InvalidDataException => StatusCodes.Status400BadRequest,
                _ => StatusCodes.Status500InternalServerError,
            },
        });
        app.UseStatusCodePages();
        app.UseRequestLimits();
        app.UseSerilogRequestLogging(options =>
        {
            // Path only: query strings could carry anything a caller chose to put there.
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            // This host's logger, not the static one: several hosts can live in one process (tests).
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
        });
        app.UseAuthFailureLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRappelOpenApi();
    }
}

internal static class Policies
{
    public const string Agenda = "agenda";
    public const string Manager = "manager";
    public const string Admin = "admin";
}
