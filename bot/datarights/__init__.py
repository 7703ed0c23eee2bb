"""Her data, her rules: consent, withdrawal, erasure, retention, key rotation, exports."""
