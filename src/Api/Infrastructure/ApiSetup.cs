using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Twilio;
using RappelRdv.Api.Tenants;
using RappelRdv.Api.Twilio;
using Microsoft.Extensions.Options;
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
            builder.WebHost.UseUrls("http://127.0.0.1:5080");
        }

        builder.AddRequestLimits();
        services.AddSingleton<AuthFailureLimiter>();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PublicOptions>().Bind(builder.Configuration).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddRappelDatabase(builder.Configuration);
        services.AddProblemDetails();
        services.AddOpenApi();
        services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));

        services.AddAuthentication(TenantKeyAuthentication.Name)
            .AddScheme<AuthenticationSchemeOptions, TenantKeyAuthentication>(TenantKeyAuthentication.Name, null)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthentication>(AdminKeyAuthentication.Name, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Agenda, p => p.AddAuthenticationSchemes(TenantKeyAuthentication.Name).RequireClaim(TenantClaims.Role, "api"))
            .AddPolicy(Policies.Manager, p => p.AddAuthenticationSchemes(TenantKeyAuthentication.Name).RequireClaim(TenantClaims.Role, "api", "manager"))
            .AddPolicy(Policies.Admin, p => p.AddAuthenticationSchemes(AdminKeyAuthentication.Name).RequireAuthenticatedUser());

        services.AddOptions<TwilioOptions>().BindConfiguration(TwilioOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TwilioSignatureFilter>();
        services.AddSingleton(sp => new CallbackUrls(
            new Uri(sp.GetRequiredService<IOptions<PublicOptions>>().Value.PublicBaseUrl),
            sp.GetRequiredService<IOptions<TwilioOptions>>().Value.AuthToken ?? "simulated"));
        services.AddSingleton(new WebhookPolicy(
            builder.Configuration.GetValue<bool?>("Webhooks:AllowPrivateNetworks") ?? builder.Environment.IsDevelopment()));
        services.AddSingleton<TenantDirectory>();
        services.AddSingleton<TenantCache>();
        services.AddHostedService<TenantChangeListener>();
        services.AddSingleton<AppointmentStore>();
        services.AddSingleton<RappelRdv.Api.Replies.ReplyHandler>();
        services.AddHostedService<MigrationService>();
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
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
        app.MapOpenApi("/openapi/{documentName}.json");
    }
}

internal static class Policies
{
    public const string Agenda = "agenda";
    public const string Manager = "manager";
    public const string Admin = "admin";
}
