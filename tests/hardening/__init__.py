"""Hardening: tenant isolation, API fuzzing, faults, abuse inputs, tokens and security headers."""
