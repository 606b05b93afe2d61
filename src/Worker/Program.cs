using RappelRdv.Reminders.Logging;
using RappelRdv.Reminders.Security;
using RappelRdv.Worker;

var builder = Host.CreateApplicationBuilder(args);

if (builder.RefuseWeakSecrets())
{
    return 1;
}

builder.UseRappelLogging();
builder.AddRappelWorker();

var host = builder.Build();
host.Run();
return 0;
