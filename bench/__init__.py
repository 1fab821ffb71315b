"""Measurements of the running product: the load generator, `make bench`, `make soak`, `make wer`,
perf_analyzer's driver, and the processes they and the tests start."""
