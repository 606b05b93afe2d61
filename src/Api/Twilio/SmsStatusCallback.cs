using RappelRdv.Reminders.Replies;

namespace RappelRdv.Api.Twilio;

/// <summary><c>POST /twilio/sms/status</c>: Twilio tells how an SMS fared; <see cref="CitizenAnswers.SmsStatusAsync"/> applies it.</summary>
internal static class SmsStatusCallback
{
    public static async Task<IResult> Handle(HttpRequest request, CitizenAnswers answers, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var sid = form["MessageSid"].ToString();
        int? code = int.TryParse(form["ErrorCode"], out var parsed) ? parsed : null;
        if (string.IsNullOrEmpty(sid))
        {
            return TypedResults.Problem(statusCode: 400, title: "MessageSid is required");
        }

        // The callback URL of a message sent since 0007 names it (?m=): no need to wait for its SID.
        Guid? messageId = Guid.TryParseExact(request.Query["m"].ToString(), "N", out var parsedId) ? parsedId : null;
        await answers.SmsStatusAsync(sid, messageId, form["MessageStatus"].ToString(), code, cancellationToken);
        return TypedResults.Ok();
    }
}
