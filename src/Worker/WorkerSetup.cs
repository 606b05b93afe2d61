using Hangfire;
using Microsoft.Extensions.Options;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Twilio;
using RappelRdv.Worker.Dispatch;
using RappelRdv.Worker.Events;
using RappelRdv.Worker.Health;
using RappelRdv.Worker.Retention;

namespace RappelRdv.Worker;

internal static class WorkerSetup
{
    public static void AddRappelWorker(this HostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var connectionString = Database.GetConnectionString(configuration);
        var services = builder.Services;

        // Migrations first: Hangfire and the jobs below need the schema.
        services.AddHostedService<MigrationService>();
        services.AddSingleton(TimeProvider.System);
        services.AddReminderSending(configuration,
            allowPrivateWebhooks: configuration.GetValue<bool?>("Webhooks:AllowPrivateNetworks") ?? builder.Environment.IsDevelopment());

        services.AddHangfire(hangfire => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseRappelStorage(connectionString));
        services.AddHangfireServer(options =>
        {
            options.ServerName = $"worker-{Environment.MachineName}-{Environment.ProcessId}";
            options.SchedulePollingInterval = TimeSpan.FromSeconds(5);
            options.WorkerCount = configuration.GetValue("Hangfire:WorkerCount", 12);
        });
        services.AddHostedService<RecurringJobsRegistration>();
        services.AddTransient<PersonalDataRetention>();
        services.AddTransient<TwilioErasure>();
        services.AddHostedService<WorkerHeartbeat>();
    }

    /// <summary>Everything that sends, without Hangfire: the jobs call it, and so do the tests.</summary>
    public static IServiceCollection AddReminderSending(this IServiceCollection services, IConfiguration configuration, bool allowPrivateWebhooks)
    {
        services.AddRappelDatabase(configuration);
        services.AddSingleton<TenantDirectory>();
        services.AddSingleton<AppointmentStore>();
        services.AddTwilio(configuration);
        services.AddSingleton(configuration.GetSection(DispatchOptions.Section).Get<DispatchOptions>() ?? new DispatchOptions());
        services.AddSingleton<Dispatcher>();
        services.AddTransient<DispatchJobs>();
        services.AddHttpClient(EventDelivery.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => EventDelivery.CreateHandler(allowPrivateWebhooks));
        services.AddSingleton<EventDelivery>();
        return services;
    }

    /// <summary>Twilio, or the simulated provider when no account is configured.</summary>
    public static void AddTwilio(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TwilioOptions>()
            .BindConfiguration(TwilioOptions.Section)
            .PostConfigure(o => o.StatusCallbackUrl ??= new Uri(PublicBaseUrl(configuration), "/twilio/sms/status"))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(sp => new CallbackUrls(
            PublicBaseUrl(configuration), sp.GetRequiredService<IOptions<TwilioOptions>>().Value.AuthToken ?? "simulated"));
        services.AddHttpClient(TwilioProvider.HttpClientName, (sp, client) =>
                client.Timeout = sp.GetRequiredService<IOptions<TwilioOptions>>().Value.RequestTimeout)
            .AddHttpMessageHandler(sp => new TwilioHostRewriter(new Uri(sp.GetRequiredService<IOptions<TwilioOptions>>().Value.ApiBaseUrl)));
        services.AddSingleton<TwilioProvider>();
        services.AddSingleton<SimulatedProvider>();
        services.AddSingleton<IMessageProvider>(sp => sp.GetRequiredService<IOptions<TwilioOptions>>().Value.IsSimulated
            ? sp.GetRequiredService<SimulatedProvider>()
            : sp.GetRequiredService<TwilioProvider>());
    }

    public static Uri PublicBaseUrl(IConfiguration configuration) =>
        new(configuration["PublicBaseUrl"] is { Length: > 0 } url ? url : "http://127.0.0.1:5080");
}

/// <summary>Registers the recurring jobs, and starts dispatch at once rather than at the next minute.</summary>
internal sealed class RecurringJobsRegistration(IRecurringJobManager recurring) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurring.AddOrUpdate<DispatchJobs>(DispatchJobs.TickJobId, j => j.Tick(), Cron.Minutely());
        // Dispatch loops also reconcile claims a crash left behind; this older job is no more.
        recurring.RemoveIfExists("recover-stuck-sends");
        recurring.AddOrUpdate<PersonalDataRetention>(PersonalDataRetention.JobId, j => j.RunAsync(CancellationToken.None), Cron.Daily(2, 30));
        recurring.AddOrUpdate<TwilioErasure>(TwilioErasure.JobId, j => j.RunAsync(CancellationToken.None), "*/5 * * * *");
        recurring.Trigger(DispatchJobs.TickJobId);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
