using System.ComponentModel;

namespace RappelRdv.Contracts;

/// <summary>Answer of <c>GET /v1/stats/no-show</c>.</summary>
[Description("Counts by `startsAt` in the tenant's time zone: one row per key of the breakdown, and the total.")]
public sealed record NoShowStats(string From, string To, string By, IReadOnlyList<NoShowRow> Rows, NoShowCounts Total);

[Description("`key` is the week (`2026-W01`), month (`2026-01`) or value of the breakdown. `noShowRate` = noShow / (honoured + noShow), null when both are zero.")]
public sealed record NoShowRow(
    string Key, int Appointments, int Honoured, int NoShow, int Excused, int Cancelled, int Unknown, double? NoShowRate);

public sealed record NoShowCounts(
    int Appointments, int Honoured, int NoShow, int Excused, int Cancelled, int Unknown, double? NoShowRate);
