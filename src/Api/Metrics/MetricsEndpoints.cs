using Prometheus;
using RappelRdv.Api.Infrastructure;

namespace RappelRdv.Api.Metrics;

/// <summary>
/// <c>GET /metrics</c>, Prometheus text format, behind the operator's key: the Api faces the
/// internet (Twilio must reach it), and the series list every tenant with its volumes. Prometheus
/// sends the key with <c>authorization: { credentials_file: … }</c> (see docs/statistics.md, GET /metrics).
/// </summary>
internal static class MetricsEndpoints
{
    public static void MapRappelMetrics(this IEndpointRouteBuilder app)
    {
        var registry = app.ServiceProvider.GetRequiredService<RappelMetrics>().Registry;
        app.MapMetrics("/metrics", registry)
            .RequireAuthorization(Policies.Admin)
            .WithTags("Metrics (operator)")
            .ExcludeFromDescription();
    }
}
