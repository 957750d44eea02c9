"""Numba kernels: pure functions on arrays, each with a plain-Python reference.

- `flowline`: one replication of a line of stations (max-plus recursion for single
  machines, an event kernel in SimPy's event order for parallel machines).
- `stats`: time-weighted statistics from state-change arrays, MSER-5, batch means.

Kernels import only numpy and numba; the engines and analysis turn models into arrays.
"""
