"""Admin building blocks shared by the kernel and the stages."""


class ReadOnlyAdminMixin:
    """For records that only services change (events, deadlines, notifications, customers)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
