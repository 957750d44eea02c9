"""Scenario files: loading, validation and the schema."""
