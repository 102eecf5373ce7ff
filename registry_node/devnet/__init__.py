"""Local chains and whole consortia on one machine: what the demo, the experiments, the benchmarks and the
tests start."""
