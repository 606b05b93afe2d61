using RappelRdv.Bench.ScaleOut;

// bench/scale-out.sh starts PostgreSQL, the Apis and the Workers, then this program twice:
//   fake-twilio --urls http://127.0.0.1:PORT     Twilio's Messages API, recording each request
//   drive --apis URL,URL --twilio URL --admin-key KEY [--count 5000] [--timeout 900] [--concurrency 16]
//         pushes appointments, waits for the reminders, checks each went out exactly once.
return args.FirstOrDefault() switch
{
    "fake-twilio" => await FakeTwilio.RunAsync(args[1..]),
    "drive" => await Driver.RunAsync(Arguments.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ScaleOut fake-twilio --urls URL | drive --apis URL,URL --twilio URL --admin-key KEY [--count N] [--timeout S] [--concurrency C]");
    return 2;
}
