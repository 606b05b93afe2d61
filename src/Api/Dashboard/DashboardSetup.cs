namespace RappelRdv.Api.Dashboard;

internal static class DashboardSetup
{
    public static void AddDashboard(this WebApplicationBuilder builder) =>
        builder.Services.AddSingleton<DashboardData>();
}
