namespace RappelRdv.Api.Metrics;

internal static class MetricsSetup
{
    public static void AddRappelMetrics(this WebApplicationBuilder builder) =>
        builder.Services.AddSingleton<RappelMetrics>();
}
