using RappelRdv.Bench;

// Each benchmark talks only to 127.0.0.1 and stops by itself (bounded counts and timeouts).
return args.FirstOrDefault() switch
{
    "intake" => await Intake.RunAsync(args[1..]),
    "fake-twilio" => await FakeTwilioServer.RunAsync(args[1..]),
    "dispatch-report" => await DispatchReport.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: RappelRdv.Bench intake --api http://127.0.0.1:5080 --key <apiKey> [--count 20000] [--concurrency 16]
               RappelRdv.Bench fake-twilio --port 5099 [--latency-ms 50] [--seconds 900]
               RappelRdv.Bench dispatch-report --db <connection string> --expected 20000 [--timeout-seconds 600]
        """);
    return 2;
}
