using Microsoft.AspNetCore.Authentication;

namespace RappelRdv.Api.Metrics;

internal static class MetricsSetup
{
    public static void AddRappelMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RappelMetrics>();
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section);
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, MetricsTokenAuthentication>(MetricsTokenAuthentication.Name, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(MetricsTokenAuthentication.Policy, p => p.AddAuthenticationSchemes(MetricsTokenAuthentication.Name).RequireAuthenticatedUser());
    }
}
