namespace RappelRdv.Contracts;

/// <summary>Answer of <c>GET /v1/stats/no-show</c>.</summary>
public sealed record NoShowStats(string From, string To, string By, IReadOnlyList<NoShowRow> Rows, NoShowCounts Total);

public sealed record NoShowRow(
    string Key, int Appointments, int Honoured, int NoShow, int Excused, int Cancelled, int Unknown, double? NoShowRate);

public sealed record NoShowCounts(
    int Appointments, int Honoured, int NoShow, int Excused, int Cancelled, int Unknown, double? NoShowRate);
