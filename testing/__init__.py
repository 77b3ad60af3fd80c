"""Development tools kept outside the shipped package: the workload simulator and its worlds."""
