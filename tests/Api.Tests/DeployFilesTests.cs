extern alias worker;

using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Api.Metrics;
using RappelRdv.Api.Operator;
using RappelRdv.Reminders.Hosting;
using RappelRdv.Reminders.Budgets;
using RappelRdv.Reminders.Security;
using RappelRdv.Reminders.Telemetry;
using RappelRdv.Reminders.Twilio;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using DispatchOptions = worker::RappelRdv.Worker.Dispatch.DispatchOptions;
using WorkerStopOptions = worker::RappelRdv.Worker.Hosting.WorkerStopOptions;
using WorkerHeartbeat = worker::RappelRdv.Worker.Health.WorkerHeartbeat;

namespace RappelRdv.Api.Tests;

/// <summary>
/// What can be checked of deploy/ without a Docker engine or a cluster: every YAML parses, images,
/// paths and dll names agree with the projects, and every setting the files give is one the code
/// reads, with the required ones present.
/// </summary>
public sealed partial class DeployFilesTests
{
    private static readonly string Root = FindRoot();

    /// <summary>Keys read by name in src/ (besides the options classes, whose properties are read by reflection below).</summary>
    private static readonly string[] RawKeys =
        ["ConnectionStrings:Postgres", "ConnectionStrings:PostgresDirect", "Webhooks:AllowPrivateNetworks", "Demo:HistoryEndpoint", "ForwardedHeaders:KnownProxies", "ForwardedHeaders:KnownNetworks", "Hangfire:WorkerCount", WorkerHeartbeat.FileKey, "urls", "RdvSolidarites:SecretsKey"];

    /// <summary>Read by ASP.NET Core and .NET themselves, and by OpenTelemetry's SDK (RappelTelemetry reads the first three too).</summary>
    private static readonly string[] HostingKeys =
    [
        "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT",
        RappelTelemetry.OtlpEndpointKey, RappelTelemetry.ServiceNameKey, RappelTelemetry.SamplerKey,
        "OTEL_TRACES_SAMPLER_ARG", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS",
    ];

    private static readonly string[] RequiredKeys = ["ConnectionStrings__Postgres", "Admin__ApiKey", "Metrics__Token", "PublicBaseUrl"];

    /// <summary>The configuration table of the contract: each settings file names each of them, set or commented.</summary>
    private static readonly string[] ContractKeys =
    [
        "ConnectionStrings__Postgres", "Admin__ApiKey", "PublicBaseUrl", "Twilio__AccountSid", "Twilio__AuthToken", "Twilio__ApiBaseUrl",
        "Twilio__MessagingServiceSid", "Twilio__FromNumber", "Twilio__VoiceFromNumber", "Twilio__MaxRequestsPerSecond",
        "Webhooks__AllowPrivateNetworks", "ASPNETCORE_URLS",
    ];

    private static HashSet<string> KeysTheCodeReads()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        void Section(string section, Type type)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                keys.Add(section.Length == 0 ? property.Name : $"{section}__{property.Name}");
            }
        }

        Section(AdminOptions.Section, typeof(AdminOptions));
        Section(MetricsOptions.Section, typeof(MetricsOptions));
        Section("", typeof(PublicOptions));
        Section(WebhookOptions.Section, typeof(WebhookOptions));
        Section(TwilioOptions.Section, typeof(TwilioOptions));
        Section(DispatchOptions.Section, typeof(DispatchOptions));
        Section(BillingOptions.Section, typeof(BillingOptions));
        Section(WorkerStopOptions.Section, typeof(WorkerStopOptions));
        Section(RappelRdv.Api.Dashboard.OidcOptions.Section, typeof(RappelRdv.Api.Dashboard.OidcOptions));
        foreach (var key in RawKeys)
        {
            keys.Add(key.Replace(":", "__", StringComparison.Ordinal));
        }

        return keys;
    }

    [Fact]
    public void Every_configuration_key_read_in_src_is_one_this_test_knows()
    {
        var known = KeysTheCodeReads();
        var unknown = new List<string>();
        var reads = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                         && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            foreach (Match match in ConfigurationReads().Matches(text))
            {
                reads++;
                var key = match.Groups["key"].Value.Replace(":", "__", StringComparison.Ordinal);
                var isSection = match.Value.Contains("Section", StringComparison.Ordinal) || match.Value.Contains("BindConfiguration", StringComparison.Ordinal);
                if (isSection ? !known.Any(k => k.StartsWith(key + "__", StringComparison.Ordinal)) : !known.Contains(key))
                {
                    unknown.Add($"{Path.GetRelativePath(Root, file)}: {match.Value}");
                }
            }
        }

        // A new key in the code: add it here, to the settings files of deploy/, and to docs/OPERATIONS.md.
        Assert.Empty(unknown);
        // Few on purpose: the options classes above are bound once (CoreSetup), the rest read by key.
        Assert.True(reads >= 4, $"the scan found only {reads} configuration reads: has the code's way of reading them changed?");
    }

    [Fact]
    public void Every_yaml_file_of_deploy_parses()
    {
        var files = Directory.EnumerateFiles(Path.Combine(Root, "deploy"), "*.yaml", SearchOption.AllDirectories).ToList();

        Assert.True(files.Count >= 10, string.Join(", ", files));
        foreach (var file in files)
        {
            var documents = LoadAll(file);
            Assert.True(documents.Count > 0 && documents.All(d => d is IDictionary<object, object>), $"{file} has no mapping");
        }
    }

    [Fact]
    public void The_env_example_of_compose_gives_known_keys_and_every_required_one()
    {
        var env = ReadEnvFile(Path.Combine(Root, "deploy", ".env.example"));

        AssertSettings("deploy/.env.example", env.Set, env.Mentioned, extra: ["POSTGRES_PASSWORD"]);
        // The password of the postgres service is the connection string's, and the host its service name.
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(env.Set["ConnectionStrings__Postgres"]);
        Assert.Equal(env.Set["POSTGRES_PASSWORD"], connection.Password);
        Assert.Equal("postgres", connection.Host);
        Assert.Contains("postgres", Services(Compose()).Keys);
    }

    [Fact]
    public void The_systemd_environment_file_gives_known_keys_and_every_required_one()
    {
        var env = ReadEnvFile(Path.Combine(Root, "deploy", "systemd", "rappelrdv.env.example"));

        AssertSettings("deploy/systemd/rappelrdv.env.example", env.Set, env.Mentioned, extra: []);
    }

    [Fact]
    public void The_kubernetes_configmap_and_secret_give_known_keys_and_every_required_one()
    {
        var configMap = Map(Load("deploy/kubernetes/configmap.yaml"));
        var secret = ReadEnvFile(Path.Combine(Root, "deploy", "kubernetes", "secrets.env.example"));
        var set = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Map(configMap["data"]).Select(e => KeyValuePair.Create((string)e.Key, e.Value?.ToString() ?? "")).Concat(secret.Set))
        {
            Assert.True(set.TryAdd(key, value), $"{key} is given twice");
        }

        var mentioned = new HashSet<string>(set.Keys.Concat(secret.Mentioned), StringComparer.Ordinal);
        foreach (Match match in CommentedYamlKey().Matches(File.ReadAllText(Path.Combine(Root, "deploy", "kubernetes", "configmap.yaml"))))
        {
            mentioned.Add(match.Groups["key"].Value);
        }

        AssertSettings("deploy/kubernetes (ConfigMap + secrets.env.example)", set, mentioned, extra: []);
        // Secrets stay out of the ConfigMap.
        Assert.DoesNotContain(Map(configMap["data"]).Keys.Cast<string>(), k => k is "ConnectionStrings__Postgres" or "Admin__ApiKey" or "Metrics__Token" or "Twilio__AuthToken");
    }

    [Fact]
    public void The_kubernetes_base_ships_no_secret_value_and_generates_the_secret_from_an_uncommitted_file()
    {
        var kustomization = Map(Load("deploy/kubernetes/kustomization.yaml"));
        var generator = Map(List(kustomization["secretGenerator"]).Single());

        Assert.Equal("rappelrdv-secrets", generator["name"]);
        Assert.Equal(["secrets.env"], List(generator["envs"]).Cast<string>());
        Assert.Contains("deploy/kubernetes/secrets.env", File.ReadAllLines(Path.Combine(Root, ".gitignore")));
        // No resource of the base is a Secret with values in it.
        var documents = List(kustomization["resources"]).Cast<string>().SelectMany(r => LoadAll(Path.Combine(Root, "deploy", "kubernetes", r))).Select(Map);
        Assert.DoesNotContain(documents, d => (string)d["kind"] == "Secret");
    }

    private static void AssertSettings(string where, IReadOnlyDictionary<string, string> set, IReadOnlySet<string> mentioned, string[] extra)
    {
        var known = KeysTheCodeReads();
        var allowed = known.Concat(HostingKeys).Concat(extra).ToHashSet(StringComparer.Ordinal);
        Assert.True(mentioned.All(allowed.Contains), $"{where} names keys the code does not read: {string.Join(", ", mentioned.Where(k => !allowed.Contains(k)))}");
        Assert.True(RequiredKeys.All(set.ContainsKey), $"{where} lacks {string.Join(", ", RequiredKeys.Where(k => !set.ContainsKey(k)))}");
        Assert.True(ContractKeys.All(mentioned.Contains), $"{where} does not mention {string.Join(", ", ContractKeys.Where(k => !mentioned.Contains(k)))}");
        // An empty value is not a default: "" binds as a value (and an int from "" stops the process).
        Assert.True(set.All(s => s.Value.Length > 0), $"{where} sets keys to empty: {string.Join(", ", set.Where(s => s.Value.Length == 0).Select(s => s.Key))}");
        // A template copied as it is must fail closed: its secrets are placeholders the hosts refuse to start with.
        foreach (var key in new[] { "Admin__ApiKey", "Metrics__Token" })
        {
            Assert.True(StartupSecrets.Weakness(set[key]) is not null, $"{where}: {key} should be a placeholder that start-up refuses, not a usable value");
        }
        Assert.True(Uri.TryCreate(set["PublicBaseUrl"], UriKind.Absolute, out var url) && url.Scheme == "https", $"{where}: PublicBaseUrl should be https");
    }

    [Theory]
    [InlineData("api.Dockerfile", "RappelRdv.Api", "aspnet")]
    [InlineData("worker.Dockerfile", "RappelRdv.Worker", "runtime")]
    public void A_dockerfile_builds_and_runs_a_project_that_exists_from_files_that_exist(string dockerfile, string project, string runtimeImage)
    {
        var text = File.ReadAllText(Path.Combine(Root, "deploy", "docker", dockerfile));
        var ignored = File.ReadAllLines(Path.Combine(Root, ".dockerignore"))
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.Contains('*', StringComparison.Ordinal))
            .Select(l => l.TrimEnd('/'))
            .ToList();

        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/sdk:10\.0 AS build$", text);
        // The Worker is a generic host: the smaller runtime image, without ASP.NET Core.
        Assert.Matches($@"(?m)^FROM mcr\.microsoft\.com/dotnet/{runtimeImage}:10\.0 AS runtime$", text);
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{project}.dll\"]", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^USER \$APP_UID$", text);
        Assert.Matches(@"(?m)^HEALTHCHECK ", text);
        var projectFile = Directory.GetFiles(Path.Combine(Root, "src"), $"{project}.csproj", SearchOption.AllDirectories).Single();
        Assert.Contains($"dotnet publish {Path.GetRelativePath(Root, projectFile).Replace('\\', '/')} ", text, StringComparison.Ordinal);

        foreach (Match copy in CopyInstruction().Matches(text))
        {
            foreach (var source in copy.Groups["sources"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                Assert.True(File.Exists(Path.Combine(Root, source)) || Directory.Exists(Path.Combine(Root, source)), $"{dockerfile}: COPY {source} does not exist");
                Assert.False(ignored.Any(i => source.TrimEnd('/') == i || source.StartsWith(i + "/", StringComparison.Ordinal)), $"{dockerfile}: COPY {source} is in .dockerignore");
            }
        }

        // Every project the image needs (its references, transitively) is copied.
        foreach (var reference in ProjectClosure(projectFile))
        {
            Assert.Contains($"COPY {Path.GetRelativePath(Root, Path.GetDirectoryName(reference)!).Replace('\\', '/')}/ ", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_api_healthcheck_and_probes_ask_the_health_endpoints_and_the_worker_ones_its_heartbeat_file()
    {
        var api = File.ReadAllText(Path.Combine(Root, "deploy", "docker", "api.Dockerfile"));
        var worker = File.ReadAllText(Path.Combine(Root, "deploy", "docker", "worker.Dockerfile"));
        var heartbeat = Regex.Match(worker, @"Health__HeartbeatFile=(\S+)").Groups[1].Value;

        Assert.Contains("/health/live", api, StringComparison.Ordinal);
        Assert.Contains("ENV ASPNETCORE_URLS=http://+:8080", api, StringComparison.Ordinal);
        Assert.Equal("/tmp/rappel-worker.alive", heartbeat);
        Assert.Contains($"find {heartbeat} -mmin -1", worker, StringComparison.Ordinal);

        var apiPod = PodSpec(Load("deploy/kubernetes/api-deployment.yaml"));
        var apiContainer = Map(List(apiPod["containers"]).Single());
        Assert.Equal("/health/live", Get(apiContainer, "livenessProbe", "httpGet", "path"));
        Assert.Equal("/health/ready", Get(apiContainer, "readinessProbe", "httpGet", "path"));
        Assert.Equal("8080", Get(List(apiContainer["ports"]).Select(Map).Single(), "containerPort"));

        var workerContainer = Map(List(PodSpec(Load("deploy/kubernetes/worker-deployment.yaml"))["containers"]).Single());
        var env = List(workerContainer["env"]).Select(Map).ToDictionary(e => (string)e["name"], e => (string)e["value"]);
        Assert.Equal(heartbeat, env["Health__HeartbeatFile"]);
        Assert.Contains($"find {heartbeat} -mmin -1", string.Join(" ", List(Map(Map(workerContainer["livenessProbe"])["exec"])["command"])), StringComparison.Ordinal);
        Assert.Contains("Environment=Health__HeartbeatFile=", File.ReadAllText(Path.Combine(Root, "deploy", "systemd", "rappelrdv-worker@.service")), StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_runs_one_api_and_two_workers_from_the_dockerfiles_on_postgres_15()
    {
        var services = Services(Compose());

        Assert.Equal("postgres:15", Get(services["postgres"], "image"));
        Assert.StartsWith("rappelrdv/api:", Get(services["api"], "image"), StringComparison.Ordinal);
        Assert.StartsWith("rappelrdv/worker:", Get(services["worker"], "image"), StringComparison.Ordinal);
        Assert.Equal("2", Get(services["worker"], "deploy", "replicas"));
        foreach (var (name, file) in new[] { ("api", "api.Dockerfile"), ("worker", "worker.Dockerfile") })
        {
            var context = Path.GetFullPath(Path.Combine(Root, "deploy", Get(services[name], "build", "context")));
            Assert.Equal(Root.TrimEnd(Path.DirectorySeparatorChar), context.TrimEnd(Path.DirectorySeparatorChar));
            Assert.Equal($"deploy/docker/{file}", Get(services[name], "build", "dockerfile"));
            Assert.Equal(".env", Get(services[name], "env_file"));
            Assert.Equal("service_healthy", Get(services[name], "depends_on", "postgres", "condition"));
        }
    }

    [Fact]
    public void The_cloudnative_pg_overlay_adds_a_three_instance_cluster_a_transaction_pooler_and_a_worker_autoscaler_on_the_base()
    {
        // kubectl kustomize builds it (docs/OPERATIONS.md, "Past one machine"); here its parts are checked one by one.
        var kustomization = Map(Load("deploy/overlays/cloudnative-pg/kustomization.yaml"));
        var resources = List(kustomization["resources"]).Cast<string>().ToList();
        Assert.Equal("../../kubernetes", resources[0]);
        Assert.Equal("rappelrdv", (string)kustomization["namespace"]);
        var documents = resources.Skip(1).SelectMany(r => LoadAll(Path.Combine(Root, "deploy", "overlays", "cloudnative-pg", r))).Select(Map).ToList();
        IDictionary<object, object> Single(string kind) => documents.Single(d => (string)d["kind"] == kind);

        var cluster = Single("Cluster");
        Assert.Equal("postgresql.cnpg.io/v1", (string)cluster["apiVersion"]);
        Assert.Equal("3", Get(cluster, "spec", "instances"));
        Assert.Equal("rappel", Get(cluster, "spec", "bootstrap", "initdb", "database"));
        var pooler = Single("Pooler");
        Assert.Equal("postgresql.cnpg.io/v1", (string)pooler["apiVersion"]);
        Assert.Equal(Get(cluster, "metadata", "name"), Get(pooler, "spec", "cluster", "name"));
        Assert.Equal("transaction", Get(pooler, "spec", "pgbouncer", "poolMode"));
        Assert.Equal("rw", Get(pooler, "spec", "type"));
        var hpa = Single("HorizontalPodAutoscaler");
        Assert.Equal("autoscaling/v2", (string)hpa["apiVersion"]);
        Assert.Equal(("Deployment", "rappelrdv-worker"), (Get(hpa, "spec", "scaleTargetRef", "kind"), Get(hpa, "spec", "scaleTargetRef", "name")));
        Assert.InRange(int.Parse(Get(hpa, "spec", "minReplicas"), CultureInfo.InvariantCulture), 2, int.Parse(Get(hpa, "spec", "maxReplicas"), CultureInfo.InvariantCulture));
        // The HPA owns the Workers' count: the base's replicas are removed, not fought over.
        Assert.Contains("path: /spec/replicas", File.ReadAllText(Path.Combine(Root, "deploy", "overlays", "cloudnative-pg", "kustomization.yaml")), StringComparison.Ordinal);

        // Every process: its pools through the Pooler, and what needs a session (migrations, LISTEN) to the primary itself.
        var patches = List(kustomization["patches"]).Select(Map).Where(p => p.ContainsKey("path")).Select(p => (string)p["path"]).ToList();
        Assert.Contains("database-connections.yaml", patches);
        var workloads = LoadAll(Path.Combine(Root, "deploy", "overlays", "cloudnative-pg", "database-connections.yaml")).Select(Map).ToList();
        Assert.Equal(
            ["Deployment/rappelrdv-api", "Deployment/rappelrdv-worker", "Job/rappelrdv-migrate"],
            workloads.Select(w => $"{w["kind"]}/{Get(w, "metadata", "name")}").Order(StringComparer.Ordinal));
        foreach (var workload in workloads)
        {
            var env = List(Map(List(PodSpec(workload)["containers"]).Single())["env"]).Select(Map).ToList();
            string Value(string name) => (string)env.Single(e => (string)e["name"] == name)["value"];
            var pooled = new Npgsql.NpgsqlConnectionStringBuilder(Value("ConnectionStrings__Postgres"));
            var direct = new Npgsql.NpgsqlConnectionStringBuilder(Value("ConnectionStrings__PostgresDirect"));
            Assert.Equal(Get(pooler, "metadata", "name"), pooled.Host);
            Assert.Equal($"{Get(cluster, "metadata", "name")}-rw", direct.Host);
            Assert.True(pooled.NoResetOnClose);
            Assert.All(new[] { pooled, direct }, c => Assert.Equal(("rappel", "rappel"), (c.Database, c.Username)));
            // The password CloudNativePG generated for the database's owner, defined before the strings that expand it.
            var password = env.FindIndex(e => e.ContainsKey("valueFrom")
                && Get(e, "valueFrom", "secretKeyRef", "name") == $"{Get(cluster, "metadata", "name")}-app" && Get(e, "valueFrom", "secretKeyRef", "key") == "password");
            Assert.InRange(password, 0, env.FindIndex(e => (string)e["name"] == "ConnectionStrings__Postgres") - 1);
            Assert.Equal($"$({env[password]["name"]})", pooled.Password);
            Assert.Equal(pooled.Password, direct.Password);
        }
    }

    [Fact]
    public void The_kubernetes_base_is_whole_and_consistent()
    {
        var kustomization = Map(Load("deploy/kubernetes/kustomization.yaml"));
        var resources = List(kustomization["resources"]).Cast<string>().ToList();
        var documents = resources.SelectMany(r => LoadAll(Path.Combine(Root, "deploy", "kubernetes", r))).Select(Map).ToList();
        IDictionary<object, object> Find(string kind, string name) =>
            documents.Single(d => (string)d["kind"] == kind && Get(d, "metadata", "name") == name);

        Assert.Equal(
            new[] { "ConfigMap", "Deployment", "Ingress", "Job", "Namespace", "PodDisruptionBudget", "Service" },
            documents.Select(d => (string)d["kind"]).Distinct().Order(StringComparer.Ordinal));
        var api = Find("Deployment", "rappelrdv-api");
        var worker = Find("Deployment", "rappelrdv-worker");
        var job = Find("Job", "rappelrdv-migrate");
        Assert.Equal("2", Get(worker, "spec", "replicas"));

        // Images: those compose builds, named in the kustomization so that an overlay can pin them.
        var images = List(kustomization["images"]).Select(i => Get(i, "name")).ToHashSet();
        Assert.Equal(["rappelrdv/api", "rappelrdv/worker"], images.Order(StringComparer.Ordinal));
        Assert.Equal("rappelrdv/api", Get(List(PodSpec(api)["containers"]).Single(), "image"));
        Assert.Equal("rappelrdv/worker", Get(List(PodSpec(worker)["containers"]).Single(), "image"));
        var migrate = Map(List(PodSpec(job)["containers"]).Single());
        Assert.Equal("rappelrdv/api", migrate["image"]);
        Assert.Equal([MigrateOnly.Flag], List(migrate["args"]).Cast<string>());

        foreach (var workload in new[] { api, worker, job })
        {
            var pod = PodSpec(workload);
            Assert.Equal("true", Get(pod, "securityContext", "runAsNonRoot"));
            foreach (var container in List(pod["containers"]).Select(Map))
            {
                Assert.True(container.ContainsKey("resources") && Map(container["resources"]).ContainsKey("requests") && Map(container["resources"]).ContainsKey("limits"));
                Assert.Equal("false", Get(container, "securityContext", "allowPrivilegeEscalation"));
                var sources = List(container["envFrom"]).Select(Map).ToList();
                Assert.Contains(sources, s => s.ContainsKey("configMapRef") && Get(s, "configMapRef", "name") == "rappelrdv-config");
                Assert.Contains(sources, s => s.ContainsKey("secretRef") && Get(s, "secretRef", "name") == "rappelrdv-secrets");
            }
        }

        Find("ConfigMap", "rappelrdv-config");

        // Selectors find the pods they mean.
        var apiLabels = Labels(Map(Map(Map(api["spec"])["template"])["metadata"]));
        var workerLabels = Labels(Map(Map(Map(worker["spec"])["template"])["metadata"]));
        Assert.True(Selector(Find("Service", "rappelrdv-api"), "spec", "selector").All(apiLabels.Contains));
        Assert.True(Selector(Find("PodDisruptionBudget", "rappelrdv-api"), "spec", "selector", "matchLabels").All(apiLabels.Contains));
        Assert.True(Selector(Find("PodDisruptionBudget", "rappelrdv-worker"), "spec", "selector", "matchLabels").All(workerLabels.Contains));
        Assert.False(Selector(Find("PodDisruptionBudget", "rappelrdv-worker"), "spec", "selector", "matchLabels").All(apiLabels.Contains));
        var rule = Map(Get<List<object>>(Find("Ingress", "rappelrdv-api"), "spec", "rules").Single());
        var ingressPath = Map(List(Map(rule["http"])["paths"]).Single());
        Assert.Equal("rappelrdv-api", Get(ingressPath, "backend", "service", "name"));
    }

    [Fact]
    public void The_systemd_units_run_the_published_dlls_as_an_unprivileged_user()
    {
        foreach (var (unit, project) in new[] { ("rappelrdv-api.service", "RappelRdv.Api"), ("rappelrdv-worker@.service", "RappelRdv.Worker") })
        {
            var text = File.ReadAllText(Path.Combine(Root, "deploy", "systemd", unit));
            Assert.Matches($@"(?m)^ExecStart=/usr/bin/dotnet /opt/rappelrdv/\w+/{Regex.Escape(project)}\.dll$", text);
            Assert.Single(Directory.GetFiles(Path.Combine(Root, "src"), $"{project}.csproj", SearchOption.AllDirectories));
            Assert.Matches(@"(?m)^EnvironmentFile=/etc/rappelrdv/rappelrdv\.env$", text);
            Assert.Matches(@"(?m)^User=rappelrdv$", text);
            Assert.Matches(@"(?m)^NoNewPrivileges=true$", text);
        }
    }

    [Fact]
    public void The_operations_guide_describes_every_setting()
    {
        var guide = File.ReadAllText(Path.Combine(Root, "docs", "OPERATIONS.md"));

        var missing = KeysTheCodeReads().Where(k => k != "urls").Concat(HostingKeys).Where(k => !guide.Contains($"`{k}`", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"docs/OPERATIONS.md does not describe {string.Join(", ", missing)}");
    }

    [Fact]
    public void Compose_and_kubernetes_trust_the_forwarded_address_of_the_proxy_they_ship_and_no_one_else()
    {
        // Compose: the host's reverse proxy comes in through the network's gateway, fixed in compose.yaml.
        var env = ReadEnvFile(Path.Combine(Root, "deploy", ".env.example")).Set;
        var network = Map(List(Get<object>(Compose(), "networks", "default", "ipam", "config")).Single());
        Assert.Equal(Get(network, "gateway"), env["ForwardedHeaders__KnownProxies"]);
        Assert.True(System.Net.IPNetwork.Parse(Get(network, "subnet")).Contains(System.Net.IPAddress.Parse(Get(network, "gateway"))));

        // Kubernetes: the ingress controller's pods, somewhere in the private ranges pod networks use; never the whole internet.
        var data = Map(Map(Load("deploy/kubernetes/configmap.yaml"))["data"]);
        var networks = ((string)data["ForwardedHeaders__KnownNetworks"]).Split(',').Select(System.Net.IPNetwork.Parse).ToList();
        Assert.NotEmpty(networks);
        Assert.All(networks, n => Assert.True(n.PrefixLength >= 8 && !n.Contains(System.Net.IPAddress.Parse("8.8.8.8")), n.ToString()));
    }

    [Fact]
    public void The_ingress_takes_512_KiB_on_the_rdv_solidarites_webhook_and_256_KiB_elsewhere()
    {
        var ingresses = LoadAll(Path.Combine(Root, "deploy", "kubernetes", "ingress.yaml")).Select(Map).ToList();
        string BodySizeFor(string path) => ingresses
            .Select(i => (Ingress: i, Paths: List(Map(Map(Get<List<object>>(i, "spec", "rules").Single())["http"])["paths"]).Select(p => Get(p, "path"))))
            .Where(i => i.Paths.Any(p => path.StartsWith(p, StringComparison.Ordinal)))
            .OrderByDescending(i => i.Paths.Where(p => path.StartsWith(p, StringComparison.Ordinal)).Max(p => p.Length))   // nginx: the longest prefix wins
            .Select(i => Get(i.Ingress, "metadata", "annotations", "nginx.ingress.kubernetes.io/proxy-body-size"))
            .First();

        Assert.Equal($"{RequestLimits.MaxWebhookBodyBytes / 1024}k", BodySizeFor("/v1/webhooks/rdv-solidarites/cd83"));
        Assert.Equal($"{RequestLimits.MaxBodyBytes / 1024}k", BodySizeFor("/v1/appointments/x"));
        Assert.Equal($"{RequestLimits.MaxBodyBytes / 1024}k", BodySizeFor("/twilio/sms"));
        // Both serve the same host with the same certificate, to the same Service.
        Assert.Single(ingresses.Select(i => Get(List(Get<object>(i, "spec", "tls")).Single(), "secretName")).Distinct());
        Assert.All(ingresses, i => Assert.Equal("rappelrdv-api",
            Get(List(Map(Map(Get<List<object>>(i, "spec", "rules").Single())["http"])["paths"]).Single(), "backend", "service", "name")));
    }

    // ---- helpers ----

    [GeneratedRegex("""(?:[Cc]onfiguration\["(?<key>[^"]+)"\]|GetValue(?:<[^>]+>)?\("(?<key>[^"]+)"|GetSection\("(?<key>[^"]+)"\)|BindConfiguration\("(?<key>[^"]+)"\)|GetConnectionString\("(?<key>[^"]+)"\))""")]
    private static partial Regex ConfigurationReads();

    [GeneratedRegex(@"(?m)^\s*#\s*(?<key>[A-Za-z][A-Za-z0-9]*(?:__[A-Za-z0-9]+)+):\s")]
    private static partial Regex CommentedYamlKey();

    [GeneratedRegex(@"(?m)^COPY (?!--from)(?<sources>.+) \S+$")]
    private static partial Regex CopyInstruction();

    [GeneratedRegex(@"^\s*(?<comment>#\s*)?(?<key>[A-Za-z_][A-Za-z0-9_]*)=(?<value>.*)$")]
    private static partial Regex EnvLine();

    private static (Dictionary<string, string> Set, HashSet<string> Mentioned) ReadEnvFile(string path)
    {
        var set = new Dictionary<string, string>(StringComparer.Ordinal);
        var mentioned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(path))
        {
            var match = EnvLine().Match(line);
            if (!match.Success)
            {
                continue;
            }

            var key = match.Groups["key"].Value;
            mentioned.Add(key);
            if (!match.Groups["comment"].Success)
            {
                Assert.True(set.TryAdd(key, match.Groups["value"].Value.Trim()), $"{path}: {key} is set twice");
            }
        }

        return (set, mentioned);
    }

    private static IEnumerable<string> ProjectClosure(string projectFile)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([Path.GetFullPath(projectFile)]);
        while (queue.TryDequeue(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            foreach (Match reference in Regex.Matches(File.ReadAllText(current), @"<ProjectReference Include=""([^""]+)"""))
            {
                queue.Enqueue(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, reference.Groups[1].Value.Replace('\\', '/'))));
            }
        }

        return seen;
    }

    private static object Load(string relativePath) => LoadAll(Path.Combine(Root, relativePath)).Single();

    private static List<object> LoadAll(string path)
    {
        var deserializer = new DeserializerBuilder().Build();
        var documents = new List<object>();
        using var reader = new StringReader(File.ReadAllText(path));
        // MergingParser resolves compose's "<<: *app".
        var parser = new MergingParser(new Parser(reader));
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
        {
            documents.Add(deserializer.Deserialize<object>(parser) ?? new Dictionary<object, object>());
        }

        return documents;
    }

    private static IDictionary<object, object> Compose() => Map(Load("deploy/compose.yaml"));

    private static Dictionary<string, IDictionary<object, object>> Services(IDictionary<object, object> compose) =>
        Map(compose["services"]).ToDictionary(s => (string)s.Key, s => Map(s.Value));

    private static IDictionary<object, object> PodSpec(object workload) => Map(Map(Map(Map(workload)["spec"])["template"])["spec"]);

    private static HashSet<KeyValuePair<string, string>> Labels(IDictionary<object, object> metadata) =>
        Map(metadata["labels"]).Select(l => KeyValuePair.Create((string)l.Key, (string)l.Value)).ToHashSet();

    private static HashSet<KeyValuePair<string, string>> Selector(IDictionary<object, object> resource, params string[] path) =>
        Get<Dictionary<object, object>>(resource, path).Select(l => KeyValuePair.Create((string)l.Key, (string)l.Value)).ToHashSet();

    private static IDictionary<object, object> Map(object? node) =>
        node as IDictionary<object, object> ?? throw new InvalidOperationException($"expected a mapping, found {node?.GetType().Name ?? "nothing"}");

    private static List<object> List(object? node) =>
        node as List<object> ?? throw new InvalidOperationException($"expected a sequence, found {node?.GetType().Name ?? "nothing"}");

    private static string Get(object node, params string[] path) => Get<object>(node, path).ToString()!;

    private static T Get<T>(object node, params string[] path)
    {
        var current = node;
        foreach (var step in path)
        {
            var map = Map(current);
            Assert.True(map.ContainsKey(step), $"no '{step}' in {string.Join(".", path)}");
            current = map[step];
        }

        return (T)current;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RappelRdv.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("RappelRdv.sln not found above " + AppContext.BaseDirectory);
    }
}
