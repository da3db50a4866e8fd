"""Embedded-mode adapters: in-process stand-ins for the Redis-backed ones."""
