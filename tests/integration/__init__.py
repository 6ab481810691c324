"""Integration tests: the SDK against the fake Pleo server, in-process and over loopback TCP."""
