"""Periodic work of the accounts app (created by `manage.py setup_schedules`)."""

from tenants.schedules import Periodic, register

# Sessions and tokens live in the public schema: one run covers every tenant.
register(Periodic("Expired sessions and tokens cleanup", "accounts.cleanup", 3600, queue="low"))
