namespace RappelRdv.Contracts;

/// <summary>Answer of <c>GET /v1/admin/audit</c>: the newest first.</summary>
public sealed record AuditTrailView(IReadOnlyList<AuditEntryView> Entries);

/// <summary>
/// One sign-in, view of personal data or export. <c>action</c>: <c>sign_in</c>, <c>sign_in_refused</c>,
/// <c>view_failures</c>, <c>export_csv</c>, <c>operator_sign_in</c>; <c>actor</c>: an e-mail, or the key
/// that was typed (<c>managerKey</c>, <c>apiKey</c>, <c>adminKey</c>); <c>tenant</c>: null for the operator's own sign-ins
/// and for a person in no tenant's list.
/// </summary>
public sealed record AuditEntryView(DateTimeOffset At, string? Tenant, string Action, string Actor, string? RemoteAddress, string? Detail);
