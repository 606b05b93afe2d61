using System.Security.Cryptography;
using System.Text;

namespace RappelRdv.Reminders.Twilio;

/// <summary>
/// The URLs given to Twilio. A call's TwiML URL carries a token derived from the message id
/// and the auth token, so that nobody can guess another citizen's call script from an id.
/// </summary>
public sealed class CallbackUrls(Uri publicBaseUrl, string signingKey)
{
    public const string SmsStatusPath = "/twilio/sms/status";

    public Uri SmsStatus => new(publicBaseUrl, SmsStatusPath);

    /// <summary>
    /// The status callback of one SMS: it names the message, so that Twilio's first callback records
    /// the SID even when its answer to the send was lost (the signature covers the query).
    /// </summary>
    public Uri SmsStatusOf(Guid messageId) => new(publicBaseUrl, $"/twilio/sms/status?m={messageId:N}");

    public Uri SmsInbound => new(publicBaseUrl, "/twilio/sms/inbound");

    public Uri VoiceScript(Guid messageId) => new(publicBaseUrl, $"/twilio/voice/{messageId:N}/{Token(messageId)}");

    public Uri VoiceStatus(Guid messageId) => new(publicBaseUrl, $"/twilio/voice/{messageId:N}/{Token(messageId)}/status");

    public string Token(Guid messageId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingKey), messageId.ToByteArray()))[..32];

    public bool IsValidToken(Guid messageId, string token) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Token(messageId)), Encoding.ASCII.GetBytes(token));
}
