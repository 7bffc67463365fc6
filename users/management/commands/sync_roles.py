from django.core.management.base import BaseCommand

from users.roles import ROLES, sync_roles


class Command(BaseCommand):
    help = "Create the staff role groups and set their permissions from users/roles.py."

    def handle(self, *args, **options):
        sync_roles()
        self.stdout.write(f"Synced {len(ROLES)} roles.")
