"""Input validation and output shapes of the accounts API."""

from rest_framework import serializers

from accounts.models import Session, User

PASSWORD_MAX = 128


def _password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=PASSWORD_MAX, trim_whitespace=False, **kwargs)


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = _password_field()
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = _password_field()


class LoginMfaSerializer(serializers.Serializer):
    mfa_token = serializers.CharField(max_length=500)
    code = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    recovery_code = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs):
        if bool(attrs["code"]) == bool(attrs["recovery_code"]):
            raise serializers.ValidationError(
                {"code": ["Give either a code from the authenticator app or a recovery code."]}
            )
        return attrs


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2000)


class PasswordResetSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    password = _password_field()


class PasswordChangeSerializer(serializers.Serializer):
    current_password = _password_field()
    new_password = _password_field()


class PasswordSerializer(serializers.Serializer):
    password = _password_field()


class TotpCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=10)


class UserSerializer(serializers.ModelSerializer):
    email_verified = serializers.SerializerMethodField()
    mfa_enabled = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "name", "email_verified", "mfa_enabled", "date_joined"]
        read_only_fields = fields

    def get_email_verified(self, user) -> bool:
        return user.email_verified_at is not None

    def get_mfa_enabled(self, user) -> bool:
        return bool(self.context.get("mfa_enabled", False))


class UserUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, allow_blank=True)


class SessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id",
            "user_agent",
            "ip_address",
            "created_at",
            "last_activity_at",
            "expires_at",
            "mfa_verified",
            "current",
        ]
        read_only_fields = fields

    def get_current(self, session) -> bool:
        return str(session.pk) == str(self.context.get("current_session_id"))


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    session = SessionSerializer()


class LoginResponseSerializer(serializers.Serializer):
    access = serializers.CharField(required=False)
    refresh = serializers.CharField(required=False)
    session = SessionSerializer(required=False)
    user = UserSerializer(required=False)
    mfa_required = serializers.BooleanField()
    mfa_token = serializers.CharField(required=False)


class TotpEnrollResponseSerializer(serializers.Serializer):
    secret = serializers.CharField()
    otpauth_uri = serializers.CharField()


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(child=serializers.CharField())


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
