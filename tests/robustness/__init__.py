"""Robustness tests: property-based fuzzing of every input path and output, hostile inputs, resource bounds."""
