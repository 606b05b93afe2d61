namespace RappelRdv.Reminders.Database;

public static class Timestamps
{
    /// <summary>A timestamptz as Npgsql reads it (a UTC DateTime) as an instant.</summary>
    public static DateTimeOffset AsUtc(this DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero);
}
