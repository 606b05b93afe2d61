using System.Security.Cryptography;
using System.Text;

namespace RappelRdv.TestSupport;

/// <summary>Signs a request the way Twilio does: Base64(HMAC-SHA1(token, url + each key and value, keys sorted)).</summary>
public static class TwilioSigner
{
    public static string Sign(string authToken, string url, IReadOnlyDictionary<string, string> form)
    {
        var data = new StringBuilder(url);
        foreach (var key in form.Keys.Order(StringComparer.Ordinal))
        {
            data.Append(key).Append(form[key]);
        }

        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }

    public static HttpRequestMessage SignedPost(string publicBaseUrl, string path, Dictionary<string, string> form, string authToken = FakeTwilio.AuthToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", Sign(authToken, publicBaseUrl.TrimEnd('/') + path, form));
        return request;
    }
}
