using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Planning;

/// <summary>Quiet hours in the tenant's local time, daylight saving included.</summary>
public static class QuietHoursClock
{
    public static bool IsQuiet(DateTimeOffset instant, TimeZoneInfo zone, QuietHours? quiet) =>
        quiet is not null && quiet.Contains(TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime));

    /// <summary>The first instant at or after <paramref name="instant"/> outside quiet hours.</summary>
    public static DateTimeOffset NextAllowed(DateTimeOffset instant, TimeZoneInfo zone, QuietHours? quiet)
    {
        if (!IsQuiet(instant, zone, quiet))
        {
            return instant;
        }

        var local = TimeZoneInfo.ConvertTime(instant, zone).DateTime;
        var date = DateOnly.FromDateTime(local);
        var time = TimeOnly.FromDateTime(local);
        // Quiet hours that span midnight end the next morning when we are in the evening part.
        var endDate = quiet!.From > quiet.To && time >= quiet.From ? date.AddDays(1) : date;
        return ToInstant(endDate.ToDateTime(quiet.To), zone);
    }

    /// <summary>The last instant before the quiet period that contains <paramref name="instant"/> began.</summary>
    public static DateTimeOffset LastAllowedBefore(DateTimeOffset instant, TimeZoneInfo zone, QuietHours quiet)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone).DateTime;
        var date = DateOnly.FromDateTime(local);
        var time = TimeOnly.FromDateTime(local);
        var startDate = quiet.From > quiet.To && time < quiet.To ? date.AddDays(-1) : date;
        return ToInstant(startDate.ToDateTime(quiet.From), zone).AddMinutes(-1);
    }

    public static DateTimeOffset ToInstant(DateTime local, TimeZoneInfo zone)
    {
        // A local time skipped by the spring change does not exist: the clock reads an hour later.
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(30);
        }

        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), offset).ToUniversalTime();
    }
}
