using System.Net;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>The dashboard over HTTP, as a browser would send it (the browser itself is in DashboardBrowserTests).</summary>
public sealed class DashboardTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private TenantKeys keys = null!;
    private long tenantId;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        keys = await api.CreateTenantAsync("var", new { slug = "var", name = "Département du Var", holdoutPercent = 10 });
        tenantId = await StatsFixtures.TenantIdAsync(api.Database, "var");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private HttpClient Browser(string baseAddress = "http://localhost") =>
        api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false, BaseAddress = new Uri(baseAddress) });

    private static HttpRequestMessage Post(string path, string? key = null, string? origin = "http://localhost", string? fetchSite = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(key is null ? [] : [new KeyValuePair<string, string>("key", key)]),
        };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        return request;
    }

    /// <summary>Signs in with the key, as the login form does, and returns the session cookie ("rappel_manager=…").</summary>
    private async Task<string> SessionCookieAsync(string? key = null)
    {
        var login = await Browser().SendAsync(Post("/dashboard/login", key ?? keys.ManagerKey));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        return Assert.Single(login.Headers.GetValues("Set-Cookie")).Split(';')[0];
    }

    private async Task<HttpResponseMessage> GetWithCookieAsync(string path, string? key = null, string? cookie = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie ?? await SessionCookieAsync(key));
        return await Browser().SendAsync(request);
    }

    private static string Decoded(string html) => WebUtility.HtmlDecode(html);

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/dashboard?from=2026-01-01&to=2026-03-31")]
    [InlineData("/dashboard/export.csv?from=2026-01-01&to=2026-03-31&by=week")]
    public async Task Without_the_cookie_the_dashboard_sends_to_the_login_form_and_shows_no_data(string path)
    {
        var response = await Browser().GetAsync(path);
        // The old cookie held the key itself; a key is no session, nor is a ticket someone altered.
        var withKeyAsCookie = await GetWithCookieAsync(path, cookie: $"rappel_manager={keys.ManagerKey}");
        var session = await SessionCookieAsync();
        var withAlteredTicket = await GetWithCookieAsync(path, cookie: session[..^6] + (session[^6..] == "AAAAAA" ? "BBBBBB" : "AAAAAA"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard/login", response.Headers.Location?.OriginalString);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("/dashboard/login", withKeyAsCookie.Headers.Location?.OriginalString);
        Assert.Equal("/dashboard/login", withAlteredTicket.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task The_login_form_is_french_and_accessible()
    {
        var response = await Browser().GetAsync("/dashboard/login");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<html lang=\"fr\">", html);
        Assert.Contains("<label for=\"key\">Clé de gestion</label>", html);
        Assert.Contains("method=\"post\" action=\"/dashboard/login\"", html);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Logging_in_sets_an_HttpOnly_SameSite_Strict_cookie_for_the_dashboard_only()
    {
        var response = await Browser().SendAsync(Post("/dashboard/login", keys.ManagerKey));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard", response.Headers.Location?.OriginalString);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("rappel_manager=", cookie);
        Assert.DoesNotContain(keys.ManagerKey, cookie);
        Assert.DoesNotContain(keys.ManagerKey[4..], cookie);
        Assert.Contains("max-age=43200", cookie); // 12 hours
        Assert.Contains("path=/dashboard", cookie);
        Assert.Contains("httponly", cookie);
        Assert.Contains("samesite=strict", cookie);
        Assert.DoesNotContain("secure", cookie);
    }

    [Fact]
    public async Task Over_https_the_cookie_is_Secure()
    {
        var response = await Browser("https://localhost").SendAsync(Post("/dashboard/login", keys.ManagerKey, origin: "https://localhost"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("secure", Assert.Single(response.Headers.GetValues("Set-Cookie")));
    }

    [Fact]
    public async Task The_apiKey_opens_the_dashboard_too()
    {
        var page = await GetWithCookieAsync("/dashboard", keys.ApiKey);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task A_wrong_key_shows_the_form_again_with_a_message_and_sets_no_cookie()
    {
        var response = await Browser().SendAsync(Post("/dashboard/login", "rrm_var_not-the-key"));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Clé inconnue", Decoded(html));
        Assert.Contains("role=\"alert\"", html);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("https://attacker.example", null)]
    [InlineData("null", null)]
    [InlineData("http://localhost", "cross-site")]
    [InlineData(null, "same-site")]
    public async Task A_form_posted_from_another_site_is_refused(string? origin, string? fetchSite)
    {
        var login = await Browser().SendAsync(Post("/dashboard/login", keys.ManagerKey, origin, fetchSite));
        var logout = await Browser().SendAsync(Post("/dashboard/logout", origin: origin, fetchSite: fetchSite));

        Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);
        Assert.False(login.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.Forbidden, logout.StatusCode);
    }

    [Fact]
    public async Task A_form_from_the_public_address_behind_a_proxy_is_accepted()
    {
        var response = await Browser().SendAsync(Post("/dashboard/login", keys.ManagerKey, origin: "http://rappel.test"));
        var fromFetchMetadata = await Browser().SendAsync(Post("/dashboard/login", keys.ManagerKey, origin: null, fetchSite: "same-origin"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, fromFetchMetadata.StatusCode);
    }

    [Fact]
    public async Task Logging_out_clears_the_cookie()
    {
        var response = await Browser().SendAsync(Post("/dashboard/logout"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard/login", response.Headers.Location?.OriginalString);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("rappel_manager=;", cookie);
        Assert.Contains("expires=Thu, 01 Jan 1970", cookie);
        Assert.Contains("path=/dashboard", cookie);
    }

    [Fact]
    public async Task The_page_shows_every_breakdown_with_a_table_beside_each_chart()
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-02T09:00:00Z", outcome: "honoured", service: "RSA <script>", confirmed: true);
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-03T09:00:00Z", outcome: "no_show", service: "PMI", channel: "voice");
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-04T09:00:00Z", outcome: "no_show", holdout: true);
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-05T09:00:00Z");  // past, outcome still unknown

        var response = await GetWithCookieAsync("/dashboard");
        var raw = await response.Content.ReadAsStringAsync();
        var html = Decoded(raw);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("<!DOCTYPE html>", raw);
        Assert.Contains("<html lang=\"fr\">", raw);
        Assert.Contains("rel=\"stylesheet\" href=\"/dashboard/dashboard.css\"", raw);
        Assert.DoesNotContain("<style", raw);
        Assert.Contains("<h1>Absences aux rendez-vous</h1>", html);
        Assert.Contains("Département du Var", html);
        foreach (var heading in new[] { "Taux d'absence par semaine", "Taux d'absence par service", "Taux d'absence par canal de rappel",
                     "Rendez-vous confirmés ou non", "Avec ou sans rappel (groupe témoin)", "Échecs d'envoi récents" })
        {
            Assert.Contains($">{heading}</h2>", html);
        }

        Assert.Equal(5, CountOf(html, "<svg "));
        Assert.Equal(5, CountOf(html, "role=\"img\""));
        Assert.Equal(5, CountOf(html, "<caption>Détail"));
        Assert.Contains("RSA &lt;script&gt;", raw);
        Assert.DoesNotContain("<script", raw);
        Assert.Contains("Échantillon trop petit pour conclure", html);
        Assert.DoesNotContain("Essai de formulation", html); // no trial, none in the period
        Assert.DoesNotContain("id=\"essai\"", raw);
        Assert.Contains("<dt>Passés sans issue renseignée</dt><dd>1</dd>", html);
        Assert.Contains("<dd>66,7\u00A0%</dd>", html); // 2 no-shows out of 3
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("style-src 'self';", csp); // the style sheet is a file: no inline style allowed
    }

    [Fact]
    public async Task A_wording_trial_compares_each_variant_with_the_reference_and_warns_while_a_sample_is_small()
    {
        var trial = await api.CreateTenantAsync("trial", new
        {
            slug = "trial", name = "Département de l'essai",
            texts = new
            {
                experiment = new
                {
                    name = "cout-absence",
                    variants = new Dictionary<string, object> { ["A"] = new { }, ["B"] = new { }, ["C"] = new { }, ["D"] = new { } },
                },
            },
        });
        var trialId = await StatsFixtures.TenantIdAsync(api.Database, "trial");
        var cookie = await SessionCookieAsync(trial.ManagerKey);
        var before = Decoded(await (await GetWithCookieAsync("/dashboard", cookie: cookie)).Content.ReadAsStringAsync());
        Task Add(string variant, string outcome, int count) =>
            StatsFixtures.AddAsync(api.Database, trialId, "2026-11-02T08:00:00Z", outcome: outcome, variant: variant, count: count);
        await Add("A", "honoured", 320);
        await Add("A", "no_show", 80);      // 20 %, the reference
        await Add("B", "honoured", 368);
        await Add("B", "no_show", 32);      // 8 %: p < 0,001
        await Add("C", "honoured", 324);
        await Add("C", "no_show", 76);      // 19 %: chance
        await Add("D", "honoured", 8);
        await Add("D", "no_show", 2);       // 10 decided: too few
        await StatsFixtures.AddAsync(api.Database, trialId, "2026-11-03T08:00:00Z", variant: "D"); // not decided yet
        await StatsFixtures.AddAsync(api.Database, trialId, "2026-11-03T09:00:00Z", outcome: "no_show"); // before the trial

        var response = await GetWithCookieAsync("/dashboard", cookie: cookie);
        var html = Decoded(await response.Content.ReadAsStringAsync());
        var section = html[html.IndexOf("<section aria-labelledby=\"essai\">", StringComparison.Ordinal)..];
        section = section[..(section.IndexOf("</section>", StringComparison.Ordinal) + "</section>".Length)];

        Assert.Contains(">Essai de formulation des rappels</h2>", before);
        Assert.Contains("Pas encore deux variantes avec des rendez-vous sur la période", before);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Essai en cours : « cout-absence », variantes A, B, C, D.", section);
        Assert.Contains("<caption>Détail : essai de formulation des rappels</caption>", section);
        Assert.Contains("role=\"img\"", section);
        Assert.Contains(
            "<tr><th scope=\"row\">Variante A</th><td class=\"n\">400</td><td class=\"n\">400</td><td class=\"n\">80</td><td class=\"n\">20,0\u00A0%</td>"
            + "<td class=\"n\">—</td><td class=\"n\">—</td><td>Variante de référence</td></tr>", section);
        Assert.Contains(
            "<tr><th scope=\"row\">Variante B</th><td class=\"n\">400</td><td class=\"n\">400</td><td class=\"n\">32</td><td class=\"n\">8,0\u00A0%</td>"
            + "<td class=\"n\">−12,0 points</td><td class=\"n\">< 0,001</td><td>Significativement plus bas que la variante de référence</td></tr>", section);
        Assert.Contains(
            "<tr><th scope=\"row\">Variante C</th><td class=\"n\">400</td><td class=\"n\">400</td><td class=\"n\">76</td><td class=\"n\">19,0\u00A0%</td>"
            + "<td class=\"n\">−1,0 points</td><td class=\"n\">0,721</td>"
            + "<td>Pas de différence démontrée : l'écart peut être dû au hasard</td></tr>", section);
        Assert.Contains(
            "<tr><th scope=\"row\">Variante D</th><td class=\"n\">11</td><td class=\"n\">10</td><td class=\"n\">2</td><td class=\"n\">20,0\u00A0%</td>"
            + "<td class=\"n\">0 point</td><td class=\"n\">—</td><td>Échantillon trop petit pour conclure</td></tr>", section);
        Assert.DoesNotContain("Hors essai", section); // appointments outside the trial are compared with nothing
        Assert.Contains("Avec 3 comparaisons, une différence n'est retenue que si p < 0,017", section);
        Assert.Contains("<p class=\"notice\" role=\"status\">Échantillon trop petit pour conclure : il faut au moins 30 rendez-vous honorés ou manqués "
            + "dans chaque variante (pas encore : D).", section);
        Assert.Contains("href=\"/dashboard/export.csv?from=2026-08-31&to=2026-11-27&by=variant\"", section);
    }

    [Fact]
    public async Task A_trial_that_ended_is_still_shown_for_a_period_that_has_its_appointments()
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-02T08:00:00Z", outcome: "honoured", variant: "A", count: 40);
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-02T09:00:00Z", outcome: "honoured", variant: "B", count: 40);

        var cookie = await SessionCookieAsync();
        var html = Decoded(await (await GetWithCookieAsync("/dashboard", cookie: cookie)).Content.ReadAsStringAsync());
        var before = Decoded(await (await GetWithCookieAsync("/dashboard?from=2026-10-01&to=2026-10-31", cookie: cookie)).Content.ReadAsStringAsync());

        Assert.Contains(">Essai de formulation des rappels</h2>", html);
        Assert.Contains("Aucun essai en cours : la période compte des rendez-vous d'un essai passé.", html);
        Assert.Contains("<td>Pas de différence démontrée : l'écart peut être dû au hasard</td>", html);
        Assert.DoesNotContain("role=\"status\">Échantillon trop petit pour conclure : il faut au moins 30 rendez-vous honorés ou manqués dans chaque variante", html);
        Assert.DoesNotContain("Essai de formulation", before);
    }

    [Fact]
    public async Task The_CSV_of_a_trial_names_its_variants()
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-02-03T09:00:00Z", outcome: "no_show", variant: "A");
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-02-03T10:00:00Z", outcome: "honoured", variant: "B");
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-02-03T11:00:00Z", outcome: "honoured");

        var response = await GetWithCookieAsync("/dashboard/export.csv?from=2026-02-01&to=2026-02-28&by=variant");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var lines = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3).Split("\r\n");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Clé;Variante;Rendez-vous;Honorés;Absents;Excusés;Annulés;Sans issue;Taux d'absence", lines[0]);
        Assert.Contains(";Hors essai;1;1;0;0;0;0;0,0000", lines);
        Assert.Contains("A;Variante A;1;0;1;0;0;0;1,0000", lines);
        Assert.Contains("B;Variante B;1;1;0;0;0;0;0,0000", lines);
    }

    [Fact]
    public async Task Delivery_failures_show_a_masked_phone_and_no_name()
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-30T09:00:00Z", phone: "+33698765432");
        await using (var connection = await api.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                """
                update appointments set first_name = 'Awa', last_name = 'Diallo';
                insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, error, created_at, updated_at)
                select gen_random_uuid(), id, tenant_id, 'reminder', 'sms', 1, now(), 'failed',
                       '21211: The ''To'' number +33698765432 is not a valid phone number', now(), '2026-11-26T10:05:00Z'
                from appointments
                """);
        }

        var html = Decoded(await (await GetWithCookieAsync("/dashboard")).Content.ReadAsStringAsync());

        Assert.Contains("+336******32", html);
        Assert.Contains("26/11/2026 à 11h05", html); // local time
        Assert.DoesNotContain("98765432", html);
        Assert.DoesNotContain("Diallo", html);
        Assert.DoesNotContain("Awa", html);
    }

    [Fact]
    public async Task The_period_filter_is_a_plain_GET_form()
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-02-03T09:00:00Z", outcome: "no_show");

        var cookie = await SessionCookieAsync();
        var chosen = await (await GetWithCookieAsync("/dashboard?from=2026-02-01&to=2026-02-28", cookie: cookie)).Content.ReadAsStringAsync();
        var invalid = Decoded(await (await GetWithCookieAsync("/dashboard?from=2026-02-28&to=2026-02-01", cookie: cookie)).Content.ReadAsStringAsync());

        Assert.Contains("<form method=\"get\" action=\"/dashboard\"", chosen);
        Assert.Contains("name=\"from\" value=\"2026-02-01\"", chosen);
        Assert.Contains("name=\"to\" value=\"2026-02-28\"", chosen);
        Assert.Contains("<th scope=\"row\">S06 · 2 févr.</th>", Decoded(chosen));
        Assert.Contains("href=\"/dashboard/export.csv?from=2026-02-01&amp;to=2026-02-28&amp;by=service\"", chosen);
        Assert.Contains("Période invalide", invalid);
        Assert.Contains("name=\"to\" value=\"2026-11-27\"", invalid); // the default period, up to today
    }

    [Fact]
    public async Task The_CSV_opens_in_french_Excel()
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-02-03T09:00:00Z", outcome: "no_show", service: "RSA; insertion");
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-02-03T10:00:00Z", outcome: "honoured", service: "=1+1");
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-02-03T11:00:00Z", outcome: "honoured", service: "=1+1");

        var response = await GetWithCookieAsync("/dashboard/export.csv?from=2026-02-01&to=2026-02-28&by=service");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var text = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3);
        var lines = text.Split("\r\n");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("absences_2026-02-01_2026-02-28_service.csv", response.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.Equal("Clé;Service;Rendez-vous;Honorés;Absents;Excusés;Annulés;Sans issue;Taux d'absence", lines[0]);
        Assert.Equal("'=1+1;'=1+1;2;2;0;0;0;0;0,0000", lines[1]);
        Assert.Equal("\"RSA; insertion\";\"RSA; insertion\";1;0;1;0;0;0;1,0000", lines[2]);
        Assert.Equal("Total;du 01/02/2026 au 28/02/2026;3;2;1;0;0;0;0,3333", lines[3]);
        Assert.Equal("", lines[4]);
        Assert.DoesNotContain("\n", text.Replace("\r\n", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bad_export_parameter_is_a_400_naming_it()
    {
        var response = await GetWithCookieAsync("/dashboard/export.csv?from=2026-02-01&to=2026-02-28&by=day");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"by\"", await response.Content.ReadAsStringAsync());
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
