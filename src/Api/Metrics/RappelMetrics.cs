using Dapper;
using Npgsql;
using Prometheus;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Replies;

namespace RappelRdv.Api.Metrics;

/// <summary>
/// The service's series for Prometheus, read from the database when scraped (at most every
/// <see cref="CacheFor"/>): any number of Api and Worker processes share one database, so any Api
/// process gives the same, complete answer. Labels carry the tenant's slug and words of the
/// contract, never a phone, a name or a message text.
/// </summary>
internal sealed class RappelMetrics
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(15);

    /// <summary>Messages and replies are counted over this window (and messages due later).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(30);

    /// <summary>The delay between due and sent is measured over the messages sent this recently.</summary>
    public static readonly TimeSpan DelayWindow = TimeSpan.FromMinutes(10);

    /// <summary>What happened lately, for alerts (failures, nothing sent): messages whose status changed this recently.</summary>
    public static readonly TimeSpan RecentWindow = TimeSpan.FromHours(1);

    private readonly NpgsqlDataSource db;
    private readonly TimeProvider clock;
    private readonly ILogger<RappelMetrics> logger;
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private DateTimeOffset? refreshedAt;

    private readonly LabelledGauge messages;
    private readonly LabelledGauge recentMessages;
    private readonly LabelledGauge replies;
    private readonly LabelledGauge outcomes;
    private readonly LabelledGauge noShowRatio;
    private readonly LabelledGauge decided;
    private readonly LabelledGauge delay;
    private readonly Gauge dispatchLag;
    private readonly Gauge eventsPending;
    private readonly LabelledGauge writeBacks;
    private readonly Gauge sentRecently;
    private readonly Gauge lastRefresh;
    private readonly Counter refreshFailures;

    public RappelMetrics(NpgsqlDataSource db, TimeProvider clock, ILogger<RappelMetrics> logger)
    {
        this.db = db;
        this.clock = clock;
        this.logger = logger;
        // A registry per host, not prometheus-net's static one: tests run several hosts in one process.
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        messages = new(factory.CreateGauge("rappel_messages",
            "Messages due in the last 30 days or later, by tenant, channel, kind and status (replies are kind 'reply').",
            "tenant", "channel", "kind", "status"));
        recentMessages = new(factory.CreateGauge("rappel_messages_last_hour",
            "Outgoing messages due in the last day whose status changed in the last hour, by tenant, channel, kind and the status " +
            "they have now: what alerts on failures, or on nothing sent, look at.",
            "tenant", "channel", "kind", "status"));
        replies = new(factory.CreateGauge("rappel_replies",
            "Citizens' replies received in the last 30 days, by tenant, channel and intent as the reply parser reads them " +
            "in the citizen's language and in French " +
            "(confirm, cancel, reschedule, opt_out, opt_in, other; unknown once the text is erased).",
            "tenant", "channel", "intent"));
        outcomes = new(factory.CreateGauge("rappel_appointments",
            "Appointments of past days (local to the tenant), by tenant and outcome: honoured, no_show, excused, cancelled " +
            "(without an outcome), unknown (no outcome recorded yet).",
            "tenant", "outcome"));
        noShowRatio = new(factory.CreateGauge("rappel_no_show_ratio",
            "No-shows / (honoured + no-shows) over the last 30 days (local days before today), per tenant; absent without either.",
            "tenant"));
        decided = new(factory.CreateGauge("rappel_no_show_ratio_sample",
            "Honoured + no-shows over the last 30 days, per tenant: the sample behind rappel_no_show_ratio.",
            "tenant"));
        delay = new(factory.CreateGauge("rappel_dispatch_delay_seconds",
            "Seconds from due to sent of the outgoing messages sent in the last 10 minutes, at these quantiles (1 is the longest).",
            "quantile"));
        dispatchLag = factory.CreateGauge("rappel_dispatch_lag_seconds",
            "How late the oldest due message still pending is, in seconds (0 when none is due): the contract wants 30 at most.");
        eventsPending = factory.CreateGauge("rappel_events_pending",
            "Events (confirmations, cancellations…) not yet delivered to the agendas.");
        // Counted from the outbox, which keeps every write-back: done and failed only grow, like a counter's.
        writeBacks = new(factory.CreateGauge("rappel_rdvs_writebacks_total",
            "Citizens' cancellations written back to RDV-Solidarités (CONTRACT §10), by result: done, failed (final), pending.",
            "result"));
        sentRecently = factory.CreateGauge("rappel_dispatch_sent_last_10m",
            "Outgoing messages sent in the last 10 minutes: the sample behind rappel_dispatch_delay_seconds.");
        lastRefresh = factory.CreateGauge("rappel_metrics_refreshed_timestamp_seconds",
            "When these series were last read from the database (Unix time).");
        refreshFailures = factory.CreateCounter("rappel_metrics_refresh_failures_total",
            "Reads of these series from the database that failed; the previous values stay.");
        DotNetStats.Register(Registry);
        Registry.AddBeforeCollectCallback(RefreshAsync);
    }

    public CollectorRegistry Registry { get; }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await refreshing.WaitAsync(cancellationToken);
        try
        {
            var now = clock.GetUtcNow();
            if (refreshedAt is { } last && now - last < CacheFor && now >= last)
            {
                return;
            }

            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            await ReadMessagesAsync(connection, now);
            await ReadRepliesAsync(connection, now);
            await ReadOutcomesAsync(connection, now);
            await ReadDispatchAsync(connection, now);
            refreshedAt = now;
            lastRefresh.Set(now.ToUnixTimeMilliseconds() / 1000.0);
        }
        catch (NpgsqlException e)
        {
            refreshFailures.Inc();
            logger.LogWarning(e, "Reading the metrics from the database failed");
        }
        finally
        {
            refreshing.Release();
        }
    }

    private async Task ReadMessagesAsync(NpgsqlConnection connection, DateTimeOffset now)
    {
        var rows = await connection.QueryAsync<MessageCount>(
            """
            select t.slug as tenant, m.channel, m.kind, m.status, count(*) as count
            from messages m join tenants t on t.id = m.tenant_id
            where m.due_at >= @since
            group by t.slug, m.channel, m.kind, m.status
            """,
            new { since = now - Window });
        messages.Publish(rows.Select(r => ((string[])[r.Tenant, r.Channel, r.Kind, r.Status], (double)r.Count)));

        // Dispatch happens around the due time and Twilio's callbacks within minutes: the due_at index
        // bounds the scan to a day; a callback for a message due earlier than that is not counted.
        var recent = await connection.QueryAsync<MessageCount>(
            """
            select t.slug as tenant, m.channel, m.kind, m.status, count(*) as count
            from messages m join tenants t on t.id = m.tenant_id
            where m.due_at >= @dueSince and m.due_at <= @now and m.updated_at >= @since and m.direction = 'out'
            group by t.slug, m.channel, m.kind, m.status
            """,
            new { dueSince = now - TimeSpan.FromDays(1), now, since = now - RecentWindow });
        recentMessages.Publish(recent.Select(r => ((string[])[r.Tenant, r.Channel, r.Kind, r.Status], (double)r.Count)));
    }

    private async Task ReadRepliesAsync(NpgsqlConnection connection, DateTimeOffset now)
    {
        // Replies are few distinct texts ("OUI", "Oui merci", "touche 1"...): grouped by text and by the
        // language the citizen was written to in the database, each read once here by the parser that
        // acted on it, in that language ("EVET" confirms for a Turkish citizen, means nothing in French).
        var rows = await connection.QueryAsync<ReplyCount>(
            """
            select t.slug as tenant, m.channel, a.language, left(m.body, 200) as body, count(*) as count
            from messages m join tenants t on t.id = m.tenant_id join appointments a on a.id = m.appointment_id
            where m.due_at >= @since and m.kind = 'reply' and m.direction = 'in'
            group by t.slug, m.channel, a.language, left(m.body, 200)
            """,
            new { since = now - Window });
        replies.Publish(rows
            .GroupBy(r => (r.Tenant, r.Channel, Intent: Intent(r.Channel, r.Body, r.Language)))
            .Select(g => ((string[])[g.Key.Tenant, g.Key.Channel, g.Key.Intent], (double)g.Sum(r => r.Count))));
    }

    /// <summary>
    /// The reply's intent as the contract defines it, read in the citizen's language and in French as
    /// the reply handler read it; a key pressed on a call is stored as "touche 1".
    /// </summary>
    internal static string Intent(string channel, string? body, string? language)
    {
        if (body is null)
        {
            return "unknown";
        }

        if (channel == "voice" && body.StartsWith("touche ", StringComparison.Ordinal))
        {
            body = body["touche ".Length..];
        }

        return ReplyParser.Parse(body, language) switch
        {
            ReplyIntent.Confirm => "confirm",
            ReplyIntent.Cancel => "cancel",
            ReplyIntent.Reschedule => "reschedule",
            ReplyIntent.OptOut => "opt_out",
            ReplyIntent.OptIn => "opt_in",
            _ => "other",
        };
    }

    private async Task ReadOutcomesAsync(NpgsqlConnection connection, DateTimeOffset now)
    {
        var rows = (await connection.QueryAsync<OutcomeCount>(
            """
            with tenant as (
                select id, slug, (@now at time zone coalesce(settings ->> 'timeZone', 'Europe/Paris'))::date as today
                from tenants
            ),
            counted as (
                select tenant_id, day, appointments, honoured, no_show, excused, cancelled
                from appointment_stats where dimension = 'day'
                union all
                select tenant_id, day, appointments, honoured, no_show, excused, cancelled
                from appointment_stat_changes
            )
            select t.slug as tenant,
                   coalesce(sum(c.appointments), 0) as appointments, coalesce(sum(c.honoured), 0) as honoured,
                   coalesce(sum(c.no_show), 0) as no_show, coalesce(sum(c.excused), 0) as excused,
                   coalesce(sum(c.cancelled), 0) as cancelled,
                   coalesce(sum(c.honoured) filter (where c.day >= t.today - 30), 0) as recent_honoured,
                   coalesce(sum(c.no_show) filter (where c.day >= t.today - 30), 0) as recent_no_show
            from tenant t left join counted c on c.tenant_id = t.id and c.day < t.today
            group by t.slug
            """,
            new { now })).AsList();
        outcomes.Publish(rows.SelectMany(r => new[]
        {
            ((string[])[r.Tenant, "honoured"], (double)r.Honoured),
            ([r.Tenant, "no_show"], r.NoShow),
            ([r.Tenant, "excused"], r.Excused),
            ([r.Tenant, "cancelled"], r.Cancelled),
            ([r.Tenant, "unknown"], r.Appointments - r.Honoured - r.NoShow - r.Excused - r.Cancelled),
        }));
        noShowRatio.Publish(rows
            .Where(r => r.RecentHonoured + r.RecentNoShow > 0)
            .Select(r => ((string[])[r.Tenant], (double)r.RecentNoShow / (r.RecentHonoured + r.RecentNoShow))));
        decided.Publish(rows.Select(r => ((string[])[r.Tenant], (double)(r.RecentHonoured + r.RecentNoShow))));
    }

    private async Task ReadDispatchAsync(NpgsqlConnection connection, DateTimeOffset now)
    {
        var oldest = await connection.ExecuteScalarAsync<DateTime?>(
            "select min(due_at) from messages where status = 'pending' and due_at <= @now", new { now });
        dispatchLag.Set(oldest is { } due ? Math.Max(0, (now - due.AsUtc()).TotalSeconds) : 0);
        eventsPending.Set(await connection.ExecuteScalarAsync<long>("select count(*) from events where status = 'pending'"));
        var written = (await connection.QueryAsync<(string Status, long Count)>("select status, count(*) from rdvs_writebacks group by status"))
            .ToDictionary(r => r.Status, r => r.Count);
        writeBacks.Publish(new[] { "done", "failed", "pending" }.Select(result => ((string[])[result], (double)written.GetValueOrDefault(result))));

        var sent = await connection.QuerySingleAsync<DelayRow>(
            """
            select count(*) as count,
                   percentile_cont(0.5) within group (order by extract(epoch from sent_at - due_at)::float8) as p50,
                   percentile_cont(0.95) within group (order by extract(epoch from sent_at - due_at)::float8) as p95,
                   percentile_cont(0.99) within group (order by extract(epoch from sent_at - due_at)::float8) as p99,
                   max(extract(epoch from sent_at - due_at))::float8 as max
            from messages
            where direction = 'out' and due_at >= @dueSince and sent_at >= @sentSince and sent_at <= @now
            """,
            new { now, dueSince = now - TimeSpan.FromDays(1), sentSince = now - DelayWindow });
        sentRecently.Set(sent.Count);
        delay.Publish(sent.Count == 0
            ? []
            : new (string[], double)[]
            {
                (["0.5"], Math.Max(0, sent.P50 ?? 0)),
                (["0.95"], Math.Max(0, sent.P95 ?? 0)),
                (["0.99"], Math.Max(0, sent.P99 ?? 0)),
                (["1"], Math.Max(0, sent.Max ?? 0)),
            });
    }

    private sealed class MessageCount
    {
        public string Tenant { get; set; } = "";
        public string Channel { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Status { get; set; } = "";
        public long Count { get; set; }
    }

    private sealed class ReplyCount
    {
        public string Tenant { get; set; } = "";
        public string Channel { get; set; } = "";
        public string? Language { get; set; }
        public string? Body { get; set; }
        public long Count { get; set; }
    }

    private sealed class OutcomeCount
    {
        public string Tenant { get; set; } = "";
        public long Appointments { get; set; }
        public long Honoured { get; set; }
        public long NoShow { get; set; }
        public long Excused { get; set; }
        public long Cancelled { get; set; }
        public long RecentHonoured { get; set; }
        public long RecentNoShow { get; set; }
    }

    private sealed class DelayRow
    {
        public long Count { get; set; }
        public double? P50 { get; set; }
        public double? P95 { get; set; }
        public double? P99 { get; set; }
        public double? Max { get; set; }
    }
}

/// <summary>A gauge whose label sets come and go with the data: sets not published again are removed.</summary>
internal sealed class LabelledGauge(Gauge gauge)
{
    private readonly HashSet<string[]> published = new(LabelsComparer.Instance);

    public void Publish(IEnumerable<(string[] Labels, double Value)> values)
    {
        var seen = new HashSet<string[]>(LabelsComparer.Instance);
        foreach (var (labels, value) in values)
        {
            gauge.WithLabels(labels).Set(value);
            seen.Add(labels);
        }

        foreach (var gone in published.Where(labels => !seen.Contains(labels)).ToList())
        {
            gauge.RemoveLabelled(gone);
        }

        published.Clear();
        published.UnionWith(seen);
    }

    private sealed class LabelsComparer : IEqualityComparer<string[]>
    {
        public static readonly LabelsComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.SequenceEqual(y, StringComparer.Ordinal);

        public int GetHashCode(string[] obj)
        {
            var hash = new HashCode();
            foreach (var label in obj)
            {
                hash.Add(label, StringComparer.Ordinal);
            }

            return hash.ToHashCode();
        }
    }
}
