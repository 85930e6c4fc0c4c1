"""Password hashing: Argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane).

Django's defaults (100 MiB, 8 lanes) make a sign-in cost ~100 MiB and most of a CPU, so a few
concurrent sign-ins exhaust a web worker. Hashes made with other parameters still verify and are
re-hashed with these at the user's next successful sign-in (Django's must_update).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class PlatformArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
