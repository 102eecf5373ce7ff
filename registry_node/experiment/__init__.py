"""`ipreg experiment`: the task force's harness — a consortium of real processes driven by a seeded
workload, with faults injected on purpose, checked against the chain and reported with figures and plots."""
