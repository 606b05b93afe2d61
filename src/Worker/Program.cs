using RappelRdv.Reminders.Logging;
using RappelRdv.Reminders.Security;
using RappelRdv.Worker;
using RappelRdv.Worker.Hosting;

var builder = Host.CreateApplicationBuilder(args);

if (builder.RefuseWeakSecrets())
{
    return 1;
}

builder.UseRappelLogging();
builder.AddRappelWorker();

// 0 after a stop within Worker__StopTimeout; 1 for a refused setting or a stop cut short (WorkerStop).
return await WorkerStop.RunAsync(builder);
