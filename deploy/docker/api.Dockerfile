# syntax=docker/dockerfile:1
# The Api: HTTP on port 8080, as a non-root user.
#   docker build -f deploy/docker/api.Dockerfile -t rappelrdv/api .      (from the repository root)
# The same image runs the migration Job: docker run rappelrdv/api --migrate-only

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# global.json is left out on purpose: it pins the developers' SDK, and the image's own 10.0 SDK may
# be of another feature band. The build props (warnings as errors, banned APIs) do come along.
COPY Directory.Build.props Directory.Packages.props BannedSymbols.txt ./
# Project files first: the restore layer is reused until a dependency changes.
COPY src/Contracts/RappelRdv.Contracts.csproj src/Contracts/
COPY src/Reminders/RappelRdv.Reminders.csproj src/Reminders/
COPY src/Api/RappelRdv.Api.csproj src/Api/
RUN dotnet restore src/Api/RappelRdv.Api.csproj
COPY src/Contracts/ src/Contracts/
COPY src/Reminders/ src/Reminders/
COPY src/Api/ src/Api/
RUN dotnet publish src/Api/RappelRdv.Api.csproj -c Release --no-restore -o /app -p:UseAppHost=false

# The ASP.NET Core runtime image (it carries tzdata: tenants' time zones such as Europe/Paris).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The Api falls back to 127.0.0.1:5080 when no URL is given (the developer default): in a container
# it must listen on every interface.
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_gcServer=0
EXPOSE 8080
# The non-root user the .NET images ship (uid 1654).
USER $APP_UID
# No curl in the image: bash's /dev/tcp asks /health/live (the process answers; the database is /health/ready).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3 && head -n 1 <&3 | grep -q " 200 "'
ENTRYPOINT ["dotnet", "RappelRdv.Api.dll"]
