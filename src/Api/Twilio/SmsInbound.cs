using RappelRdv.Api.Replies;
using RappelRdv.Reminders.Phones;
using RappelRdv.Reminders.Texts;
using Twilio.TwiML;

namespace RappelRdv.Api.Twilio;

/// <summary><c>POST /twilio/sms/inbound</c>: a citizen's SMS, answered at once with TwiML.</summary>
internal static class SmsInbound
{
    public static async Task<IResult> Handle(HttpRequest request, ReplyHandler replies, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var body = form["Body"].ToString();
        var sid = form["MessageSid"].ToString();
        if (!FrenchPhone.TryParse(form["From"].ToString(), out var from) || string.IsNullOrEmpty(sid))
        {
            return Twiml(null);
        }

        var result = await replies.HandleSmsAsync(from.E164, body, sid, cancellationToken);
        return Twiml(Answer(result));
    }

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

    private static IResult Twiml(string? answer)
    {
        var response = new MessagingResponse();
        if (answer is not null)
        {
            response.Message(answer);
        }

        return TypedResults.Text(response.ToString(), "text/xml; charset=utf-8");
    }
}
