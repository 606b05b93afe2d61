extern alias worker;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Api.Stats;
using Microsoft.Extensions.Logging.Abstractions;
using RappelRdv.Contracts;
using StatsCompactor = worker::RappelRdv.Worker.Stats.StatsCompactor;

namespace RappelRdv.Api.Tests;

public sealed class StatsTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private TenantKeys keys = null!;
    private long tenantId;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        keys = await api.CreateTenantAsync("var", new { slug = "var", name = "Var", timeZone = "Europe/Paris" });
        tenantId = await StatsFixtures.TenantIdAsync(api.Database, "var");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private Task Add(string startsAt, string status = "scheduled", string? outcome = null, string? service = "RSA",
        string? location = "UTS Toulon Ouest", string channel = "sms", bool holdout = false, bool confirmed = false) =>
        StatsFixtures.AddAsync(api.Database, tenantId, startsAt, status, outcome, service, location, channel, holdout, confirmed);

    private async Task<NoShowStats> Stats(string query, string? key = null)
    {
        var response = await api.WithKey(key ?? keys.ManagerKey).GetAsync($"/v1/stats/no-show?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<NoShowStats>())!;
    }

    /// <summary>The Worker's compactor, on the Api's database and clock.</summary>
    private StatsCompactor Compactor() => new(api.Database.DataSource, api.Clock, NullLogger<StatsCompactor>.Instance);

    private static NoShowRow Row(NoShowStats stats, string key) => Assert.Single(stats.Rows, r => r.Key == key);

    [Fact]
    public async Task Appointments_count_by_their_local_week_across_both_daylight_saving_changes()
    {
        await Add("2026-03-29T01:30:00Z");   // Sunday 29 March, 03:30 in Paris, just after the change: W13
        await Add("2026-03-29T22:30:00Z");   // still Sunday in UTC, but Monday 30 March 00:30 in Paris: W14
        await Add("2026-10-25T00:30:00Z");   // Sunday 25 October, 02:30 summer time: W43
        await Add("2026-10-25T23:30:00Z");   // Monday 26 October 00:30 winter time: W44

        var stats = await Stats("from=2026-03-23&to=2026-11-01&by=week");

        Assert.Equal(1, Row(stats, "2026-W13").Appointments);
        Assert.Equal(1, Row(stats, "2026-W14").Appointments);
        Assert.Equal(1, Row(stats, "2026-W43").Appointments);
        Assert.Equal(1, Row(stats, "2026-W44").Appointments);
        Assert.Equal(4, stats.Total.Appointments);
        Assert.Equal(4, stats.Rows.Sum(r => r.Appointments));
    }

    [Fact]
    public async Task From_and_to_are_local_dates_both_included()
    {
        await Add("2026-03-31T22:30:00Z");   // 1 April 00:30 in Paris
        await Add("2026-02-28T23:30:00Z");   // 1 March 00:30 in Paris
        await Add("2026-02-28T22:30:00Z");   // 28 February 23:30 in Paris

        var march = await Stats("from=2026-03-01&to=2026-03-31&by=month");
        var months = await Stats("from=2026-02-01&to=2026-04-30&by=month");

        Assert.Equal(1, march.Total.Appointments);
        Assert.Equal(["2026-02", "2026-03", "2026-04"], months.Rows.Select(r => r.Key));
        Assert.Equal([1, 1, 1], months.Rows.Select(r => r.Appointments));
    }

    [Fact]
    public async Task Excused_cancelled_and_unknown_are_counted_but_left_out_of_the_rate()
    {
        await Add("2026-02-02T09:00:00Z", outcome: "honoured");
        await Add("2026-02-02T09:30:00Z", outcome: "honoured");
        await Add("2026-02-02T10:00:00Z", status: "confirmed", outcome: "honoured", confirmed: true);
        await Add("2026-02-02T10:30:00Z", outcome: "no_show");
        await Add("2026-02-03T09:00:00Z", outcome: "excused");
        await Add("2026-02-03T09:30:00Z", status: "cancelled_by_citizen", outcome: "excused"); // an outcome wins over the status
        await Add("2026-02-03T10:00:00Z", status: "cancelled_by_citizen");
        await Add("2026-02-03T10:30:00Z", status: "cancelled_by_service");
        await Add("2026-02-04T09:00:00Z", status: "reschedule_requested");

        var stats = await Stats("from=2026-02-01&to=2026-02-28&by=month");

        var expected = new NoShowCounts(9, 3, 1, 2, 2, 1, 0.25);
        Assert.Equal(expected, stats.Total);
        Assert.Equal(new NoShowRow("2026-02", 9, 3, 1, 2, 2, 1, 0.25), Assert.Single(stats.Rows));
    }

    [Fact]
    public async Task The_answer_has_the_shape_of_the_contract()
    {
        await Add("2026-01-05T09:00:00Z", outcome: "no_show");

        var response = await api.WithKey(keys.ManagerKey).GetAsync("/v1/stats/no-show?from=2026-01-01&to=2026-01-11&by=week");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var root = json.RootElement;
        Assert.Equal("2026-01-01", root.GetProperty("from").GetString());
        Assert.Equal("2026-01-11", root.GetProperty("to").GetString());
        Assert.Equal("week", root.GetProperty("by").GetString());
        var first = root.GetProperty("rows")[0];
        Assert.Equal(["key", "appointments", "honoured", "noShow", "excused", "cancelled", "unknown", "noShowRate"],
            first.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-W01", first.GetProperty("key").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("noShowRate").ValueKind);
        Assert.Equal(1.0, root.GetProperty("rows")[1].GetProperty("noShowRate").GetDouble());
        Assert.Equal(1.0, root.GetProperty("total").GetProperty("noShowRate").GetDouble());
    }

    [Fact]
    public async Task Empty_weeks_and_months_are_rows_with_zero_counts_and_no_rate()
    {
        await Add("2026-01-14T09:00:00Z", outcome: "honoured");

        var weeks = await Stats("from=2026-01-01&to=2026-01-31&by=week");
        var months = await Stats("from=2026-01-15&to=2026-03-02&by=month");
        var nothing = await Stats("from=2027-01-01&to=2027-01-10&by=week");

        // 1 January 2026 is a Thursday of ISO week 1; 31 January a Saturday of week 5.
        Assert.Equal(["2026-W01", "2026-W02", "2026-W03", "2026-W04", "2026-W05"], weeks.Rows.Select(r => r.Key));
        Assert.Equal(new NoShowRow("2026-W01", 0, 0, 0, 0, 0, 0, null), weeks.Rows[0]);
        Assert.Equal(1, Row(weeks, "2026-W03").Honoured);
        Assert.Equal(0.0, Row(weeks, "2026-W03").NoShowRate);
        Assert.Equal(["2026-01", "2026-02", "2026-03"], months.Rows.Select(r => r.Key));
        Assert.Equal(0, months.Rows[0].Appointments); // the 14th is before 'from'
        Assert.Equal(new NoShowCounts(0, 0, 0, 0, 0, 0, null), nothing.Total);
        Assert.Equal(["2026-W53", "2027-W01"], nothing.Rows.Select(r => r.Key));
    }

    [Fact]
    public async Task Each_breakdown_groups_by_its_own_key()
    {
        await Add("2026-02-02T09:00:00Z", outcome: "honoured", service: "RSA", location: "UTS Ouest", channel: "sms", confirmed: true);
        await Add("2026-02-02T09:30:00Z", outcome: "no_show", service: "RSA", location: "UTS Est", channel: "voice");
        await Add("2026-02-02T10:00:00Z", outcome: "no_show", service: "PMI", location: "UTS Est", channel: "none", holdout: true);
        await Add("2026-02-02T10:30:00Z", outcome: "honoured", service: null, location: null, channel: "sms", holdout: true);
        await Add("2026-02-02T11:00:00Z", outcome: "honoured", service: "RSA", location: "UTS Est", channel: "sms");

        const string period = "from=2026-02-01&to=2026-02-28";
        var service = await Stats($"{period}&by=service");
        var location = await Stats($"{period}&by=location");
        var channel = await Stats($"{period}&by=channel");
        var confirmation = await Stats($"{period}&by=confirmation");
        var cohort = await Stats($"{period}&by=cohort");

        Assert.Equal(["RSA", "", "PMI"], service.Rows.Select(r => r.Key)); // most appointments first, then by name
        Assert.Equal(new NoShowRow("RSA", 3, 2, 1, 0, 0, 0, 1 / 3.0), Row(service, "RSA"));
        Assert.Equal(1.0, Row(service, "PMI").NoShowRate);
        Assert.Equal(["UTS Est", "", "UTS Ouest"], location.Rows.Select(r => r.Key));
        Assert.Equal(["sms", "voice", "none"], channel.Rows.Select(r => r.Key));
        Assert.Equal([3, 1, 1], channel.Rows.Select(r => r.Appointments));
        Assert.Equal(["confirmed", "unconfirmed"], confirmation.Rows.Select(r => r.Key));
        Assert.Equal([1, 4], confirmation.Rows.Select(r => r.Appointments));
        Assert.Equal(["reminded", "holdout"], cohort.Rows.Select(r => r.Key));
        Assert.Equal(1 / 3.0, Row(cohort, "reminded").NoShowRate);
        Assert.Equal(0.5, Row(cohort, "holdout").NoShowRate);
        Assert.All(new[] { service, location, channel, confirmation, cohort }, s => Assert.Equal(5, s.Total.Appointments));
    }

    [Fact]
    public async Task Keys_known_in_advance_are_always_there()
    {
        var channel = await Stats("from=2026-02-01&to=2026-02-28&by=channel");
        var cohort = await Stats("from=2026-02-01&to=2026-02-28&by=cohort");
        var service = await Stats("from=2026-02-01&to=2026-02-28&by=service");

        Assert.Equal(["sms", "voice", "none"], channel.Rows.Select(r => r.Key));
        Assert.Equal(["reminded", "holdout"], cohort.Rows.Select(r => r.Key));
        Assert.Empty(service.Rows);
    }

    [Fact]
    public async Task A_tenant_sees_only_its_own_appointments()
    {
        await api.CreateTenantAsync("nord", new { slug = "nord", name = "Nord" });
        var nord = await StatsFixtures.TenantIdAsync(api.Database, "nord");
        await StatsFixtures.AddAsync(api.Database, nord, "2026-02-02T09:00:00Z", outcome: "no_show");
        await Add("2026-02-02T09:00:00Z", outcome: "honoured");

        var stats = await Stats("from=2026-02-01&to=2026-02-28&by=service");

        Assert.Equal(new NoShowCounts(1, 1, 0, 0, 0, 0, 0), stats.Total);
    }

    [Fact]
    public async Task The_manager_key_and_the_api_key_read_statistics_and_nothing_else_does()
    {
        const string url = "/v1/stats/no-show?from=2026-02-01&to=2026-02-28";
        var anonymous = api.CreateClient();
        var wrong = api.WithKey(keys.ManagerKey[..^3] + "xyz");

        Assert.Equal(HttpStatusCode.OK, (await api.WithKey(keys.ManagerKey).GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.WithKey(keys.ApiKey).GetAsync(url)).StatusCode);
        var none = await anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Admin().GetAsync(url)).StatusCode);
        // The manager key stays read-only.
        Assert.Equal(HttpStatusCode.Forbidden, (await api.WithKey(keys.ManagerKey).DeleteAsync("/v1/appointments/x")).StatusCode);
    }

    [Theory]
    [InlineData("to=2026-01-31", "from")]
    [InlineData("from=01/01/2026&to=2026-01-31", "from")]
    [InlineData("from=2026-01-01&to=2026-02-30", "to")]
    [InlineData("from=2026-02-01&to=2026-01-31", "to")]
    [InlineData("from=2023-01-01&to=2026-01-02", "to")]
    [InlineData("from=2026-01-01&to=2026-01-31&by=day", "by")]
    [InlineData("from=2026-01-01&to=2026-01-31&by=WEEK", "by")]
    public async Task A_bad_parameter_is_a_400_that_names_it(string query, string parameter)
    {
        var response = await api.WithKey(keys.ManagerKey).GetAsync($"/v1/stats/no-show?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(parameter, out _), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Three_years_is_the_longest_period_and_by_defaults_to_week()
    {
        var stats = await Stats("from=2024-01-01&to=2027-01-01");

        Assert.Equal("week", stats.By);
        Assert.Equal(157, stats.Rows.Count); // 52 + 52 + 53 ISO weeks
    }

    [Fact]
    public async Task Changes_made_through_the_api_are_counted_at_once_and_after_folding()
    {
        var agenda = api.WithKey(keys.ApiKey);
        object Body(string startsAt) => new { startsAt, citizen = new { phone = "06 12 34 56 78" }, service = "RSA" };
        await agenda.PutAsJsonAsync("/v1/appointments/a", Body("2026-02-02T10:00:00+01:00"));
        await agenda.PutAsJsonAsync("/v1/appointments/b", Body("2026-02-03T10:00:00+01:00"));
        await agenda.PostAsJsonAsync("/v1/appointments/a/outcome", new { outcome = "no_show" });
        await agenda.PutAsJsonAsync("/v1/appointments/b", Body("2026-02-10T10:00:00+01:00")); // rescheduled to the next week
        await agenda.PostAsJsonAsync("/v1/appointments/b/outcome", new { outcome = "honoured" });
        await agenda.PutAsJsonAsync("/v1/appointments/c", Body("2026-02-04T10:00:00+01:00"));
        await agenda.DeleteAsync("/v1/appointments/c");

        var before = await Stats("from=2026-02-02&to=2026-02-15&by=week");
        var folded = await Compactor().CompactAsync(CancellationToken.None);
        var after = await Stats("from=2026-02-02&to=2026-02-15&by=week");

        Assert.Equal(new NoShowRow("2026-W06", 2, 0, 1, 0, 1, 0, 1.0), Row(before, "2026-W06"));
        Assert.Equal(new NoShowRow("2026-W07", 1, 1, 0, 0, 0, 0, 0.0), Row(before, "2026-W07"));
        Assert.Equal(before.Total, after.Total);
        Assert.Equal(before.Rows, after.Rows);
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from appointment_stat_changes"));
        Assert.True(folded >= 0);
    }

    /// <summary>
    /// A creation writes its ledger rows in the creation batch's own statement, the trigger standing
    /// aside (0022_creation_stats.sql): the rows are those the trigger writes for new appointments, for
    /// every key the ledger has, and an appointment inserted otherwise is still counted by the trigger.
    /// </summary>
    [Fact]
    public async Task Creations_write_the_ledger_rows_the_trigger_would_and_other_inserts_keep_the_trigger()
    {
        var agenda = api.WithKey(keys.ApiKey);
        var puts = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 40; i++)
        {
            // 23:30 UTC is the next day in Paris (local days are not UTC days); with and without a service or
            // a place, by SMS and by call, in two languages; sent at once, so that batches hold several of them.
            var startsAt = $"2026-12-{1 + i % 3:00}T{(i % 2 == 0 ? "23:30:00Z" : "08:00:00+01:00")}";
            var phone = i % 5 == 0 ? "01 23 45 67 89" : "06 12 34 56 78";
            puts.Add(agenda.PutAsJsonAsync($"/v1/appointments/ledger-{i}", new
            {
                startsAt,
                citizen = new { phone, language = i % 3 == 0 ? "en" : null },
                service = i % 4 == 0 ? null : "RSA",
                location = i % 6 == 0 ? null : new { name = "UTS Toulon Ouest" },
            }));
        }

        foreach (var response in await Task.WhenAll(puts))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        await Add("2026-12-02T10:00:00Z", service: "PMI"); // inserted in SQL: the trigger counts it

        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        const string Keys = "day, service, location_name, channel, confirmed, holdout, language, variant, risk";
        var written = (await connection.QueryAsync<string>(
            $"""
            select concat_ws('|', {Keys}, sum(appointments), sum(honoured), sum(no_show), sum(excused), sum(cancelled))
            from appointment_stat_changes where tenant_id = @tenantId group by {Keys} order by 1
            """, new { tenantId })).ToList();
        // What the trigger's INSERT branch gives for these appointments, all new (0014_risk_reminders.sql).
        var recounted = (await connection.QueryAsync<string>(
            $"""
            select concat_ws('|', {Keys}, count(*), 0, 0, 0, 0)
            from (select (a.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date as day,
                         coalesce(a.service, '') as service, coalesce(a.location_name, '') as location_name, a.channel,
                         a.confirmed_at is not null as confirmed, a.holdout, a.language, coalesce(a.variant, '') as variant, a.risk
                  from appointments a join tenants t on t.id = a.tenant_id where a.tenant_id = @tenantId) s
            group by {Keys} order by 1
            """, new { tenantId })).ToList();

        Assert.True(recounted.Count > 10, string.Join("\n", recounted));
        Assert.Equal(recounted, written);
        Assert.Equal(41, await connection.ExecuteScalarAsync<long>(
            "select sum(appointments) from appointment_stat_changes where tenant_id = @tenantId", new { tenantId }));
    }

    [Fact]
    public async Task A_new_time_zone_moves_appointments_to_their_new_local_day()
    {
        await Add("2026-03-02T02:00:00Z", outcome: "honoured"); // Monday 03:00 in Paris, Sunday 22:00 in Guadeloupe
        await Compactor().CompactAsync(CancellationToken.None);
        Assert.Equal(1, Row(await Stats("from=2026-02-23&to=2026-03-08&by=week"), "2026-W10").Appointments);

        var changed = await api.Admin().PutAsJsonAsync("/v1/admin/tenants/var", new { slug = "var", name = "Var", timeZone = "America/Guadeloupe" });
        changed.EnsureSuccessStatusCode();

        var stats = await Stats("from=2026-02-23&to=2026-03-08&by=week");
        Assert.Equal(1, Row(stats, "2026-W09").Appointments);
        Assert.Equal(0, Row(stats, "2026-W10").Appointments);
        Assert.Equal(1, stats.Total.Appointments);
    }
}
