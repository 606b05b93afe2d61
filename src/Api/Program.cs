using RappelRdv.Api.Appointments;
using RappelRdv.Api.Dashboard;
using RappelRdv.Api.Demo;
using RappelRdv.Api.Hangfire;
using RappelRdv.Api.Health;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Api.Metrics;
using RappelRdv.Api.Operator;
using RappelRdv.Api.RdvSolidarites;
using RappelRdv.Api.Stats;
using RappelRdv.Api.Tenants;
using RappelRdv.Api.Twilio;
using RappelRdv.Api.Usage;
using RappelRdv.Reminders.Logging;
using RappelRdv.Reminders.Security;

var builder = WebApplication.CreateBuilder(args);

if (builder.RefuseWeakSecrets())
{
    return 1;
}

builder.UseRappelLogging();
if (MigrateOnly.IsRequested(args))
{
    return MigrateOnly.Run(builder);
}

builder.AddRappelApi();
builder.AddHangfireForOperators();
builder.AddStatistics();
builder.AddRappelMetrics();
builder.AddDashboard();
builder.AddUsage();

var app = builder.Build();

app.UseRappelApi();
app.MapHealth();
app.MapTenants();
app.MapAppointments();
app.MapTwilio();
app.MapRdvSolidarites();
app.MapHangfireForOperators();
app.MapStatistics();
app.MapRappelMetrics();
app.MapDashboard();
app.MapAuditTrail();
app.MapDemoHistory();
app.MapUsageAndBalance();

app.Run();
return 0;

public partial class Program;
