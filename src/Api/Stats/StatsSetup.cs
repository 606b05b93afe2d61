namespace RappelRdv.Api.Stats;

/// <summary>The readers of the statistics; the Worker's StatsCompactor keeps their counts folded.</summary>
internal static class StatsSetup
{
    public static void AddStatistics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<StatsReader>();
        builder.Services.AddSingleton<NoShowStatistics>();
    }
}
