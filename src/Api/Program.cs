using RappelRdv.Api.Appointments;
using RappelRdv.Api.Health;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Api.RdvSolidarites;
using RappelRdv.Api.Tenants;
using RappelRdv.Api.Twilio;
using RappelRdv.Reminders.Logging;

var builder = WebApplication.CreateBuilder(args);

builder.UseRappelLogging();
builder.AddRappelApi();

var app = builder.Build();

app.UseRappelApi();
app.MapHealth();
app.MapTenants();
app.MapAppointments();
app.MapTwilio();
app.MapRdvSolidarites();

app.Run();

public partial class Program;
