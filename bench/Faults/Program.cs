using RappelRdv.Bench.Faults;
using RappelRdv.Bench.ScaleOut;

// bench/faults.sh starts PostgreSQL, an Api and two Workers, and drives this program:
//   twilio --urls URL                   a Twilio that can fail (POST /faults to set its faults)
//   tenant --api URL --admin-key KEY    creates the tenant, prints its apiKey
//   load --api URL --key KEY --count N [--calls-every K]   appointments whose reminder is due at once
//   wait --sent N [--timeout S]         until N reminders are sent (or S seconds)
//   report --count N --fault-at UNIX --twilio URL [--timeout S] [--first-pass 1]   "lost L, duplicated D, recovered in T s"
//                                       (--first-pass: the rate of the first N requests to Twilio)
//   flood --api URL --key KEY --clients 64 --seconds S   PUTs while the database is paused, then checks every 2xx
//   isolation --api URL --admin-key KEY --key KEY --twilio-token T --public-base-url URL [--agenda-port P]
//             [--waves 4 --wave-size 50 --wave-seconds 90 --drip-seconds 5 --stall-minutes 10 --citizens 300]
//                                       a slow tenant's agenda stalls while the other tenant's waves must leave on time
//   refused-calls --api URL --key KEY --twilio URL [--timeout 360]   the first call to each of two citizens refused (500, not placed)
return args.FirstOrDefault() switch
{
    "twilio" => await FaultyTwilio.RunAsync(args[1..]),
    "tenant" => await Load.TenantAsync(Arguments.Parse(args[1..])),
    "load" => await Load.AppointmentsAsync(Arguments.Parse(args[1..])),
    "flood" => await Load.FloodAsync(Arguments.Parse(args[1..])),
    "wait" => await Watch.WaitAsync(Arguments.Parse(args[1..])),
    "report" => await Watch.ReportAsync(Arguments.Parse(args[1..])),
    "isolation" => await Isolation.RunAsync(Arguments.Parse(args[1..])),
    "refused-calls" => await RefusedCalls.RunAsync(Arguments.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Faults twilio|tenant|load|flood|wait|report|isolation|refused-calls … (see bench/faults.sh)");
    return 2;
}
