using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

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

/// <summary><c>rdvSolidarites.api</c> of a tenant (CONTRACT §10): password mode, or partner mode with <c>sharedSecret</c> and <c>agent</c>.</summary>
[Description("Writing the citizens' cancellations back to RDV-Solidarités through its agent API: an agent's `password`, "
    + "or a partner's `sharedSecret` with the `agent` it acts as. Exactly one of the two; both are write-only.")]
public sealed record RdvSolidaritesApiRequest(
    [property: Required, Description("`https://www.rdv-solidarites.fr` or the instance's address; the egress rules of webhooks apply.")] string? BaseUrl,
    [property: Required, Description("The agent account's e-mail (`uid`).")] string? Email,
    [property: Description("Password mode: the agent account's password, 1 to 256 characters.")] string? Password = null,
    [property: Description("Partner mode: the secret RDV-Solidarités gave, 16 to 512 characters.")] string? SharedSecret = null,
    [property: Description("Partner mode: the agent as RDV-Solidarités knows it.")] RdvSolidaritesAgentRequest? Agent = null);

public sealed record RdvSolidaritesAgentRequest(
    [property: Required] long? Id,
    [property: Required] string? FirstName,
    [property: Required] string? LastName);

/// <summary><c>rdvSolidarites.api</c> as <c>GET</c> shows it: whether each secret is set, never the secret.</summary>
public sealed record RdvSolidaritesApiView(string BaseUrl, string Email, bool PasswordSet, bool SharedSecretSet, RdvSolidaritesAgentView? Agent);

public sealed record RdvSolidaritesAgentView(long Id, string FirstName, string LastName);

/// <summary>Where writing the citizen's answer back to RDV-Solidarités stands (CONTRACT §10).</summary>
[Description("The write-back of the citizen's cancellation or request to reschedule to RDV-Solidarités "
    + "(participation `excused`); present only for an appointment it concerns.")]
public sealed record RdvSolidaritesWriteBackView(
    [property: Description("`pending` (on its way, or to be tried again), `done` or `failed` (final).")] string Status,
    [property: Description("Why it failed, or why the last attempt did not succeed; no personal data.")] string? Reason,
    [property: Description("In UTC.")] DateTimeOffset UpdatedAt);
