using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace RappelRdv.Api.Tests;

/// <summary>A dashboard page as a manager's browser gets it: signed in with the key, the HTML decoded.</summary>
internal static class DashboardPages
{
    public static async Task<string> GetAsync(ApiFactory api, string managerKey, string path = "/dashboard")
    {
        var browser = api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var login = new HttpRequestMessage(HttpMethod.Post, "/dashboard/login")
        {
            Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("key", managerKey)]),
        };
        login.Headers.Add("Origin", "http://localhost");
        var session = await browser.SendAsync(login);
        var page = new HttpRequestMessage(HttpMethod.Get, path);
        page.Headers.Add("Cookie", Assert.Single(session.Headers.GetValues("Set-Cookie")).Split(';')[0]);
        var response = await browser.SendAsync(page);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }
}
