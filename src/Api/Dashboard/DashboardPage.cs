using RappelRdv.Api.Stats;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Dashboard;

/// <summary>
/// The managers' page, in French, server-rendered: real headings, a table with each chart,
/// no script at all (forms and links do everything), colours above 4.5:1 contrast.
/// </summary>
internal static class DashboardPage
{
    private const string Style = """
        :root { color: #1b1b1b; background: #fff; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; line-height: 1.45; }
        body { margin: 0; }
        header { background: #1d4f91; color: #fff; padding: .75rem 1.5rem; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; }
        header h1 { margin: 0; font-size: 1.4rem; }
        header p { margin: 0; }
        main { max-width: 1180px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
        h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 2px solid #1d4f91; padding-bottom: .25rem; }
        a { color: #1d4f91; }
        a:focus, button:focus, input:focus { outline: 3px solid #a33a00; outline-offset: 2px; }
        button { font: inherit; padding: .35rem .9rem; border: 2px solid #1d4f91; background: #1d4f91; color: #fff; border-radius: 4px; cursor: pointer; }
        header button { background: #fff; color: #1d4f91; border-color: #fff; }
        input { font: inherit; padding: .25rem .4rem; border: 1px solid #555; border-radius: 4px; }
        form.period { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; margin: 1rem 0; }
        form.period label { display: flex; flex-direction: column; font-weight: 600; }
        .pair { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; }
        .pair figure { max-width: 900px; }
        figure { margin: 0; }
        svg.chart { width: 100%; height: auto; border: 1px solid #ddd; background: #fff; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; font-size: .9rem; }
        caption { text-align: left; font-weight: 600; padding: .25rem 0; }
        th, td { border-bottom: 1px solid #ccc; padding: .25rem .4rem; text-align: left; }
        tbody th { font-weight: 600; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tfoot th, tfoot td { border-top: 2px solid #1b1b1b; font-weight: 700; }
        dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem; margin: 0; }
        dl.figures div { border: 1px solid #ccc; border-radius: 6px; padding: .5rem .75rem; }
        dl.figures dt { font-size: .9rem; }
        dl.figures dd { margin: 0; font-size: 1.5rem; font-weight: 700; }
        .notice { border-left: 6px solid #a33a00; background: #fff4ec; padding: .6rem .9rem; margin: .75rem 0; }
        .ok { border-left: 6px solid #1e6b34; background: #eef7f0; padding: .6rem .9rem; margin: .75rem 0; }
        .error { border-left: 6px solid #b00020; background: #fdecee; padding: .6rem .9rem; margin: .75rem 0; }
        .hint { color: #444; font-size: .9rem; }
        .login { max-width: 28rem; margin: 4rem auto; padding: 0 1.5rem; }
        .login label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
        .login input { width: 100%; box-sizing: border-box; }
        .login button { margin-top: 1rem; }
        """;

    public static string Render(DashboardView view, string? problem)
    {
        var html = new Html();
        var period = view.Period;
        Head(html, $"Absences aux rendez-vous – {view.Tenant.Name}");
        using (html.Tag("body"))
        {
            using (html.Tag("header"))
            {
                using (html.Tag("div"))
                {
                    html.Element("h1", "Absences aux rendez-vous")
                        .Element("p", view.Tenant.Name);
                }

                using (html.Tag("form", ("method", "post"), ("action", "/dashboard/logout")))
                {
                    html.Element("button", "Se déconnecter", ("type", "submit"));
                }
            }

            using (html.Tag("main"))
            {
                PeriodForm(html, period, problem);
                Summary(html, view);

                Section(html, "semaines", "Taux d'absence par semaine", view.ByWeek, period, html =>
                    Charts.Columns(html, "chart-semaines", "Taux d'absence par semaine", view.ByWeek.Rows));
                html.Element("p", "Une semaine sans rendez-vous honoré ni manqué n'a pas de taux. La première et la dernière semaine " +
                    "ne comptent que les jours de la période.", ("class", "hint"));

                Section(html, "services", "Taux d'absence par service", view.ByService, period, html =>
                    Charts.Bars(html, "chart-services", "Taux d'absence par service", "service", [.. view.ByService.Rows.Take(12)]));

                Section(html, "canaux", "Taux d'absence par canal de rappel", view.ByChannel, period, html =>
                    Charts.Bars(html, "chart-canaux", "Taux d'absence par canal de rappel", "channel", view.ByChannel.Rows));

                Section(html, "confirmation", "Rendez-vous confirmés ou non", view.ByConfirmation, period, html =>
                    Charts.Bars(html, "chart-confirmation", "Taux d'absence des rendez-vous confirmés ou non", "confirmation",
                        view.ByConfirmation.Rows));
                html.Element("p", "Un rendez-vous est confirmé quand la personne a répondu OUI (SMS ou touche 1) à un message.", ("class", "hint"));

                Section(html, "temoin", "Avec ou sans rappel (groupe témoin)", view.ByCohort, period, html =>
                    Charts.Bars(html, "chart-temoin", "Taux d'absence avec et sans rappel", "cohort", view.ByCohort.Rows, highlight: "holdout"));
                Verdict(html, view);

                Failures(html, view);
            }
        }

        html.Raw("</html>");
        return html.ToString();
    }

    public static string Login(string? problem)
    {
        var html = new Html();
        Head(html, "Connexion – tableau de bord RappelRdv");
        using (html.Tag("body"))
        using (html.Tag("main", ("class", "login")))
        {
            html.Element("h1", "Tableau de bord des absences");
            html.Element("p", "Saisissez la clé de gestion (managerKey) de votre structure. La clé de l'agenda (apiKey) convient aussi.");
            if (problem is not null)
            {
                html.Element("p", problem, ("class", "error"), ("role", "alert"), ("id", "login-error"));
            }

            using (html.Tag("form", ("method", "post"), ("action", "/dashboard/login")))
            {
                html.Element("label", "Clé de gestion", ("for", "key"));
                html.Open("input", ("type", "password"), ("id", "key"), ("name", "key"), ("required", ""), ("autocomplete", "current-password"),
                    ("spellcheck", "false"), ("aria-describedby", problem is null ? null : "login-error"));
                html.Element("button", "Se connecter", ("type", "submit"));
            }

            html.Element("p", "La clé est gardée dans un cookie de ce navigateur jusqu'à la déconnexion (12 heures au plus).", ("class", "hint"));
        }

        html.Raw("</html>");
        return html.ToString();
    }

    private static void Head(Html html, string title)
    {
        html.Raw("<!doctype html>").Open("html", ("lang", "fr"));
        using (html.Tag("head"))
        {
            html.Raw("""<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><link rel="icon" href="data:,">""")
                .Element("title", title)
                .Open("style").Raw(Style).Close("style");
        }
    }

    private static void PeriodForm(Html html, NoShowQuery period, string? problem)
    {
        html.Element("h2", "Période", ("id", "periode"));
        if (problem is not null)
        {
            html.Element("p", problem, ("class", "error"), ("role", "alert"));
        }

        using (html.Tag("form", ("method", "get"), ("action", "/dashboard"), ("class", "period"), ("aria-labelledby", "periode")))
        {
            using (html.Tag("label", ("for", "from")))
            {
                html.Text("Du");
                html.Open("input", ("type", "date"), ("id", "from"), ("name", "from"), ("value", NoShowQuery.Format(period.From)), ("required", ""));
            }

            using (html.Tag("label", ("for", "to")))
            {
                html.Text("Au");
                html.Open("input", ("type", "date"), ("id", "to"), ("name", "to"), ("value", NoShowQuery.Format(period.To)), ("required", ""));
            }

            html.Element("button", "Afficher", ("type", "submit"));
        }

        html.Element("p", $"Du {French.Date(period.From)} au {French.Date(period.To)} inclus, dates du rendez-vous à l'heure locale.",
            ("class", "hint"));
    }

    private static void Summary(Html html, DashboardView view)
    {
        var total = view.ByWeek.Total;
        html.Element("h2", "Vue d'ensemble");
        using (html.Tag("dl", ("class", "figures")))
        {
            Figure(html, "Taux d'absence", French.Percent(total.NoShowRate));
            Figure(html, "Rendez-vous", French.Number(total.Appointments));
            Figure(html, "Honorés", French.Number(total.Honoured));
            Figure(html, "Absents", French.Number(total.NoShow));
            Figure(html, "Excusés", French.Number(total.Excused));
            Figure(html, "Annulés", French.Number(total.Cancelled));
            Figure(html, "Passés sans issue renseignée", French.Number(view.UnknownPast));
        }

        if (view.UnknownPast > 0)
        {
            html.Element("p",
                $"{French.Number(view.UnknownPast)} rendez-vous passés de la période n'ont pas d'issue renseignée (honoré, absent ou excusé) : " +
                "le taux d'absence ne les compte pas. Renseignez-les dans l'agenda pour un taux juste.",
                ("class", "notice"));
        }
    }

    private static void Figure(Html html, string term, string value)
    {
        using (html.Tag("div"))
        {
            html.Element("dt", term).Element("dd", value);
        }
    }

    private static void Section(Html html, string id, string title, NoShowStats stats, NoShowQuery period, Action<Html> chart)
    {
        using (html.Tag("section", ("aria-labelledby", id)))
        {
            html.Element("h2", title, ("id", id));
            using (html.Tag("div", ("class", "pair")))
            {
                using (html.Tag("figure"))
                {
                    chart(html);
                }

                Table(html, stats, $"Détail : {title.ToLowerInvariant()}");
            }

            using (html.Tag("p"))
            {
                html.Element("a", "Télécharger ce tableau (CSV, Excel)",
                    ("href", $"/dashboard/export.csv?from={NoShowQuery.Format(period.From)}&to={NoShowQuery.Format(period.To)}&by={stats.By}"));
            }
        }
    }

    private static void Table(Html html, NoShowStats stats, string caption)
    {
        using (html.Tag("div", ("class", "table-wrap")))
        using (html.Tag("table"))
        {
            html.Element("caption", caption);
            using (html.Tag("thead"))
            using (html.Tag("tr"))
            {
                html.Element("th", French.Breakdown(stats.By), ("scope", "col"));
                foreach (var heading in Headings)
                {
                    html.Element("th", heading, ("scope", "col"), ("class", "n"));
                }
            }

            using (html.Tag("tbody"))
            {
                foreach (var row in stats.Rows)
                {
                    using (html.Tag("tr"))
                    {
                        html.Element("th", French.RowLabel(stats.By, row.Key), ("scope", "row"));
                        Cells(html, Tally.Of(row));
                    }
                }
            }

            using (html.Tag("tfoot"))
            using (html.Tag("tr"))
            {
                html.Element("th", "Total", ("scope", "row"));
                Cells(html, new Tally(stats.Total.Appointments, stats.Total.Honoured, stats.Total.NoShow, stats.Total.Excused, stats.Total.Cancelled));
            }
        }
    }

    private static readonly string[] Headings = ["Taux d'absence", "Rendez-vous", "Honorés", "Absents", "Excusés", "Annulés", "Sans issue"];

    // The rate first: it is what the page is about; the counts behind it follow.
    private static void Cells(Html html, Tally tally)
    {
        html.Element("td", French.Percent(tally.NoShowRate), ("class", "n"));
        foreach (var value in new[] { tally.Appointments, tally.Honoured, tally.NoShow, tally.Excused, tally.Cancelled, tally.Unknown })
        {
            html.Element("td", French.Number(value), ("class", "n"));
        }
    }

    /// <summary>What the comparison of reminded and holdout says, and whether it says anything at all.</summary>
    private static void Verdict(Html html, DashboardView view)
    {
        var reminded = Tally.Of(view.ByCohort.Rows.Single(r => r.Key == "reminded"));
        var holdout = Tally.Of(view.ByCohort.Rows.Single(r => r.Key == "holdout"));
        if (holdout.Appointments == 0)
        {
            html.Element("p",
                "Aucun rendez-vous sans rappel sur la période : pour mesurer l'effet des rappels, l'opérateur peut régler une part de " +
                "groupe témoin (holdoutPercent, par exemple 10 %) ; ces rendez-vous-là ne reçoivent aucun rappel.",
                ("class", "notice"));
            return;
        }

        if (reminded.Decided < Significance.MinimumSample || holdout.Decided < Significance.MinimumSample)
        {
            html.Element("p",
                $"Échantillon trop petit pour conclure : il faut au moins {Significance.MinimumSample} rendez-vous honorés ou manqués dans " +
                $"chaque groupe (ici {French.Number(reminded.Decided)} avec rappel et {French.Number(holdout.Decided)} sans). " +
                "Élargissez la période.",
                ("class", "notice"), ("role", "status"));
            return;
        }

        var p = Significance.PValue(reminded.NoShow, reminded.Decided, holdout.NoShow, holdout.Decided) ?? 1;
        var pText = p < 0.001 ? "p < 0,001" : $"p = {French.Decimal(p, 3)}";
        var difference = (holdout.NoShowRate!.Value - reminded.NoShowRate!.Value) * 100;
        var effect = difference >= 0
            ? $"Avec rappel, le taux d'absence est de {French.Percent(reminded.NoShowRate)} contre {French.Percent(holdout.NoShowRate)} sans rappel : " +
              $"{French.Decimal(difference, 1)} points de moins."
            : $"Avec rappel, le taux d'absence est de {French.Percent(reminded.NoShowRate)} contre {French.Percent(holdout.NoShowRate)} sans rappel : " +
              $"{French.Decimal(-difference, 1)} points de plus.";
        if (p < Significance.Level)
        {
            html.Element("p", $"{effect} La différence est statistiquement significative (test de comparaison de deux proportions, {pText}).",
                ("class", "ok"), ("role", "status"));
        }
        else
        {
            html.Element("p", $"{effect} Cette différence n'est pas statistiquement significative ({pText}) : elle peut être due au hasard. " +
                "Élargissez la période pour en juger.",
                ("class", "notice"), ("role", "status"));
        }
    }

    private static void Failures(Html html, DashboardView view)
    {
        using (html.Tag("section", ("aria-labelledby", "echecs")))
        {
            html.Element("h2", "Échecs d'envoi récents", ("id", "echecs"));
            if (view.FailureCount == 0)
            {
                html.Element("p", "Aucun message en échec ces 30 derniers jours.");
                return;
            }

            html.Element("p", view.FailureCount > view.Failures.Count
                ? $"{French.Number(view.FailureCount)} messages en échec ces 30 derniers jours ; les {view.Failures.Count} plus récents :"
                : $"{French.Number(view.FailureCount)} message(s) en échec ces 30 derniers jours :");
            using (html.Tag("div", ("class", "table-wrap")))
            using (html.Tag("table"))
            {
                html.Element("caption", "Messages non distribués (numéros masqués)");
                using (html.Tag("thead"))
                using (html.Tag("tr"))
                {
                    foreach (var heading in new[] { "Échec le", "Canal", "Message", "Numéro", "Rendez-vous", "Date du rendez-vous", "Erreur" })
                    {
                        html.Element("th", heading, ("scope", "col"));
                    }
                }

                using (html.Tag("tbody"))
                {
                    foreach (var failure in view.Failures)
                    {
                        using (html.Tag("tr"))
                        {
                            html.Element("td", French.DateTime(failure.FailedAtLocal))
                                .Element("td", French.Channel(failure.Channel))
                                .Element("td", French.MessageKind(failure.Kind))
                                .Element("td", failure.MaskedPhone.Length == 0 ? "effacé" : failure.MaskedPhone)
                                .Element("td", failure.ExternalId)
                                .Element("td", French.DateTime(failure.StartsAtLocal))
                                .Element("td", failure.Error ?? "—");
                        }
                    }
                }
            }
        }
    }
}
