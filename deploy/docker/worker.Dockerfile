# syntax=docker/dockerfile:1
# The Worker: the Hangfire server that sends reminders and delivers events. No port of its own.
#   docker build -f deploy/docker/worker.Dockerfile -t rappelrdv/worker .   (from the repository root)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# global.json is left out on purpose (see api.Dockerfile).
COPY Directory.Build.props Directory.Packages.props BannedSymbols.txt ./
COPY src/Contracts/RappelRdv.Contracts.csproj src/Contracts/
COPY src/Reminders/RappelRdv.Reminders.csproj src/Reminders/
COPY src/Worker/RappelRdv.Worker.csproj src/Worker/
RUN dotnet restore src/Worker/RappelRdv.Worker.csproj
COPY src/Contracts/ src/Contracts/
COPY src/Reminders/ src/Reminders/
COPY src/Worker/ src/Worker/
RUN dotnet publish src/Worker/RappelRdv.Worker.csproj -c Release --no-restore -o /app -p:UseAppHost=false

# runtime, not aspnet: the Worker and src/Reminders use no ASP.NET Core (a generic host).
FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The Worker writes this file every 10 s while its Hangfire server beats in the database
# (src/Worker/Health/WorkerHeartbeat.cs); healthy means younger than a minute.
ENV Health__HeartbeatFile=/tmp/rappel-worker.alive \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_gcServer=0
USER $APP_UID
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD test -n "$(find /tmp/rappel-worker.alive -mmin -1 2>/dev/null)"
ENTRYPOINT ["dotnet", "RappelRdv.Worker.dll"]
