"""The benchmark of issue 7: `make bench` (see bench/README.md); never imported by the app."""
