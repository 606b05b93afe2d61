using Hangfire;
using Hangfire.PostgreSql;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Worker;

internal static class WorkerSetup
{
    public static void AddRappelWorker(this HostApplicationBuilder builder)
    {
        var connectionString = Database.GetConnectionString(builder.Configuration);
        var services = builder.Services;

        // Migrations first: Hangfire and the jobs below need the schema.
        services.AddHostedService<MigrationService>();
        services.AddSingleton(TimeProvider.System);
        services.AddRappelDatabase(builder.Configuration);
        services.AddSingleton<TenantDirectory>();
        services.AddSingleton<AppointmentStore>();

        services.AddHangfire(configuration => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(options => options.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                QueuePollInterval = TimeSpan.FromSeconds(1),
            }));
        services.AddHangfireServer(options =>
        {
            options.ServerName = $"worker-{Environment.MachineName}-{Environment.ProcessId}";
            options.SchedulePollingInterval = TimeSpan.FromSeconds(5);
        });
    }
}

/// <summary>Applies the schema before the Hangfire server starts (hosted services start in order).</summary>
internal sealed class MigrationService(IConfiguration configuration, ILogger<MigrationService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Database.Migrate(Database.GetConnectionString(configuration), logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
