// Package bench holds bangban's benchmarks that need more than one package: the cost of
// the fake Bot APIs a load test can use (go test -bench . ./bench), the over-the-network
// intake benchmark (go run ./bench/intake) and the end-to-end open-loop script (e2e.sh).
// BENCHMARKS.md at the repository root has the figures and the commands behind them.
package bench
