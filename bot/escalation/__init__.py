"""Escalation to the women's support service: routes, alerts, repeats, staff actions."""
