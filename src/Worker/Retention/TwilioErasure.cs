using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using RappelRdv.Reminders.Twilio;

namespace RappelRdv.Worker.Retention;

/// <summary>
/// Erasure at Twilio: each message (SM…, MM…) and call (CA…) of an erased appointment, listed in
/// <c>twilio_deletions</c> by <see cref="PersonalDataRetention"/> or by an erasure on request, is
/// deleted from Twilio's logs (<c>DELETE /2010-04-01/Accounts/{sid}/Messages/{sid}.json</c>; a call's
/// recordings first, then the call). Twilio keeps the number and the text otherwise, for as long as
/// the account lives. A failure is tried again later, with a backoff, until it succeeds; a 404 is
/// success (already gone). Run by the dispatch tick each minute (<see cref="Dispatch.Housekeeping"/>),
/// not by the nightly retention job: an erasure on request must reach Twilio within minutes. Safe on
/// several Workers at once (each deletion is claimed with SKIP LOCKED and leased) and run twice.
/// </summary>
internal sealed class TwilioErasure(
    NpgsqlDataSource db, IHttpClientFactory httpClients, IOptions<TwilioOptions> twilio, TimeProvider clock, ILogger<TwilioErasure> logger)
{
    /// <summary>At most this many deletions per run.</summary>
    public const int BatchSize = 50;

    /// <summary>No new deletion is started after this long in a run: the tick that runs it stays short.</summary>
    public static readonly TimeSpan RunBudget = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Deletes what is due, one deletion at a time (each claimed alone, so a run cut short by its
    /// budget or a stop leaves the rest due rather than leased); returns how many were done.
    /// </summary>
    public async Task<int> EraseDueAsync(CancellationToken cancellationToken)
    {
        var startedAt = clock.GetUtcNow();
        int done = 0, tried = 0;
        while (tried < BatchSize && clock.GetUtcNow() - startedAt < RunBudget && !cancellationToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            Due? deletion;
            await using (var connection = await db.OpenConnectionAsync(cancellationToken))
            {
                deletion = await connection.QuerySingleOrDefaultAsync<Due>(
                    """
                    update twilio_deletions d set next_attempt_at = @leaseUntil, attempts = d.attempts + 1
                    where d.sid = (
                        select sid from twilio_deletions
                        where done_at is null and next_attempt_at <= @now
                        order by next_attempt_at limit 1
                        for update skip locked)
                    returning d.sid, d.attempts
                    """,
                    new { now, leaseUntil = now + Lease });
            }

            if (deletion is null)
            {
                break;
            }

            tried++;
            // The simulated provider sent nothing: there is nothing at Twilio to delete.
            var error = twilio.Value.IsSimulated ? null : await DeleteAsync(deletion.Sid, cancellationToken);
            await using (var connection = await db.OpenConnectionAsync(CancellationToken.None))
            {
                if (error is null)
                {
                    done++;
                    await connection.ExecuteAsync(
                        "update twilio_deletions set done_at = @at, last_error = null where sid = @Sid", new { deletion.Sid, at = clock.GetUtcNow() });
                }
                else
                {
                    var next = clock.GetUtcNow() + Backoff(deletion.Attempts);
                    await connection.ExecuteAsync(
                        "update twilio_deletions set next_attempt_at = @next, last_error = @error where sid = @Sid", new { deletion.Sid, next, error });
                    logger.LogWarning("Could not delete {Sid} at Twilio (attempt {Attempts}): {Error}; next try at {Next}", deletion.Sid, deletion.Attempts, error, next);
                }
            }
        }

        if (tried > 0)
        {
            logger.LogInformation("Erasure at Twilio: {Done} of {Tried} messages and calls deleted", done, tried);
        }

        return done;
    }

    /// <summary>Null when Twilio no longer has it, else why not.</summary>
    private async Task<string?> DeleteAsync(string sid, CancellationToken cancellationToken)
    {
        try
        {
            if (sid.StartsWith("CA", StringComparison.Ordinal))
            {
                using var list = await SendAsync(HttpMethod.Get, $"Calls/{sid}/Recordings.json", cancellationToken);
                if (list.StatusCode != HttpStatusCode.NotFound)
                {
                    if (!list.IsSuccessStatusCode)
                    {
                        return $"listing the recordings answered {(int)list.StatusCode}";
                    }

                    using var json = JsonDocument.Parse(await list.Content.ReadAsStringAsync(cancellationToken));
                    var recordings = json.RootElement.TryGetProperty("recordings", out var r) && r.ValueKind == JsonValueKind.Array ? r.EnumerateArray().ToList() : [];
                    foreach (var recording in recordings)
                    {
                        if (await DeleteResourceAsync($"Recordings/{recording.GetProperty("sid").GetString()}.json", cancellationToken) is { } failed)
                        {
                            return failed;
                        }
                    }
                }

                return await DeleteResourceAsync($"Calls/{sid}.json", cancellationToken);
            }

            return await DeleteResourceAsync($"Messages/{sid}.json", cancellationToken);
        }
        catch (HttpRequestException e)
        {
            return $"no answer: {e.HttpRequestError}";
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "no answer in time";
        }
        catch (JsonException)
        {
            return "the recordings list was not JSON";
        }
    }

    private async Task<string?> DeleteResourceAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, path, cancellationToken);
        return response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound
            ? null
            : $"DELETE {path[..path.IndexOf('/', StringComparison.Ordinal)]} answered {(int)response.StatusCode}";
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var options = twilio.Value;
        var request = new HttpRequestMessage(method, $"{options.ApiBaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{options.AccountSid}/{path}");
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.AccountSid}:{options.AuthToken}")));
        return httpClients.CreateClient(TwilioProvider.HttpClientName).SendAsync(request, cancellationToken);
    }

    /// <summary>5 min, 10 min, 20 min, … up to a day.</summary>
    internal static TimeSpan Backoff(int attempts) =>
        TimeSpan.FromMinutes(Math.Min(5 * Math.Pow(2, Math.Max(0, attempts - 1)), TimeSpan.FromDays(1).TotalMinutes));

    private sealed record Due(string Sid, int Attempts);
}
