using System.Globalization;
using Dapper;
using Npgsql;
using RappelRdv.Reminders.Phones;
using RappelRdv.Reminders.Replies;
using RappelRdv.Reminders.Texts;
using RappelRdv.Reminders.Twilio;
using Twilio.TwiML;

namespace RappelRdv.Api.Twilio;

/// <summary>
/// <c>POST /twilio/sms/inbound</c>: a citizen's SMS, answered at once with TwiML. Both are Twilio
/// resources we caused: the inbound SMS is kept by its reply row (erased with the appointment) or,
/// taken by none, deleted at Twilio soon; the answer's SID comes back to <see cref="AnswerSent"/>
/// (the TwiML's <c>action</c>), which records it the same way.
/// </summary>
internal static class SmsInbound
{
    public const string AnswerStatusPath = "/twilio/sms/answer-status";

    public static async Task<IResult> Handle(
        HttpRequest request, CitizenAnswers answers, CallbackUrls urls, NpgsqlDataSource db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var body = form["Body"].ToString();
        var sid = form["MessageSid"].ToString();
        var result = FrenchPhone.TryParse(form["From"].ToString(), out var from) && !string.IsNullOrEmpty(sid)
            ? await answers.SmsReplyAsync(from.E164, body, sid, cancellationToken)
            : new ReplyResult(ReplyEffect.Nothing);
        await TwilioSids.ForgetUnlessKeptAsync(db, sid, clock.GetUtcNow());
        return Twiml(Answer(result), AnswerStatus(urls, result.AppointmentId));
    }

    /// <summary>
    /// <c>POST /twilio/sms/answer-status?a=…</c>: Twilio's status of the SMS our TwiML made, with its SID. The
    /// appointment is in the URL we gave, which Twilio's signature covers: nobody else can attach a SID to one.
    /// </summary>
    public static async Task<IResult> AnswerSent(HttpRequest request, NpgsqlDataSource db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        long? appointmentId = long.TryParse(request.Query["a"], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The appointment's row lock, as erasure takes it: the SID is recorded before an erasure or handed over after it.
        await connection.ExecuteAsync("select 1 from appointments where id = @appointmentId for update", new { appointmentId }, transaction);
        await TwilioSids.RecordAsync(connection, transaction, form["MessageSid"].ToString(), appointmentId, clock.GetUtcNow());
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok();
    }

    private static Uri AnswerStatus(CallbackUrls urls, long? appointmentId) =>
        new(urls.SmsInbound, appointmentId is { } id ? string.Create(CultureInfo.InvariantCulture, $"{AnswerStatusPath}?a={id}") : AnswerStatusPath);

    private static string? Answer(ReplyResult result) => result.Effect switch
    {
        ReplyEffect.Confirmed => SmsTexts.Confirmed(result.Appointment!),
        ReplyEffect.Cancelled => SmsTexts.Cancelled(result.Appointment!),
        ReplyEffect.RescheduleRequested => SmsTexts.RescheduleRequested(result.Appointment!),
        ReplyEffect.TooLate => SmsTexts.TooLate(result.Appointment!),
        ReplyEffect.OptedOut => SmsTexts.OptedOut(result.Appointment?.Language),
        ReplyEffect.OptedIn => SmsTexts.OptedIn(result.Appointment?.Language),
        ReplyEffect.Help => SmsTexts.Help(result.Appointment?.Language),
        _ => null,
    };

    private static IResult Twiml(string? answer, Uri answerStatus)
    {
        var response = new MessagingResponse();
        if (answer is not null)
        {
            response.Message(answer, action: answerStatus, method: global::Twilio.Http.HttpMethod.Post);
        }

        return TypedResults.Text(response.ToString(), "text/xml; charset=utf-8");
    }
}
