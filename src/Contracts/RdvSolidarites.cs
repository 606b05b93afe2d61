namespace RappelRdv.Contracts;

/// <summary>Answer of <c>POST /v1/webhooks/rdv-solidarites/{slug}</c>: what became of each participation.</summary>
/// <param name="Appointments">Empty for a model or an event that is ignored.</param>
public sealed record RdvSolidaritesAnswer(string Model, string Event, IReadOnlyList<RdvSolidaritesResult> Appointments);

/// <param name="Result">One of <see cref="RdvSolidaritesResults"/>.</param>
/// <param name="Reason">Why, when the result is <c>ignored</c> or <c>cancelled</c>; never personal data.</param>
public sealed record RdvSolidaritesResult(string ExternalId, string Result, string? Reason = null);

public static class RdvSolidaritesResults
{
    public const string Created = "created";
    public const string Updated = "updated";
    public const string Unchanged = "unchanged";
    public const string Cancelled = "cancelled";
    public const string Erased = "erased";
    public const string Ignored = "ignored";
}
