using System.Globalization;
using RappelRdv.Api.Dashboard;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Usage;

/// <summary>The operator's usage as the same French-Excel CSV as the dashboard's export: one line per tenant.</summary>
internal static class UsageCsv
{
    private static readonly string[] Header =
    [
        "Identifiant", "Nom", "Mois", "SMS", "Segments", "Appels", "Minutes", "Budget segments", "Segments utilisés (%)",
        "Budget minutes", "Minutes utilisées (%)", "Montant SMS", "Montant appels", "Montant total", "Devise",
    ];

    public static byte[] Write(AdminUsageReport report) =>
        CsvExport.Write([Header, .. report.Tenants.Select(t => Line(report.Month, t))]);

    private static string[] Line(string month, TenantUsage t) =>
    [
        t.Tenant, t.Name, month,
        Integer(t.Sms.Messages), Integer(t.Sms.Segments), Integer(t.Voice.Calls), Integer(t.Voice.Minutes),
        t.Budget.MonthlySegments is { } segments ? Integer(segments) : "",
        t.Budget.UsedPercent is { } used ? French.Decimal(used, 1) : "",
        t.Budget.MonthlyCallMinutes is { } minutes ? Integer(minutes) : "",
        t.Budget.CallMinutesUsedPercent is { } usedMinutes ? French.Decimal(usedMinutes, 1) : "",
        Money(t.Amount?.Sms), Money(t.Amount?.Voice), Money(t.Amount?.Total), t.Amount?.Currency ?? "",
    ];

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Money(decimal? value) =>
        value is { } amount ? amount.ToString("F2", CultureInfo.InvariantCulture).Replace('.', ',') : "";
}
