"""Domain errors of the rbac app."""

from rest_framework import status

from core.errors import Conflict, DomainError, Forbidden, NotFound


class InvalidRule(DomainError):
    code = "invalid"
    default_message = "The request contains invalid data."


class RoleCycle(DomainError):
    code = "role_cycle"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "A role cannot inherit from itself or from one of its descendants."


class SystemRoleProtected(Conflict):
    code = "system_role"
    default_message = "Default roles cannot be renamed or deleted."


class InUse(Conflict):
    code = "in_use"


class AlreadyExists(Conflict):
    code = "already_exists"


class NotAMember(DomainError):
    code = "not_a_member"
    default_message = "The user is not a member of this workspace."


class Escalation(Forbidden):
    code = "escalation"
    default_message = "You cannot grant a permission you do not hold."


class RbacNotFound(NotFound):
    pass


class PermissionDenied(Forbidden):
    code = "permission_denied"
