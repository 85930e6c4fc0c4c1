"""Password rules beyond Django's validators."""

from django.core.exceptions import ValidationError


class LettersAndDigitsValidator:
    """A password must contain at least one letter and one digit."""

    def validate(self, password: str, user=None) -> None:
        if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
            raise ValidationError(
                "The password must contain at least one letter and one digit.",
                code="password_letters_and_digits",
            )

    def get_help_text(self) -> str:
        return "Your password must contain at least one letter and one digit."
