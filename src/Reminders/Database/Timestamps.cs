namespace RappelRdv.Reminders.Database;

public static class Timestamps
{
    /// <summary>A timestamptz as Npgsql reads it (a UTC DateTime) as an instant.</summary>
    public static DateTimeOffset AsUtc(this DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero);

    /// <summary>An instant as PostgreSQL stores it: UTC, to the microsecond (Npgsql truncates the 100 ns ticks).</summary>
    public static DateTimeOffset Stored(DateTimeOffset value) => new(value.UtcTicks - value.UtcTicks % 10, TimeSpan.Zero);
}
