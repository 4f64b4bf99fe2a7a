"""The flows, their command line, and the one place that chooses the target."""
