"""Benchmarks: each compares against a named peer or limit in the same run and prints ratios.

Not part of the test command (timings on a shared 2-core machine are not assertions).
"""
