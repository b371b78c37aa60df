"""The malformed scenario files are test data for the loader and the CLI, not tests to collect."""

collect_ignore = ["malformed"]
