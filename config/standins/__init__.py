"""Local stand-ins for outside services (used by `make run`, the tests and the benchmarks)."""
