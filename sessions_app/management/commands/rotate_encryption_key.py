from django.core.management.base import BaseCommand
from django.db import transaction

from sessions_app import crypto
from sessions_app.models import Partner


class Command(BaseCommand):
    help = "Re-encrypt every stored API key with the first key of FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        with transaction.atomic():
            partners = list(Partner.objects.select_for_update().exclude(api_key_encrypted=""))
            for partner in partners:
                partner.api_key_encrypted = crypto.rotate(partner.api_key_encrypted)
            Partner.objects.bulk_update(partners, ["api_key_encrypted"])
        self.stdout.write(f"Re-encrypted {len(partners)} API keys with the current key.")
