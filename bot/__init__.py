"""The I/O shell around the pure core: config, store, channels, outbox, CLI."""
