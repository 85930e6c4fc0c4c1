"""REST authentication: a Bearer JWT that is valid only on the tenant host it was issued for."""

from django.db import connection
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.tokens import TENANT_CLAIM


class TenantJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        if token.get(TENANT_CLAIM) != connection.schema_name:
            raise AuthenticationFailed(
                "This token was issued for another workspace.", code="token_wrong_tenant"
            )
        return token
