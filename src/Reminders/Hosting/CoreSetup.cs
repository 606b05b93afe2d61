using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Twilio;

namespace RappelRdv.Reminders.Hosting;

/// <summary>
/// What the Api and the Worker both run, registered in one place: the options every host reads
/// (bound once, validated at start so that a bad setting stops the host with its key's name), the
/// clock, the database and its migration, tenants, appointments and Twilio's callback URLs.
/// Each host then adds only what is its own (HTTP for the Api, Hangfire's server for the Worker).
/// </summary>
public static class CoreSetup
{
    public static IHostApplicationBuilder AddRappelCore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRappelCore(builder.Configuration, builder.Environment.IsDevelopment());
        return builder;
    }

    /// <param name="isDevelopment">Development allows private webhook addresses unless <c>Webhooks__AllowPrivateNetworks</c> says otherwise.</param>
    public static IServiceCollection AddRappelCore(this IServiceCollection services, IConfiguration configuration, bool isDevelopment)
    {
        // Migrations first: hosted services start in the order they were added, and everything else needs the schema.
        services.AddHostedService<MigrationService>();
        // Tests register a FakeTimeProvider before this; nothing here replaces it.
        services.TryAddSingleton(TimeProvider.System);
        services.AddRappelDatabase(configuration);

        services.AddOptions<PublicOptions>().Bind(configuration).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new WebhookPolicy(sp.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowPrivateNetworks ?? isDevelopment));
        services.AddOptions<TwilioOptions>()
            .BindConfiguration(TwilioOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Both hosts use the prices and the balance's settings: the Api for amounts and /metrics, the Worker for the balance.
        services.AddOptions<Budgets.BillingOptions>().BindConfiguration(Budgets.BillingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new CallbackUrls(
            sp.GetRequiredService<IOptions<PublicOptions>>().Value.BaseUri(),
            sp.GetRequiredService<IOptions<TwilioOptions>>().Value.AuthToken ?? "simulated"));

        services.AddSingleton<TenantDirectory>();
        services.AddSingleton<AppointmentStore>();
        services.AddSingleton(sp => new RdvSolidarites.RdvSolidaritesSecrets(sp.GetRequiredService<IConfiguration>()));
        return services;
    }
}
