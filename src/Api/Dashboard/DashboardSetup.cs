using System.Text.Encodings.Web;
using System.Text.Unicode;
using RappelRdv.Reminders.Audit;

namespace RappelRdv.Api.Dashboard;

internal static class DashboardSetup
{
    public static void AddDashboard(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DashboardData>();
        builder.Services.AddSingleton<AuditTrail>();
        // Static server rendering only (RazorComponentResult): no circuit, no WebAssembly, no script.
        builder.Services.AddRazorComponents();
        // Accented letters written as they are in the pages; markup characters still encoded.
        builder.Services.AddSingleton(HtmlEncoder.Create(UnicodeRanges.All));
        builder.AddSessions();
    }
}
