package registration_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// BenchmarkSignup is the sign-up path below HTTP: 128 goroutines per core
// sign up for one event (capacity a quarter of them, so most join the
// waitlist), with the app's outbox writing each one's email. "batched" is
// the service as it runs; "one-per-tx" writes each sign-up in a
// transaction of its own. Profile with -cpuprofile; docs/performance.md.
func BenchmarkSignup(b *testing.B) {
	for _, mode := range []string{"batched", "one-per-tx"} {
		b.Run(mode, func(b *testing.B) {
			var opts []testapp.Option
			if mode == "one-per-tx" {
				opts = append(opts, testapp.OnePerTx)
			}
			a := testapp.New(b, opts...)
			o := a.Org(b, "miso")
			a.Event(b, o, "rush", func(in *event.Input) { in.Capacity = event.Some(b.N/4 + 1) })
			var seq atomic.Int64
			b.SetParallelism(128)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					_, err := a.Registrations.SignUp(context.Background(), "rush", registration.SignupInput{
						Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.org", i), PartySize: 1, Consent: true,
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signups/s")
			if batches, signups := a.Registrations.BatchStats(); batches > 0 {
				b.ReportMetric(float64(signups)/float64(batches), "signups/tx")
			}
		})
	}
}
