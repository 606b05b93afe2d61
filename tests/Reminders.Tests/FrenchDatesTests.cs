using System.Globalization;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Reminders.Tests;

public sealed class FrenchDatesTests
{
    private static DateTimeOffset At(string instant) =>
        DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    [Theory]
    // Paris, winter (UTC+1) and summer (UTC+2).
    [InlineData("2026-12-03T08:30:00Z", "Europe/Paris", "jeudi 3 décembre à 9h30")]
    [InlineData("2026-12-03T09:30:00+01:00", "Europe/Paris", "jeudi 3 décembre à 9h30")]
    [InlineData("2026-07-01T07:00:00Z", "Europe/Paris", "mercredi 1er juillet à 9h")]
    [InlineData("2026-06-15T12:05:00Z", "Europe/Paris", "lundi 15 juin à 14h05")]
    [InlineData("2026-12-01T13:00:00Z", "Europe/Paris", "mardi 1er décembre à 14h")]
    [InlineData("2026-12-02T23:00:00Z", "Europe/Paris", "jeudi 3 décembre à 0h")]
    // Guyane (UTC-3) and La Réunion (UTC+4), no daylight saving; the day can differ from UTC's.
    [InlineData("2026-12-03T12:30:00Z", "America/Cayenne", "jeudi 3 décembre à 9h30")]
    [InlineData("2026-12-01T02:00:00Z", "America/Cayenne", "lundi 30 novembre à 23h")]
    [InlineData("2026-12-03T05:30:00Z", "Indian/Reunion", "jeudi 3 décembre à 9h30")]
    [InlineData("2026-11-30T22:00:00Z", "Indian/Reunion", "mardi 1er décembre à 2h")]
    [InlineData("2026-07-01T05:30:00Z", "Indian/Reunion", "mercredi 1er juillet à 9h30")]
    // Paris across the spring change (2026-03-29, 02:00 becomes 03:00).
    [InlineData("2026-03-28T08:30:00Z", "Europe/Paris", "samedi 28 mars à 9h30")]
    [InlineData("2026-03-29T00:30:00Z", "Europe/Paris", "dimanche 29 mars à 1h30")]
    [InlineData("2026-03-29T01:30:00Z", "Europe/Paris", "dimanche 29 mars à 3h30")]
    [InlineData("2026-03-30T07:30:00Z", "Europe/Paris", "lundi 30 mars à 9h30")]
    // Paris across the autumn change (2026-10-25, 03:00 becomes 02:00: 2h30 happens twice).
    [InlineData("2026-10-24T07:30:00Z", "Europe/Paris", "samedi 24 octobre à 9h30")]
    [InlineData("2026-10-25T00:30:00Z", "Europe/Paris", "dimanche 25 octobre à 2h30")]
    [InlineData("2026-10-25T01:30:00Z", "Europe/Paris", "dimanche 25 octobre à 2h30")]
    [InlineData("2026-10-26T08:30:00Z", "Europe/Paris", "lundi 26 octobre à 9h30")]
    public void Writes_the_day_and_time_in_the_tenant_zone(string instant, string zone, string expected)
    {
        Assert.Equal(expected, FrenchDates.DayAndTime(At(instant), TimeZoneInfo.FindSystemTimeZoneById(zone)));
    }

    [Theory]
    [InlineData("2026-01-15", "jeudi 15 janvier")]
    [InlineData("2026-02-15", "dimanche 15 février")]
    [InlineData("2026-03-15", "dimanche 15 mars")]
    [InlineData("2026-04-15", "mercredi 15 avril")]
    [InlineData("2026-05-15", "vendredi 15 mai")]
    [InlineData("2026-06-15", "lundi 15 juin")]
    [InlineData("2026-07-15", "mercredi 15 juillet")]
    [InlineData("2026-08-15", "samedi 15 août")]
    [InlineData("2026-09-15", "mardi 15 septembre")]
    [InlineData("2026-10-15", "jeudi 15 octobre")]
    [InlineData("2026-11-15", "dimanche 15 novembre")]
    [InlineData("2026-12-15", "mardi 15 décembre")]
    [InlineData("2026-09-01", "mardi 1er septembre")]
    public void Names_every_month_and_day(string date, string expected)
    {
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        Assert.Equal(expected, FrenchDates.Day(At(date + "T10:00:00Z"), paris));
    }

    [Theory]
    [InlineData("2026-12-03T08:30:00Z", "9h30", "9 heures 30")]
    [InlineData("2026-12-03T13:00:00Z", "14h", "14 heures")]
    [InlineData("2026-12-03T08:05:00Z", "9h05", "9 heures 5")]
    [InlineData("2026-12-03T00:05:00Z", "1h05", "1 heure 5")]
    [InlineData("2026-12-02T23:00:00Z", "0h", "0 heure")]
    [InlineData("2026-12-03T22:59:00Z", "23h59", "23 heures 59")]
    public void Writes_and_speaks_the_time(string instant, string written, string spoken)
    {
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        Assert.Equal(written, FrenchDates.Time(At(instant), paris));
        Assert.Equal(spoken, FrenchDates.SpokenTime(At(instant), paris));
    }
}
