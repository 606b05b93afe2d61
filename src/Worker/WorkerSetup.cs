using Hangfire;
using Microsoft.Extensions.Options;
using Polly;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Hosting;
using RappelRdv.Reminders.Telemetry;
using RappelRdv.Reminders.Twilio;
using RappelRdv.Worker.Billing;
using RappelRdv.Worker.Dispatch;
using RappelRdv.Worker.Events;
using RappelRdv.Worker.Health;
using RappelRdv.Worker.Hosting;
using RappelRdv.Worker.RdvSolidarites;
using RappelRdv.Worker.Retention;
using RappelRdv.Worker.Stats;

namespace RappelRdv.Worker;

internal static class WorkerSetup
{
    public static void AddRappelWorker(this HostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;

        // What the Api runs too (options, database, migration, tenants), then the Worker's own part.
        builder.AddRappelCore();
        builder.AddRappelTelemetry(RappelTelemetry.WorkerService);
        services.AddSending(configuration);
        services.AddOptions<WorkerHangfireOptions>().BindConfiguration(WorkerHangfireOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var hangfire = configuration.GetSection(WorkerHangfireOptions.Section).Get<WorkerHangfireOptions>() ?? new();
        var dispatch = configuration.GetSection(DispatchOptions.Section).Get<DispatchOptions>() ?? new();
        services.AddRappelHangfire(configuration, WorkerConnections.For(dispatch, hangfire.WorkerCount).Hangfire);
        services.AddHangfireServer((sp, options) =>
        {
            options.ServerName = $"worker-{Environment.MachineName}-{Environment.ProcessId}";
            options.SchedulePollingInterval = TimeSpan.FromSeconds(5);
            // Hangfire runs the minute's tick and the nightly jobs only: sending is the Worker's own loop.
            options.WorkerCount = sp.GetRequiredService<IOptions<WorkerHangfireOptions>>().Value.WorkerCount;
            // Hangfire stops last, once the loops have (WorkerStop): its share of Worker__StopTimeout.
            options.ShutdownTimeout = sp.GetRequiredService<IOptions<WorkerStopOptions>>().Value.HangfireShutdownTimeout;
        });
        services.AddOptions<WorkerStopOptions>().BindConfiguration(WorkerStopOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HostOptions>().Configure<IOptions<WorkerStopOptions>>((host, stop) => host.ShutdownTimeout = stop.Value.StopTimeout);
        services.AddHostedService<RecurringJobsRegistration>();
        services.AddTransient<PersonalDataRetention>();
        services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<WorkerHeartbeat>();
        services.AddSingleton<StatsCompactor>();
        services.AddHostedService(sp => sp.GetRequiredService<StatsCompactor>());
        // The Worker's number, before the claim loops: stopped after them, once their claims are given back.
        services.AddHostedService(sp => sp.GetRequiredService<WorkerPresence>());
        // Events have their own loop, beside the dispatch loops and never inside them (docs/ARCHITECTURE.md).
        services.AddHostedService(sp => sp.GetRequiredService<EventDelivery>());
        services.AddHostedService(sp => sp.GetRequiredService<WriteBackDelivery>());
        // So do sends: each Worker claims for its own free slots (docs/ARCHITECTURE.md, "Work spread over Workers").
        services.AddHostedService(sp => sp.GetRequiredService<DispatchLoop>());
    }

    /// <summary>
    /// The core and everything that sends, without a host or Hangfire: how the tests and the
    /// end-to-end harness build the Worker's services. <paramref name="allowPrivateWebhooks"/> is the
    /// default of <c>Webhooks__AllowPrivateNetworks</c>, as Development is for a host.
    /// </summary>
    public static IServiceCollection AddReminderSending(this IServiceCollection services, IConfiguration configuration, bool allowPrivateWebhooks) =>
        services.AddRappelCore(configuration, isDevelopment: allowPrivateWebhooks).AddSending(configuration);

    /// <summary>Everything that sends, on top of the core: the jobs call it, and so do the tests.</summary>
    private static IServiceCollection AddSending(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddTwilio();
        services.AddOptions<DispatchOptions>()
            .BindConfiguration(DispatchOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.ClaimLease > TimeSpan.Zero && o.IdleDelay > TimeSpan.Zero && o.RecoveryInterval > TimeSpan.Zero,
                "Dispatch__ClaimLease, Dispatch__IdleDelay and Dispatch__RecoveryInterval must be positive durations.")
            .ValidateOnStart();
        // The Dispatcher takes the options object itself.
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<DispatchOptions>>().Value);
        // The pools follow the settings (WorkerConnections); a connection string too small for them stops the start, naming them.
        // (Computed from the options given, not from the container: the check runs while the options are being built.)
        int HangfireWorkers() => configuration.GetSection(WorkerHangfireOptions.Section).Get<WorkerHangfireOptions>()?.WorkerCount ?? WorkerHangfireOptions.DefaultWorkerCount;
        services.AddSingleton<IValidateOptions<DispatchOptions>>(
            new WorkerConnections.FitCheck(() => Database.GetConnectionString(configuration), HangfireWorkers));
        services.AddSingleton(sp => WorkerConnections.For(sp.GetRequiredService<DispatchOptions>(), HangfireWorkers()));
        services.AddSingleton(sp => new DataSourcePoolSize(sp.GetRequiredService<WorkerConnections>().DataSource));
        // Start records (written in groups) and budgets' reservations: a few connections serve them all.
        services.AddSingleton(sp => SendStarts.Create(Database.GetConnectionString(configuration), sp.GetRequiredService<WorkerConnections>().SendStarts));
        // Not started here (the host starts it): without it, claims carry no number and wait for their lease.
        services.AddSingleton<WorkerPresence>();
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<DispatchLoop>();
        services.AddTransient<DispatchJobs>();
        services.AddTransient<Housekeeping>();
        services.AddTransient<TwilioErasure>();
        services.AddOptions<EventOptions>().BindConfiguration(EventOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<EventOptions>>().Value);
        // HttpClient's timeout stops at the headers of a streamed answer; the attempt's own deadline
        // (EventDelivery) covers the body too. This one is only a second guard of the same length.
        services.AddHttpClient(EventDelivery.HttpClientName, (sp, client) => client.Timeout = sp.GetRequiredService<EventOptions>().AttemptTimeout)
            .ConfigurePrimaryHttpMessageHandler(sp => EventDelivery.CreateHandler(sp.GetRequiredService<WebhookPolicy>().AllowPrivateNetworks));
        services.AddSingleton<EventDelivery>();
        // RDV-Solidarités' answers to write-backs: the egress rules of events (docs/RDV-SOLIDARITES.md).
        services.AddHttpClient(WriteBackDelivery.HttpClientName, (sp, client) => client.Timeout = sp.GetRequiredService<EventOptions>().AttemptTimeout)
            .ConfigurePrimaryHttpMessageHandler(sp => EventDelivery.CreateHandler(sp.GetRequiredService<WebhookPolicy>().AllowPrivateNetworks));
        services.AddSingleton<WriteBackDelivery>();
        services.AddBilling();
        return services;
    }

    /// <summary>Twilio, or the simulated provider when no account is configured (its options are the core's).</summary>
    private static void AddTwilio(this IServiceCollection services)
    {
        services.AddHttpClient(TwilioProvider.HttpClientName, (sp, client) =>
                client.Timeout = sp.GetRequiredService<IOptions<TwilioOptions>>().Value.RequestTimeout)
            .AddHttpMessageHandler(sp => new TwilioHostRewriter(new Uri(sp.GetRequiredService<IOptions<TwilioOptions>>().Value.ApiBaseUrl)));
        // The sends' and the look-ups' pipelines from Polly's registry (telemetry on the meter "Polly"),
        // each with its own circuit breaker and the account's shared request rate.
        services.AddSingleton<TwilioAccountRates>();
        services.AddResiliencePipeline<string, ProviderResult>(TwilioProvider.SendPipeline,
            (builder, context) => TwilioProvider.ConfigurePipeline(builder, context.ServiceProvider, "sends"));
        services.AddResiliencePipeline<string, ProviderResult>(TwilioProvider.LookUpPipeline,
            (builder, context) => TwilioProvider.ConfigurePipeline(builder, context.ServiceProvider, "look-ups"));
        services.AddSingleton<TwilioProvider>();
        services.AddSingleton<SimulatedProvider>();
        services.AddSingleton<IMessageProvider>(sp => sp.GetRequiredService<IOptions<TwilioOptions>>().Value.IsSimulated
            ? sp.GetRequiredService<SimulatedProvider>()
            : sp.GetRequiredService<TwilioProvider>());
    }
}

/// <summary>
/// Registers the two recurring jobs, the minute's tick (which also does the housekeeping) and the
/// nightly retention, drops those an older version registered, and starts dispatch at once rather
/// than at the next minute.
/// </summary>
internal sealed class RecurringJobsRegistration(IRecurringJobManager recurring) : IHostedService
{
    /// <summary>
    /// Recurring jobs of older versions: reconciliation now runs in the dispatch slices; the erasure
    /// at Twilio, the balance and the budgets' watch in the tick (<see cref="Housekeeping"/>).
    /// </summary>
    internal static readonly string[] Retired = ["recover-stuck-sends", "erase-at-twilio", "twilio-balance", "budget-watch"];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurring.AddOrUpdate<DispatchJobs>(DispatchJobs.TickJobId, j => j.Tick(), Cron.Minutely());
        recurring.AddOrUpdate<PersonalDataRetention>(PersonalDataRetention.JobId, j => j.RunAsync(CancellationToken.None), Cron.Daily(2, 30));
        foreach (var retired in Retired)
        {
            recurring.RemoveIfExists(retired);
        }

        recurring.Trigger(DispatchJobs.TickJobId);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The <c>Hangfire__*</c> settings of a Worker.</summary>
internal sealed class WorkerHangfireOptions
{
    public const string Section = "Hangfire";

    public const int DefaultWorkerCount = 2;

    /// <summary>Hangfire's workers: the minute's tick and the nightly retention, which may overlap.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 64, ErrorMessage = "Hangfire__WorkerCount must be between 1 and 64.")]
    public int WorkerCount { get; set; } = DefaultWorkerCount;
}
