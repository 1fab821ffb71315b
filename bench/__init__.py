"""Measurements of the running product: the load generator, `make bench` and `make soak`."""
