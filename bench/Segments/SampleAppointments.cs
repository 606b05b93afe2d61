using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Bench.Segments;

/// <summary>One generated appointment: what a message is written from, and who it is for.</summary>
public sealed record SampleAppointment(string FirstName, MessageContext Context);

/// <summary>
/// Realistic French social-service appointments, drawn with a fixed seed: motifs as RDV-Solidarités
/// agendas name them (short acronyms to long sentences), places of the départements' real kinds
/// and real lengths (MDS, CMS, CCAS, France services, with building complements, BP, CEDEX),
/// metropolitan and overseas, in person (most), by phone and at home.
/// </summary>
public static class SampleAppointments
{
    // (motif, weight): the short ones are the most common in the agendas we know.
    private static readonly (string Service, int Weight)[] Services =
    [
        ("RSA", 14), ("PMI", 8), ("APA", 5), ("Insertion", 4), ("Orientation RSA", 8), ("Accompagnement RSA", 8),
        ("Suivi RSA", 6), ("Consultation PMI", 5), ("Consultation infantile", 4), ("Vaccination", 3),
        ("Assistante sociale", 6), ("Permanence sociale", 4), ("Aide sociale à l'enfance", 3), ("Entretien d'orientation", 4),
        ("Bilan de santé", 2), ("Évaluation APA à domicile", 3), ("Premier accueil", 3), ("Rendez-vous de suivi", 3),
        ("Point emploi", 2), ("Accès aux droits", 2), ("Consultation prénatale", 2), ("Rendez-vous d'accompagnement global", 1),
        ("Information collective RSA", 1), ("Diagnostic socioprofessionnel", 1),
    ];

    private sealed record Site(string Name, string Address, string Zone, string? Phone);

    private static readonly Site[] Sites =
    [
        new("UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", "Europe/Paris", "04 94 00 00 00"),
        new("MDS Draguignan", "Place de la Paix, 83300 Draguignan", "Europe/Paris", "04 83 95 00 00"),
        new("Maison départementale des solidarités de Fort-de-France", "Immeuble Les Œillets, 3 rue de l'Église, 97200 Fort-de-France", "America/Martinique", "0596 12 34 56"),
        new("Centre médico-social Saint-Étienne-du-Rouvray", "Résidence Les Cèdres, bâtiment C, 17 avenue du Maréchal de Lattre de Tassigny, 76800 Saint-Étienne-du-Rouvray", "Europe/Paris", null),
        new("Espace départemental des solidarités Cœur de Var", "45 boulevard du Général Leclerc, BP 123, 83340 Le Luc CEDEX", "Europe/Paris", "04 94 60 00 00"),
        new("CCAS de Montreuil", "Hôtel de ville, 1 place Jean Jaurès, 93100 Montreuil", "Europe/Paris", "01 48 70 60 00"),
        new("Maison France services", "2 rue Victor Hugo, 59000 Lille", "Europe/Paris", "03 20 00 00 00"),
        new("CMS Le Chaudron", "36 rue Roland Garros, 97490 Sainte-Clotilde", "Indian/Reunion", "0262 90 00 00"),
        new("UTAS Pointe-à-Pitre", "Rue Achille René-Boisneuf, 97110 Pointe-à-Pitre", "America/Guadeloupe", "0590 82 00 00"),
        new("Circonscription d'action sociale de Cayenne", "8 avenue Léopold Héder, 97300 Cayenne", "America/Cayenne", "0594 29 00 00"),
        new("Maison des solidarités de Mamoudzou", "Rue de l'Hôpital, 97600 Mamoudzou", "Indian/Mayotte", "0269 61 00 00"),
        new("PMI Belleville", "27 rue de Belleville, 75019 Paris", "Europe/Paris", "01 42 00 00 00"),
        new("Centre social des Minguettes", "Place Lénine, 69200 Vénissieux", "Europe/Paris", null),
        new("MDS Villeurbanne", "11 rue du 4 Août 1789, 69100 Villeurbanne", "Europe/Paris", "04 72 00 00 00"),
        new("Espace solidarité insertion", "Zone d'activités du Bois Gasseau, 77210 Samoreau", "Europe/Paris", null),
        new("Maison départementale de l'autonomie", "28 avenue de la République, 33000 Bordeaux", "Europe/Paris", "05 56 00 00 00"),
        new("CDAS Rennes Champs Manceaux", "Centre commercial Italie, 6 place de la Rochelle, 35200 Rennes", "Europe/Paris", "02 99 00 00 00"),
        new("Agence départementale d'insertion", "Lotissement Cocoyer, 97122 Baie-Mahault", "America/Guadeloupe", "0590 26 00 00"),
        new("Pôle social de Saint-Laurent-du-Maroni", "Avenue du Général de Gaulle, 97320 Saint-Laurent-du-Maroni", "America/Cayenne", null),
        new("Antenne sociale du Port", "Rue Léon de Lépervanche, 97420 Le Port", "Indian/Reunion", "0262 42 00 00"),
    ];

    private static readonly string[] FirstNames =
    [
        "Awa", "Chloé", "Hélène", "Jérôme", "Françoise", "Zoé", "Noël", "Anaïs", "Raphaël", "Léa", "Maëlle", "Inès",
        "Mélissa", "Gaëtan", "Joël", "Frédéric", "Céline", "Éloïse", "Mohamed", "Fatoumata", "Kévin", "Océane",
    ];

    public static IReadOnlyList<SampleAppointment> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var totalWeight = Services.Sum(s => s.Weight);
        var start = new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
        var appointments = new List<SampleAppointment>(count);
        for (var i = 0; i < count; i++)
        {
            var pick = random.Next(totalWeight);
            var service = Services.SkipWhile(s => (pick -= s.Weight) >= 0).First().Service;
            var site = Sites[random.Next(Sites.Length)];
            var zone = TimeZoneInfo.FindSystemTimeZoneById(site.Zone);
            // Weekdays over a year, from 8h to 17h45 by quarter hours, local time.
            var day = start.AddDays(random.Next(365));
            while (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                day = day.AddDays(1);
            }

            var local = new DateTime(day.Year, day.Month, day.Day, 8, 0, 0).AddMinutes(15 * random.Next(40));
            var startsAt = new DateTimeOffset(local, zone.GetUtcOffset(local));
            var roll = random.Next(100);
            var mode = roll < 85 ? Modes.InPerson : roll < 95 ? Modes.Phone : Modes.Home;
            appointments.Add(new SampleAppointment(
                FirstNames[random.Next(FirstNames.Length)],
                new MessageContext(service, startsAt, zone, mode, site.Name, site.Address, site.Phone)));
        }

        return appointments;
    }
}
