"""View points: a ledger credited once per (user, video)."""
