"""JWT issuing: every token is bound to the tenant (schema) it was issued for."""

from rest_framework_simplejwt.tokens import RefreshToken

TENANT_CLAIM = "tenant"


def tokens_for_user(*, user, tenant) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    refresh[TENANT_CLAIM] = tenant.schema_name
    return {"access": str(refresh.access_token), "refresh": str(refresh)}
