"""Pure analysis of simulation output: statistics, OEE and bottleneck detection."""
