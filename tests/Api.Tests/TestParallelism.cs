// Most tests here wait (on PostgreSQL, a fake Twilio, a child process), not compute: on a 2-core machine
// xunit's default of one test class per core leaves the machine idle. Their waits are bounded by events
// or injected clocks, never by a stopwatch, so more classes at once change their speed, not their results.
[assembly: CollectionBehavior(MaxParallelThreads = 8)]
