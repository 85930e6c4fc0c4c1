"""Periodic work of the uploads app, run in every tenant (rows made by `setup_schedules`)."""

from tenants.schedules import Periodic, register

register(Periodic("Delete expired files", "uploads.delete_expired_files", 3600, per_tenant=True))
register(
    Periodic(
        "Abort abandoned multipart uploads",
        "uploads.abort_abandoned_uploads",
        3600,
        per_tenant=True,
    )
)
