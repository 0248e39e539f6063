"""parlour's benchmark suite: measures the server against raw baselines; never asserts a time.

Run it with `tools/bench/run` (see tools/bench/README.md). The load generator is this
package, in its own process; every server it measures (parlour, the baselines) is another.
"""
