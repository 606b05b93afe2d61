using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace RappelRdv.Api.Infrastructure;

/// <summary>
/// The Data Protection key ring in PostgreSQL (table <c>data_protection_keys</c>, migration 0011),
/// so that a session cookie signed by one Api process is read by every other, and survives a
/// restart. Keys are stored as Data Protection writes them, unencrypted: whoever reads this table
/// can forge a session, exactly as whoever reads <c>tenants</c> can already see everything the
/// dashboard shows (docs/OPERATIONS.md). The interface is synchronous; the key ring calls it
/// rarely (start, then once a day or on an unknown key).
/// </summary>
internal sealed class PostgresKeyRepository(NpgsqlDataSource db) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = db.OpenConnection();
        return [.. connection.Query<string>("select xml from data_protection_keys order by id").Select(xml => XElement.Parse(xml))];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = db.OpenConnection();
        connection.Execute(
            "insert into data_protection_keys (friendly_name, xml) values (@friendlyName, @xml) on conflict (friendly_name) do nothing",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
    }
}
