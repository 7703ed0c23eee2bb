"""Channels: console, Telegram, SMS. Each implements ``base.Channel``; none imports the service."""
