namespace RappelRdv.Api.Stats;

internal static class StatsSetup
{
    public static void AddStatistics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<StatsReader>();
        builder.Services.AddSingleton<NoShowStatistics>();
        builder.Services.AddSingleton<StatsCompactor>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StatsCompactor>());
    }
}
