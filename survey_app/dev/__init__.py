"""Developer tools: synthetic data for demonstrations, tests and benchmarks."""
