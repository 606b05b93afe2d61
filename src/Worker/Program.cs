using RappelRdv.Reminders.Logging;
using RappelRdv.Worker;

var builder = Host.CreateApplicationBuilder(args);

builder.UseRappelLogging();
builder.AddRappelWorker();

var host = builder.Build();
host.Run();
