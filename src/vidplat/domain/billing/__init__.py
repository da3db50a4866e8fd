"""Plans, subscriptions and their expiry."""
