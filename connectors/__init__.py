"""Rasa input channels: REST (with guards), and later Telegram, Zalo and the web widget."""
