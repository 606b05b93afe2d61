using Dapper;
using Npgsql;
using RappelRdv.Api.Replies;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Delivery;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Replies;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Texts;
using RappelRdv.Reminders.Twilio;
using Twilio.TwiML;
using Twilio.TwiML.Voice;
using GatherVerb = Twilio.TwiML.Voice.Gather;
using HttpMethod = Twilio.Http.HttpMethod;
using Language = RappelRdv.Reminders.Texts.Language;

namespace RappelRdv.Api.Voice;

/// <summary>
/// The call of one message: <c>/twilio/voice/{messageId}/{token}</c> speaks it in the citizen's language and
/// gathers a key; <c>…/gather</c> applies the key through the same code path as an SMS reply;
/// <c>…/status</c> records how the call ended and plans the next try. The token ties the URL to
/// the message, so nobody can fetch another citizen's call from an id.
/// </summary>
internal static class VoiceEndpoints
{
    /// <summary>Calls tried at most this many times, at least this far apart.</summary>
    public const int MaxTries = 3;

    public static readonly TimeSpan RetryInterval = TimeSpan.FromHours(1);

    public static void MapVoice(this RouteGroupBuilder twilio)
    {
        var voice = twilio.MapGroup("/voice/{messageId:guid}/{token}");
        voice.MapPost("/", Script);
        voice.MapPost("/gather", KeyPressed);
        voice.MapPost("/status", Status);
    }

    private static async Task<IResult> Script(
        Guid messageId, string token, HttpRequest request, CallbackUrls urls, NpgsqlDataSource db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var call = await CallAsync(messageId, token, urls, db, clock, cancellationToken);
        if (call is null)
        {
            return Twiml(new VoiceResponse().Say(VoiceTexts.UnknownCall(), French.SayVoice, language: French.SayLanguage).Hangup());
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var answeredBy = form["AnsweredBy"].ToString();
        if (answeredBy.StartsWith("machine", StringComparison.Ordinal) || answeredBy == "fax")
        {
            // A voicemail: a short message that names no one and asks to call the place.
            return Twiml(new VoiceResponse().Say(VoiceTexts.AnsweringMachine(call.Context), call.Voice.SayVoice, language: call.Voice.SayLanguage).Hangup());
        }

        var repeat = request.Query.ContainsKey("again");
        var response = new VoiceResponse();
        if (!repeat)
        {
            response.Say(VoiceTexts.Greeting(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage);
        }

        response.Say(VoiceTexts.Announcement(call.Kind, call.Context), call.Voice.SayVoice, language: call.Voice.SayLanguage);
        if (call.Kind == MessageKinds.Cancellation)
        {
            return Twiml(response.Say(VoiceTexts.Goodbye(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage).Hangup());
        }

        var gather = new GatherVerb(numDigits: 1, action: new Uri(urls.VoiceScript(messageId) + "/gather"), method: HttpMethod.Post, timeout: 8,
            language: call.Voice.GatherLanguage, actionOnEmptyResult: false);
        gather.Say(VoiceTexts.Menu(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage);
        response.Append(gather);
        // No key: say it all once more, then goodbye.
        if (!repeat)
        {
            response.Redirect(new Uri(urls.VoiceScript(messageId) + "?again=1"), HttpMethod.Post);
        }
        else
        {
            response.Say(VoiceTexts.Goodbye(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage).Hangup();
        }

        return Twiml(response);
    }

    private static async Task<IResult> KeyPressed(
        Guid messageId, string token, HttpRequest request, CallbackUrls urls, NpgsqlDataSource db, TimeProvider clock, ReplyHandler replies,
        CancellationToken cancellationToken)
    {
        var call = await CallAsync(messageId, token, urls, db, clock, cancellationToken);
        if (call is null)
        {
            return Twiml(new VoiceResponse().Say(VoiceTexts.UnknownCall(), French.SayVoice, language: French.SayLanguage).Hangup());
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var digits = form["Digits"].ToString();
        ReplyIntent? intent = digits switch
        {
            "1" => ReplyIntent.Confirm,
            "2" => ReplyIntent.Cancel,
            "3" => ReplyIntent.Reschedule,
            _ => null,
        };
        if (intent is null)
        {
            var again = new VoiceResponse();
            if (digits != "9")
            {
                again.Say(VoiceTexts.NotUnderstood(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage);
            }

            return Twiml(again.Redirect(new Uri(urls.VoiceScript(messageId) + "?again=1"), HttpMethod.Post));
        }

        var result = await replies.HandleKeyAsync(messageId, intent.Value, digits, form["CallSid"].ToString(), cancellationToken);
        var response = new VoiceResponse();
        if (result.Effect is ReplyEffect.Confirmed or ReplyEffect.Cancelled or ReplyEffect.RescheduleRequested)
        {
            response.Say(VoiceTexts.Acknowledgment(intent.Value, call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage);
        }

        return Twiml(response.Say(VoiceTexts.Goodbye(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage).Hangup());
    }

    private static async Task<IResult> Status(
        Guid messageId, string token, HttpRequest request, CallbackUrls urls, NpgsqlDataSource db, TimeProvider clock,
        ILogger<VoiceCall> logger, CancellationToken cancellationToken)
    {
        if (!urls.IsValidToken(messageId, token))
        {
            return TypedResults.Ok();
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var status = form["CallStatus"].ToString();
        if (status is not ("completed" or "busy" or "no-answer" or "failed" or "canceled"))
        {
            return TypedResults.Ok();
        }

        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The Worker holds this lock while it places the call: we see its commit.
        await connection.ExecuteAsync(
            "select 1 from appointments where id = (select appointment_id from messages where id = @messageId) for update",
            new { messageId }, transaction);
        var m = await connection.QuerySingleOrDefaultAsync<CallRow>(CallSql, new { messageId }, transaction);
        if (m is null)
        {
            return TypedResults.Ok();
        }

        // This call exists at Twilio whatever becomes of the message: a call settled here from 'sending' never had
        // its SID stored, a call tried again gets a new one. Recorded, it is deleted there with the appointment.
        await TwilioSids.RecordAsync(connection, transaction, form["CallSid"].ToString(), m.AppointmentId, now);
        if (m.Status is not ("sent" or "sending"))
        {
            await transaction.CommitAsync(cancellationToken);
            return TypedResults.Ok();
        }

        if (status == "completed")
        {
            // CallDuration (seconds) is what the usage trigger bills, in minutes rounded up (migration 0010).
            await MessageStates.MarkDeliveredAsync(connection, transaction, messageId, now,
                callSeconds: int.TryParse(form["CallDuration"], out var seconds) ? seconds : null);
        }
        else
        {
            var settings = TenantSettings.FromJson(m.Settings);
            var next = QuietHoursClock.NextAllowed(now + RetryInterval, settings.Zone, settings.QuietHours);
            if (m.Attempts < MaxTries && next < m.StartsAtUtc.AsUtc())
            {
                await MessageStates.RetryCallAsync(connection, transaction, messageId, next, $"{status} (try {m.Attempts} of {MaxTries})", now);
            }
            else
            {
                await DeliveryFailures.HandleAsync(connection, transaction,
                    new FailedMessage(messageId, m.TenantId, m.AppointmentId, m.ExternalId, m.AppointmentStatus, m.Phone, m.Kind, Channels.Voice,
                        m.OnlyIfUnconfirmed, m.Attempts, m.StartsAtUtc.AsUtc(), m.PlanVersion),
                    null, $"call {status} after {m.Attempts} tries", settings, now, logger);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok();
    }

    internal sealed class VoiceCall;

    private sealed record CallContext(string Kind, MessageContext Context)
    {
        public string Language => Context.Language;

        /// <summary>The citizen's language's Twilio voice: the call is spoken and its keys prompted in it.</summary>
        public Language Voice => Languages.Of(Context.Language);
    }

    private static async Task<CallContext?> CallAsync(
        Guid messageId, string token, CallbackUrls urls, NpgsqlDataSource db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!urls.IsValidToken(messageId, token))
        {
            return null;
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var m = await connection.QuerySingleOrDefaultAsync<CallRow>(CallSql, new { messageId });
        var now = clock.GetUtcNow();
        if (m is null || m.StartsAtUtc.AsUtc() <= now || m.Phone is null
            || (m.Kind != MessageKinds.Cancellation && (AppointmentStatus.IsCancelled(m.AppointmentStatus) || m.Outcome is not null)))
        {
            return null;
        }

        var settings = TenantSettings.FromJson(m.Settings);
        return new CallContext(m.Kind, new MessageContext(m.Service, m.StartsAtUtc.AsUtc(), settings.Zone, m.Mode, m.LocationName, m.LocationAddress,
            m.LocationPhone, m.Language, settings.Texts?.TemplatesFor(m.Language, m.Variant)));
    }

    private sealed record CallRow(
        long TenantId, long AppointmentId, string ExternalId, string AppointmentStatus, string? Outcome, string? Phone, string Kind,
        bool OnlyIfUnconfirmed, int Attempts, DateTime StartsAtUtc, int PlanVersion, string Status, string Settings, string? Service,
        string Mode, string? LocationName, string? LocationAddress, string? LocationPhone, string Language, string? Variant);

    private const string CallSql =
        """
        select m.tenant_id, m.appointment_id, a.external_id, a.status as appointment_status, a.outcome, a.phone, m.kind,
               m.only_if_unconfirmed, m.attempts, a.starts_at as starts_at_utc, m.plan_version, m.status, t.settings::text as settings,
               a.service, a.mode, a.location_name, a.location_address, a.location_phone, a.language, a.variant
        from messages m join appointments a on a.id = m.appointment_id join tenants t on t.id = m.tenant_id
        where m.id = @messageId and m.channel = 'voice'
        """;

    // A call whose appointment is gone is answered in French, the tenant's language of record.
    private static readonly Language French = Languages.Fr;

    private static IResult Twiml(VoiceResponse response) => TypedResults.Text(response.ToString(), "text/xml; charset=utf-8");
}
