"""Helpers for tests: local fakes of outside services (Telegram, Zalo)."""
