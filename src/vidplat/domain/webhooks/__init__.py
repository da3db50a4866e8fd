"""Webhooks: endpoints per organization, events written in the transaction that causes them, signed delivery."""
