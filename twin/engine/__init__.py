"""The SimPy engine: builds processes from a Model and runs one replication."""
